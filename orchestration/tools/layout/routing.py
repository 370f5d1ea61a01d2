"""Routing the sequence flows of one placed container.

Each flow leaves and enters its shapes through a port on one of their sides, chosen by cost:
flows run left to right, a gateway's branches may leave from its top and bottom, a flow from
a boundary event drops down, and one port is not shared by flows it would make unreadable.
Short forward flows are routed first; the rest go round what is already drawn.
"""

from __future__ import annotations

from orchestration.tools.layout.geometry import Point, Rect, simplify
from orchestration.tools.layout.graph import Flow, Node
from orchestration.tools.layout.placement import Placement
from orchestration.tools.layout.router import OPPOSITE, SIDE_DIR, Router

MARGIN = 12  # clearance kept around shapes
OUT_SIDE_COST = {"E": 0.0, "S": 20.0, "N": 20.0, "W": 100.0}
IN_SIDE_COST = {"W": 0.0, "N": 20.0, "S": 20.0, "E": 100.0}
GATEWAY_BRANCH_SIDE_COST = 10.0
PORT_MIXED_COST = 80.0  # one port used for both incoming and outgoing flows reads as a single line
PORT_SHARED_OUT_COST = 200.0  # two outgoing flows on one port hide where they split


def route_flows(placement: Placement) -> None:
    """Give every sequence flow of the placed container its waypoints."""
    graph = placement.graph
    shapes = [n.rect for n in graph.nodes.values()]
    inflated = [r.inflate(MARGIN) for r in shapes]
    area = placement.rect
    if placement.pooled or graph.leaves:
        inner_x = area.x + placement.header_w + 4
        bounds = Rect(inner_x, area.y + 4, area.x2 - 4 - inner_x, area.h - 8)
    else:
        bounds = area
    xs: list[int] = []
    ys: list[int] = []
    for r in inflated:
        xs += [r.x, r.x2, r.cx]
        ys += [r.y, r.y2, r.cy]
    lane_lines = [b.y for b in placement.band_rects[1:]]
    for b in placement.band_rects:
        # Channels just inside each lane, far enough from its border to read as separate lines.
        ys += [b.y + 20, b.y2 - 20]
    router = Router(inflated, bounds, xs, ys, lane_lines)
    usage: dict[tuple[str, str], dict[str, int]] = {}

    def span(f: Flow) -> tuple[bool, int, int, int]:
        s, t = graph.nodes[graph.anchor(f.source)], graph.nodes[f.target]
        return (f.back, abs(t.layer - s.layer), abs(t.band - s.band), f.index)

    for f in sorted(graph.flows, key=span):
        source, target = graph.nodes[f.source], graph.nodes[f.target]
        key = (f.source, f.target)
        starts = _ports(router, source, True, usage)
        goals = _ports(router, target, False, usage)
        path = router.route(
            [(stub, d, cost) for _, _, stub, d, cost in starts],
            [(stub, OPPOSITE[d], cost) for _, _, stub, d, cost in goals],
            key,
        )
        if path is None:
            f.points = _fallback_route(source.rect, target.rect)
            continue
        start = next(s for s in starts if s[2] == path[0])
        goal = next(g for g in goals if g[2] == path[-1])
        f.points = simplify([start[1], *path, goal[1]])
        router.commit(path, key)
        usage.setdefault((source.id, start[0]), {}).setdefault("out", 0)
        usage[(source.id, start[0])]["out"] += 1
        usage.setdefault((target.id, goal[0]), {}).setdefault("in", 0)
        usage[(target.id, goal[0])]["in"] += 1


def _ports(
    router: Router,
    node: Node,
    outgoing: bool,
    usage: dict[tuple[str, str], dict[str, int]],
) -> list[tuple[str, Point, Point, int, float]]:
    """Candidate ports as (side, point on the border, point just outside, direction, cost)."""
    r = node.rect
    ports = {
        "E": ((r.x2, r.cy), (r.x2 + MARGIN, r.cy)),
        "S": ((r.cx, r.y2), (r.cx, r.y2 + MARGIN)),
        "W": ((r.x, r.cy), (r.x - MARGIN, r.cy)),
        "N": ((r.cx, r.y), (r.cx, r.y - MARGIN)),
    }
    sides = ["S"] if outgoing and node.host else list(ports)
    out = []
    for side in sides:
        port, stub = ports[side]
        if not router.free(stub):
            continue
        cost = (OUT_SIDE_COST if outgoing else IN_SIDE_COST)[side]
        if node.kind == "gateway" and outgoing and side in ("N", "S"):
            cost = GATEWAY_BRANCH_SIDE_COST
        used = usage.get((node.id, side), {})
        if used.get("in" if outgoing else "out"):
            cost += PORT_MIXED_COST
        if outgoing and used.get("out"):
            cost += PORT_SHARED_OUT_COST
        out.append((side, port, stub, SIDE_DIR[side], cost))
    return out


def _fallback_route(a: Rect, b: Rect) -> list[Point]:
    """When the search finds no way: from the right of ``a`` to the left of ``b``, across what is between."""
    mid = (a.x2 + b.x) // 2
    return simplify([(a.x2, a.cy), (mid, a.cy), (mid, b.cy), (b.x, b.cy)])
