"""The diagrams of a BPMN document, computed but not yet written.

A collaboration is one diagram: its pools stacked top to bottom, all as wide as the widest,
with the message flows between them.  A process outside any collaboration, and every
sub-process, is a diagram of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from orchestration.domain.bpmn import SUBPROCESS_TAGS
from orchestration.tools.layout.geometry import Point, Rect, simplify
from orchestration.tools.layout.graph import Lane, bpmn, name_of, read_graph, read_lanes, walk_lanes
from orchestration.tools.layout.labels import place_labels
from orchestration.tools.layout.placement import Placement
from orchestration.tools.layout.ranking import rank
from orchestration.tools.layout.routing import route_flows
from orchestration.tools.layout.text import label_size

POOL_GAP = 60
ORIGIN = (160, 80)
BLACKBOX_POOL_H = 100
HORIZONTAL = (("isHorizontal", "true"),)


@dataclass
class ShapeOut:
    element: str
    rect: Rect
    attrs: tuple[tuple[str, str], ...] = ()
    label: Rect | None = None


@dataclass
class EdgeOut:
    element: str
    points: list[Point]
    label: Rect | None = None


@dataclass
class DiagramOut:
    element: str
    shapes: list[ShapeOut] = field(default_factory=list)
    edges: list[EdgeOut] = field(default_factory=list)


@dataclass(frozen=True)
class _End:
    """One end of a message flow: its shape, the pool around it, whether it is the pool."""

    rect: Rect
    pool: Rect
    is_pool: bool


def layout_diagrams(root: etree._Element) -> list[DiagramOut]:
    """Lay out every process of the document ``root``, and every sub-process in them."""
    processes = {p.get("id"): p for p in root.findall(bpmn("process"))}
    collaboration = next(
        (c for c in root.findall(bpmn("collaboration")) if c.find(bpmn("participant")) is not None), None
    )
    diagrams: list[DiagramOut] = []
    pending: list[etree._Element] = []
    if collaboration is not None:
        diagram, pending = _collaboration_diagram(collaboration, processes)
        diagrams.append(diagram)
    else:
        pending += processes.values()
    while pending:
        container = pending.pop(0)
        pooled_lanes = read_lanes(container) if etree.QName(container).localname == "process" else []
        layout = _ranked(container, pooled_lanes, pooled=False)
        layout.place(*ORIGIN, layout.required_width())
        route_flows(layout)
        place_labels(layout, [])
        diagram = DiagramOut(container.get("id", ""))
        _draw(diagram, layout)
        diagrams.append(diagram)
        pending += layout.graph.subprocesses
    return diagrams


def _collaboration_diagram(
    collaboration: etree._Element, processes: dict[str | None, etree._Element]
) -> tuple[DiagramOut, list[etree._Element]]:
    """The diagram of the collaboration, and the sub-processes of its pools, which it leaves out."""
    x0, y = ORIGIN
    diagram = DiagramOut(collaboration.get("id", ""))
    subprocesses: list[etree._Element] = []
    pools: list[tuple[etree._Element, Placement | None]] = []
    for participant in collaboration.findall(bpmn("participant")):
        process = processes.get(participant.get("processRef"))
        layout = None if process is None else _ranked(process, read_lanes(process), pooled=True)
        pools.append((participant, layout))
    width = max((lay.required_width() for _, lay in pools if lay), default=600)
    placed: dict[str, Rect] = {}
    pool_of: dict[str, Rect] = {}
    taken: list[Rect] = []
    for participant, layout in pools:
        if layout is None:
            rect = Rect(x0, y, width, BLACKBOX_POOL_H)
        else:
            layout.place(x0, y, width)
            route_flows(layout)
            place_labels(layout, taken)
            rect = layout.rect
            subprocesses += layout.graph.subprocesses
        participant_id = participant.get("id", "")
        diagram.shapes.append(ShapeOut(participant_id, rect, HORIZONTAL))
        placed[participant_id] = rect
        pool_of[participant_id] = rect
        if layout is not None:
            _draw(diagram, layout)
            placed.update({lane.id: lane.rect for lane in walk_lanes(layout.graph.lanes)})
            placed.update({n.id: n.rect for n in layout.graph.nodes.values()})
            pool_of.update({n.id: rect for n in layout.graph.nodes.values()})
        y = rect.y2 + POOL_GAP
    for flow in collaboration.findall(bpmn("messageFlow")):
        source, target = flow.get("sourceRef", ""), flow.get("targetRef", "")
        if source not in pool_of or target not in pool_of or not flow.get("id"):
            continue
        ends = [_End(placed[ref], pool_of[ref], placed[ref] == pool_of[ref]) for ref in (source, target)]
        edge = _message_flow(flow.get("id", ""), ends[0], ends[1], name_of(flow))
        if edge is not None:
            diagram.edges.append(edge)
    return diagram, subprocesses


def _ranked(container: etree._Element, lanes: list[Lane], pooled: bool) -> Placement:
    """The container read and ranked, ready to be placed."""
    graph = read_graph(container, lanes)
    return Placement(graph, rank(graph), pooled)


def _draw(diagram: DiagramOut, layout: Placement) -> None:
    """Add the lanes, nodes and sequence flows of a laid out container to ``diagram``."""
    graph = layout.graph
    for lane in walk_lanes(graph.lanes):
        diagram.shapes.append(ShapeOut(lane.id, lane.rect, HORIZONTAL))
    for node in graph.nodes.values():
        attrs: tuple[tuple[str, str], ...] = ()
        if node.kind == "gateway":
            attrs = (("isMarkerVisible", "true"),)
        elif node.tag in SUBPROCESS_TAGS:
            attrs = (("isExpanded", "false"),)
        diagram.shapes.append(ShapeOut(node.id, node.rect, attrs, node.label))
    diagram.edges += [EdgeOut(f.id, f.points, f.label) for f in graph.flows]


def _message_flow(element: str, a: _End, b: _End, name: str) -> EdgeOut | None:
    """A message flow between two pools: vertical, bending only in the gap between the pools.

    A flow to or from a whole pool attaches at the x of its other end, so it is one
    straight line.  Returns None for flows within one pool, which this layout does
    not route.
    """
    if a.pool == b.pool:
        return None
    down = a.pool.y < b.pool.y
    start_y, end_y = (a.rect.y2, b.rect.y) if down else (a.rect.y, b.rect.y2)
    gap_y = (a.pool.y2 + b.pool.y) // 2 if down else (b.pool.y2 + a.pool.y) // 2
    if a.is_pool and b.is_pool:
        start_x = end_x = (max(a.rect.x, b.rect.x) + min(a.rect.x2, b.rect.x2)) // 2
    elif a.is_pool:
        start_x = end_x = b.rect.cx
    elif b.is_pool:
        start_x = end_x = a.rect.cx
    else:
        start_x, end_x = a.rect.cx, b.rect.cx
    points = simplify([(start_x, start_y), (start_x, gap_y), (end_x, gap_y), (end_x, end_y)])
    label = None
    if name:
        w, h = label_size(name)
        label = Rect(end_x + 6, (gap_y + end_y) // 2 - h // 2, w, h)
    return EdgeOut(element, points, label)
