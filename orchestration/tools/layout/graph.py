"""The process graph as the layout sees it, read from the BPMN XML: lanes, flow nodes and sequence
flows of one container (a process or a sub-process), with the size each node is drawn at."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from lxml import etree

from orchestration.domain.bpmn import BPMN_NS, EVENT_TAGS, GATEWAY_TAGS, SUBPROCESS_TAGS, TASK_TAGS
from orchestration.tools.layout.geometry import Point, Rect

TASK_W, TASK_H = 100, 80
GATEWAY_SIZE = 50
EVENT_SIZE = 36
BOUNDARY_INSET = 8  # distance from a host's corner to its outermost boundary event
BOUNDARY_GAP = 24  # space between boundary events of a widened host, room for their flows
UNPLACED = Rect(0, 0, 0, 0)  # where a shape is until it is placed


def bpmn(local: str) -> str:
    return f"{{{BPMN_NS}}}{local}"


def name_of(el: etree._Element) -> str:
    """The element's name on one line, as a label shows it."""
    return " ".join((el.get("name") or "").split())


@dataclass
class Lane:
    id: str
    name: str
    depth: int
    refs: list[str]
    children: list[Lane] = field(default_factory=list)
    leaves: list[int] = field(default_factory=list)  # indexes of the leaf bands this lane spans
    rect: Rect = UNPLACED


@dataclass
class Node:
    id: str
    tag: str
    name: str
    kind: str  # "task", "gateway" or "event"
    index: int
    w: int
    h: int
    host: str | None = None
    band: int = -1
    layer: int = 0
    row: int = 0
    rect: Rect = UNPLACED
    label: Rect | None = None


@dataclass
class Flow:
    id: str
    name: str
    source: str
    target: str
    index: int
    back: bool = False
    points: list[Point] = field(default_factory=list)
    label: Rect | None = None


@dataclass
class FlowGraph:
    """The flow nodes and sequence flows directly inside one container, and its lanes."""

    lanes: list[Lane]
    leaves: list[Lane]  # the lanes without child lanes, top to bottom: one band each
    nodes: dict[str, Node] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    attached: dict[str, list[str]] = field(default_factory=dict)  # host -> its boundary events
    subprocesses: list[etree._Element] = field(default_factory=list)
    # Flows leaving and entering each node that takes part in the layering; see anchor().
    out: dict[str, list[Flow]] = field(default_factory=dict)
    inc: dict[str, list[Flow]] = field(default_factory=dict)

    @property
    def band_count(self) -> int:
        return max(len(self.leaves), 1)

    @property
    def max_depth(self) -> int:
        return max((lane.depth for lane in self.leaves), default=-1)

    def anchor(self, nid: str) -> str:
        """The node that takes part in the layering: a boundary event counts as its host."""
        return self.nodes[nid].host or nid


def read_lanes(process: etree._Element) -> list[Lane]:
    def read(lane_set: etree._Element | None, depth: int) -> list[Lane]:
        if lane_set is None:
            return []
        lanes = []
        for el in lane_set.findall(bpmn("lane")):
            refs = [(r.text or "").strip() for r in el.findall(bpmn("flowNodeRef"))]
            lane = Lane(el.get("id", ""), name_of(el), depth, refs)
            lane.children = read(el.find(bpmn("childLaneSet")), depth + 1)
            lanes.append(lane)
        return lanes

    return read(process.find(bpmn("laneSet")), 0)


def walk_lanes(lanes: Sequence[Lane]) -> Iterator[Lane]:
    for lane in lanes:
        yield lane
        yield from walk_lanes(lane.children)


def read_graph(container: etree._Element, lanes: list[Lane]) -> FlowGraph:
    """The graph of the elements directly inside ``container``, drawn in ``lanes``."""
    graph = FlowGraph(lanes, [lane for lane in walk_lanes(lanes) if not lane.children])
    for i, lane in enumerate(graph.leaves):
        lane.leaves = [i]
    for lane in walk_lanes(lanes):
        if lane.children:
            lane.leaves = [i for child in lane.children for i in child.leaves]
    _read_nodes(container, graph)
    _attach_boundary_events(graph)
    graph.flows = [f for f in graph.flows if f.source in graph.nodes and f.target in graph.nodes]
    main = [n for n in graph.nodes.values() if n.host is None]
    graph.out = {n.id: [] for n in main}
    graph.inc = {n.id: [] for n in main}
    for f in graph.flows:
        graph.out[graph.anchor(f.source)].append(f)
        graph.inc[graph.anchor(f.target)].append(f)
    return graph


def _read_nodes(container: etree._Element, graph: FlowGraph) -> None:
    for el in container:
        if not isinstance(el.tag, str):
            continue
        qname = etree.QName(el)
        nid = el.get("id")
        if qname.namespace != BPMN_NS or not nid:
            continue
        local = qname.localname
        name = name_of(el)
        if local == "sequenceFlow":
            flow = Flow(nid, name, el.get("sourceRef", ""), el.get("targetRef", ""), len(graph.flows))
            graph.flows.append(flow)
            continue
        if local in TASK_TAGS:
            kind, w, h = "task", TASK_W, TASK_H
            if local in SUBPROCESS_TAGS:
                graph.subprocesses.append(el)
        elif local in GATEWAY_TAGS:
            kind, w, h = "gateway", GATEWAY_SIZE, GATEWAY_SIZE
        elif local in EVENT_TAGS:
            kind, w, h = "event", EVENT_SIZE, EVENT_SIZE
        else:
            continue
        host_ref = el.get("attachedToRef") if local == "boundaryEvent" else None
        graph.nodes[nid] = Node(nid, local, name, kind, len(graph.nodes), w, h, host_ref)


def _attach_boundary_events(graph: FlowGraph) -> None:
    for node in graph.nodes.values():
        attached_to = graph.nodes.get(node.host or "")
        if attached_to is None or attached_to.host is not None:
            node.host = None
        else:
            graph.attached.setdefault(attached_to.id, []).append(node.id)
    for host_id, events in graph.attached.items():
        host = graph.nodes[host_id]
        n = len(events)
        # Only widen a task when its boundary events could not sit side by side
        # otherwise, and then generously, so their flows and labels fit between them.
        if n * EVENT_SIZE + (n + 1) * BOUNDARY_INSET > host.w:
            host.w = n * EVENT_SIZE + (n - 1) * BOUNDARY_GAP + 2 * BOUNDARY_INSET
