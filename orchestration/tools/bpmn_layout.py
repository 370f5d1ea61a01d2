"""Generate the diagram layout (BPMN DI) for the hand-written procedure files.

The BPMN files under ``processes/`` are written by hand as XML, without a
``bpmndi:BPMNDiagram``, and bpmn-js and Camunda Modeler cannot open a file
without one.  :func:`add_layout` computes a layered left-to-right layout and
writes it into the document, leaving every other byte of the file as it was so
that the diff of a re-layout only ever touches the diagram block.  Run it again
(``fangtiao layout FILE...``) after editing a procedure.

Layout outline:

* columns come from longest-path layering over the sequence flows, with back
  edges (found by a DFS from the start events) ignored;
* every lane of the lane set is a horizontal band; a node sits in the band of
  its lane and several nodes of one band in one column are stacked in rows;
* boundary events sit on the bottom edge of their host;
* sequence flows are routed orthogonally by an A* search on a sparse grid
  whose obstacles are the (inflated) shapes, so no flow crosses a shape;
* labels are placed last, each at the candidate spot that collides least with
  what is already drawn.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import math
import re
import sys
import unicodedata
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from orchestration.domain.bpmn import (
    BPMN_NS,
    BPMNDI_NS,
    DC_NS,
    DI_NS,
    EVENT_TAGS,
    GATEWAY_TAGS,
    SUBPROCESS_TAGS,
    TASK_TAGS,
)

# Preferred prefixes are the ones bpmn-js and Camunda Modeler write.
_DEFAULT_PREFIXES = {BPMNDI_NS: "bpmndi", DC_NS: "dc", DI_NS: "di"}

TASK_W, TASK_H = 100, 80
GATEWAY_SIZE = 50
EVENT_SIZE = 36
MAX_ROW_PERMUTATIONS = 720  # beyond this, nodes of a column only swap rows among themselves
BOUNDARY_INSET = 8  # distance from a host's corner to its outermost boundary event
BOUNDARY_GAP = 24  # space between boundary events of a widened host, room for their flows
HEADER_W = 30  # bpmn-js renders pool and lane names in a 30px vertical strip
COL_GAP = 60
MAX_COL_GAP = 130
ROW_PITCH = 150  # a task row plus room below it for boundary events and their labels
BAND_PAD_TOP = 40  # room for labels and flows above the first row of a lane
BAND_PAD_BOTTOM = 60  # room for boundary events of the last row and their labels
PAD_X = 50
POOL_GAP = 60
ORIGIN = (160, 80)
BLACKBOX_POOL_H = 100

# Routing: clearance kept around shapes and the weights of the A* cost.
MARGIN = 12
TRACK_SPACING = 12
MAX_TRACKS = 7
BEND_COST = 25.0
OVERLAP_COST = 6.0  # per px running on top of an unrelated flow
CROSS_COST = 30.0
LANE_LINE_COST = 3.0  # per px running along a lane border, where the line would hide the flow
NEAR_COST = 0.2  # per px running right next to an unrelated flow, which reads as one double line
NEAR_DISTANCE = 16
HUG_COST = 0.5  # per px running at the minimum clearance from a shape, where labels want to be
OUT_SIDE_COST = {"E": 0.0, "S": 20.0, "N": 20.0, "W": 100.0}
IN_SIDE_COST = {"W": 0.0, "N": 20.0, "S": 20.0, "E": 100.0}
GATEWAY_BRANCH_SIDE_COST = 10.0
PORT_MIXED_COST = 80.0  # one port used for both incoming and outgoing flows reads as a single line
PORT_SHARED_OUT_COST = 200.0  # two outgoing flows on one port hide where they split

# Labels: bpmn-js renders external labels in 11px Arial (CJK falls back to a 1em wide font).
LABEL_FONT_PX = 11
LABEL_LINE_H = 14
LABEL_MAX_W = 90

_DIRS = ((1, 0), (0, 1), (-1, 0), (0, -1))  # E, S, W, N as grid steps
_SIDE_DIR = {"E": 0, "S": 1, "W": 2, "N": 3}
_OPPOSITE = {0: 2, 1: 3, 2: 0, 3: 1}

Point = tuple[int, int]


def _bpmn(local: str) -> str:
    return f"{{{BPMN_NS}}}{local}"


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    @property
    def x2(self) -> int:
        return self.x + self.w

    @property
    def y2(self) -> int:
        return self.y + self.h

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2

    def inflate(self, d: int) -> Rect:
        return Rect(self.x - d, self.y - d, self.w + 2 * d, self.h + 2 * d)

    def overlaps(self, other: Rect) -> bool:
        """True when the interiors intersect; touching borders do not count."""
        return self.x < other.x2 and other.x < self.x2 and self.y < other.y2 and other.y < self.y2

    def contains(self, other: Rect) -> bool:
        return self.x <= other.x and self.y <= other.y and other.x2 <= self.x2 and other.y2 <= self.y2


@dataclass
class _Lane:
    id: str
    name: str
    depth: int
    refs: list[str]
    children: list[_Lane] = field(default_factory=list)
    leaves: list[int] = field(default_factory=list)  # indexes of the leaf bands this lane spans
    rect: Rect | None = None


@dataclass
class _Node:
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
    rect: Rect = Rect(0, 0, 0, 0)
    label: Rect | None = None


@dataclass
class _Flow:
    id: str
    name: str
    source: str
    target: str
    index: int
    back: bool = False
    points: list[Point] = field(default_factory=list)
    label: Rect | None = None


@dataclass
class _ShapeOut:
    element: str
    rect: Rect
    attrs: tuple[tuple[str, str], ...] = ()
    label: Rect | None = None


@dataclass
class _EdgeOut:
    element: str
    points: list[Point]
    label: Rect | None = None


@dataclass
class _DiagramOut:
    element: str
    shapes: list[_ShapeOut] = field(default_factory=list)
    edges: list[_EdgeOut] = field(default_factory=list)


# --------------------------------------------------------------------------- labels


def _char_width(ch: str) -> float:
    return LABEL_FONT_PX if unicodedata.east_asian_width(ch) in ("W", "F") else LABEL_FONT_PX * 0.56


def _text_width(text: str) -> float:
    return sum(_char_width(ch) for ch in text)


def _wrapped_size(width: float, lines: int) -> tuple[int, int]:
    if lines <= 1:
        return math.ceil(width) + 4, LABEL_LINE_H
    # diagram-js breaks a long CJK run one character earlier than would fit, so one
    # character of slack keeps the lines balanced instead of leaving a short tail.
    return math.ceil(width / lines + LABEL_FONT_PX), lines * LABEL_LINE_H


def _label_size(text: str) -> tuple[int, int]:
    """Size of the label box; bpmn-js wraps the text at the box width."""
    width = _text_width(text)
    return _wrapped_size(width, math.ceil(width / (LABEL_MAX_W - 2)))


def _label_sizes(text: str) -> list[tuple[int, int]]:
    """The natural label size first, then one more line, for spots too narrow for it."""
    width = _text_width(text)
    lines = math.ceil(width / (LABEL_MAX_W - 2))
    sizes = [_wrapped_size(width, lines)]
    if width >= 5 * LABEL_FONT_PX:
        sizes.append(_wrapped_size(width, lines + 1))
    return sizes


# --------------------------------------------------------------------------- routing


class _Router:
    """Orthogonal A* routing on a sparse grid of candidate x/y tracks."""

    def __init__(
        self,
        obstacles: Sequence[Rect],
        bounds: Rect,
        xs: Iterable[int],
        ys: Iterable[int],
        lane_lines: Sequence[int],
    ) -> None:
        self.xs = _tracks(xs, bounds.x, bounds.x2)
        self.ys = _tracks(ys, bounds.y, bounds.y2)
        self.xi = {v: i for i, v in enumerate(self.xs)}
        self.yi = {v: i for i, v in enumerate(self.ys)}
        nx, ny = len(self.xs), len(self.ys)
        self.nx, self.ny = nx, ny
        self.blocked = bytearray(nx * ny)
        self.hblocked = bytearray(nx * ny)  # segment (ix, iy) -> (ix + 1, iy)
        self.vblocked = bytearray(nx * ny)  # segment (ix, iy) -> (ix, iy + 1)
        for r in obstacles:
            ix0, ix1 = bisect_right(self.xs, r.x), bisect_left(self.xs, r.x2)
            iy0, iy1 = bisect_right(self.ys, r.y), bisect_left(self.ys, r.y2)
            for iy in range(iy0, iy1):
                base = iy * nx
                for ix in range(ix0, ix1):
                    self.blocked[base + ix] = 1
                for ix in range(max(ix0 - 1, 0), min(ix1, nx - 1)):
                    self.hblocked[base + ix] = 1
            for ix in range(ix0, ix1):
                for iy in range(max(iy0 - 1, 0), min(iy1, ny - 1)):
                    self.vblocked[iy * nx + ix] = 1
        # Tracks at exactly the clearance margin of some shape; flows prefer the tracks
        # further out, which keeps the space next to shapes for labels and boundary events.
        x_borders = {v for r in obstacles for v in (r.x, r.x2)}
        y_borders = {v for r in obstacles for v in (r.y, r.y2)}
        self.hug_cols = bytearray(1 if x in x_borders else 0 for x in self.xs)
        self.hug_rows = bytearray(1 if y in y_borders else 0 for y in self.ys)
        self.lane_rows = bytearray(ny)
        for iy, y in enumerate(self.ys):
            if any(abs(y - line) <= 8 for line in lane_lines):
                self.lane_rows[iy] = 1
        # Who already runs where: (source, target) pairs per unit segment / point.
        self.hocc: dict[int, list[tuple[str, str]]] = {}
        self.vocc: dict[int, list[tuple[str, str]]] = {}
        self.hpts: dict[int, list[tuple[str, str]]] = {}
        self.vpts: dict[int, list[tuple[str, str]]] = {}

    def free(self, p: Point) -> bool:
        ix, iy = self.xi.get(p[0]), self.yi.get(p[1])
        return ix is not None and iy is not None and not self.blocked[iy * self.nx + ix]

    def route(
        self,
        starts: Sequence[tuple[Point, int, float]],
        goals: Sequence[tuple[Point, int, float]],
        key: tuple[str, str],
    ) -> list[Point] | None:
        """Cheapest path from one of ``starts`` to one of ``goals``.

        A start is (point, outward direction, cost); a goal is (point, inward
        direction, cost).  The result runs from a start point to a goal point.
        """
        nx = self.nx
        goal_at: dict[int, list[tuple[int, float]]] = {}
        for p, d, cost in goals:
            goal_at.setdefault(self.yi[p[1]] * nx + self.xi[p[0]], []).append((d, cost))
        goal_pts = [p for p, _, _ in goals]
        if not goal_pts or not starts:
            return None

        def heuristic(ix: int, iy: int) -> float:
            x, y = self.xs[ix], self.ys[iy]
            return min(abs(x - gx) + abs(y - gy) for gx, gy in goal_pts)

        best: dict[int, float] = {}
        parent: dict[int, int] = {}
        heap: list[tuple[float, int, float, int]] = []
        counter = 0
        goal_parent: dict[int, int] = {}
        for p, d, cost in starts:
            ix, iy = self.xi[p[0]], self.yi[p[1]]
            state = (iy * nx + ix) * 4 + d
            if cost < best.get(state, math.inf):
                best[state] = cost
                parent[state] = -1
                heapq.heappush(heap, (cost + heuristic(ix, iy), counter, cost, state))
                counter += 1
        while heap:
            _, _, g, state = heapq.heappop(heap)
            if state < 0:
                return self._path(goal_parent[state], parent)
            if g > best.get(state, math.inf):
                continue
            cell, d = divmod(state, 4)
            iy, ix = divmod(cell, nx)
            for din, cost in goal_at.get(cell, ()):
                total = g + cost + (BEND_COST if din != d else 0.0)
                goal_state = -1 - len(goal_parent)
                goal_parent[goal_state] = state
                heapq.heappush(heap, (total, counter, total, goal_state))
                counter += 1
            for nd in (d, (d + 1) % 4, (d + 3) % 4):
                step = self._step(ix, iy, nd, key)
                if step is None:
                    continue
                nix, niy, cost = step
                ng = g + cost + (BEND_COST if nd != d else 0.0)
                nstate = (niy * nx + nix) * 4 + nd
                if ng < best.get(nstate, math.inf):
                    best[nstate] = ng
                    parent[nstate] = state
                    heapq.heappush(heap, (ng + heuristic(nix, niy), counter, ng, nstate))
                    counter += 1
        return None

    def _step(self, ix: int, iy: int, d: int, key: tuple[str, str]) -> tuple[int, int, float] | None:
        nx = self.nx
        dx, dy = _DIRS[d]
        nix, niy = ix + dx, iy + dy
        if not (0 <= nix < nx and 0 <= niy < self.ny) or self.blocked[niy * nx + nix]:
            return None
        if dy == 0:
            seg = iy * nx + min(ix, nix)
            if self.hblocked[seg]:
                return None
            length = abs(self.xs[nix] - self.xs[ix])
            cost = float(length)
            if self.lane_rows[iy]:
                cost += LANE_LINE_COST * length
            if self.hug_rows[iy]:
                cost += HUG_COST * length
            if _foreign(self.hocc.get(seg), key):
                cost += OVERLAP_COST * length
            elif self._crowded(self.hocc, self.ys, iy, seg, nx, key):
                cost += NEAR_COST * length
            if _foreign(self.vpts.get(niy * nx + nix), key):
                cost += CROSS_COST
        else:
            seg = min(iy, niy) * nx + ix
            if self.vblocked[seg]:
                return None
            length = abs(self.ys[niy] - self.ys[iy])
            cost = float(length)
            if self.hug_cols[ix]:
                cost += HUG_COST * length
            if _foreign(self.vocc.get(seg), key):
                cost += OVERLAP_COST * length
            elif self._crowded(self.vocc, self.xs, ix, seg, 1, key):
                cost += NEAR_COST * length
            if _foreign(self.hpts.get(niy * nx + nix), key):
                cost += CROSS_COST
        return nix, niy, cost

    def _crowded(
        self,
        occupied: dict[int, list[tuple[str, str]]],
        coords: list[int],
        i: int,
        seg: int,
        stride: int,
        key: tuple[str, str],
    ) -> bool:
        """Whether an unrelated flow runs on a neighbouring track closer than NEAR_DISTANCE."""
        return any(
            0 <= j < len(coords)
            and abs(coords[j] - coords[i]) < NEAR_DISTANCE
            and _foreign(occupied.get(seg + (j - i) * stride), key)
            for j in (i - 1, i + 1)
        )

    def _path(self, state: int, parent: dict[int, int]) -> list[Point]:
        cells: list[int] = []
        while state != -1:
            cells.append(state // 4)
            state = parent[state]
        cells.reverse()
        return [(self.xs[c % self.nx], self.ys[c // self.nx]) for c in cells]

    def commit(self, points: Sequence[Point], key: tuple[str, str]) -> None:
        """Record a routed path so later flows avoid running on top of it."""
        nx = self.nx
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            if (x1, y1) == (x2, y2) or x1 not in self.xi or y1 not in self.yi:
                continue
            if x2 not in self.xi or y2 not in self.yi:
                continue
            if y1 == y2:
                iy = self.yi[y1]
                a, b = sorted((self.xi[x1], self.xi[x2]))
                for ix in range(a, b):
                    self.hocc.setdefault(iy * nx + ix, []).append(key)
                for ix in range(a, b + 1):
                    self.hpts.setdefault(iy * nx + ix, []).append(key)
            elif x1 == x2:
                ix = self.xi[x1]
                a, b = sorted((self.yi[y1], self.yi[y2]))
                for iy in range(a, b):
                    self.vocc.setdefault(iy * nx + ix, []).append(key)
                for iy in range(a, b + 1):
                    self.vpts.setdefault(iy * nx + ix, []).append(key)


def _foreign(occupants: list[tuple[str, str]] | None, key: tuple[str, str]) -> bool:
    """Whether a flow unrelated to ``key`` is already there.

    Flows sharing a source or a target may share a stretch: that reads as a
    fork or a merge, which is what it is.
    """
    if not occupants:
        return False
    return any(o[0] != key[0] and o[1] != key[1] for o in occupants)


def _tracks(values: Iterable[int], lo: int, hi: int) -> list[int]:
    """Candidate coordinates, with extra evenly spaced tracks in wide gaps.

    The extra tracks let parallel flows run side by side instead of on top of
    one another.
    """
    base = sorted({v for v in values if lo <= v <= hi} | {lo, hi})
    out = set(base)
    for a, b in itertools.pairwise(base):
        count = min(int((b - a) // TRACK_SPACING) - 1, MAX_TRACKS)
        for i in range(count):
            out.add(round(a + (b - a) * (i + 1) / (count + 1)))
    return sorted(out)


def _simplify(points: Sequence[Point]) -> list[Point]:
    out: list[Point] = []
    for p in points:
        if out and out[-1] == p:
            continue
        if len(out) >= 2:
            (ax, ay), (bx, by) = out[-2], out[-1]
            if (ax == bx == p[0]) or (ay == by == p[1]):
                out[-1] = p
                continue
        out.append(p)
    return out


# --------------------------------------------------------------------------- one process body


def _read_lanes(process: etree._Element) -> list[_Lane]:
    def read(lane_set: etree._Element | None, depth: int) -> list[_Lane]:
        if lane_set is None:
            return []
        lanes = []
        for el in lane_set.findall(_bpmn("lane")):
            refs = [(r.text or "").strip() for r in el.findall(_bpmn("flowNodeRef"))]
            lane = _Lane(el.get("id", ""), " ".join((el.get("name") or "").split()), depth, refs)
            lane.children = read(el.find(_bpmn("childLaneSet")), depth + 1)
            lanes.append(lane)
        return lanes

    return read(process.find(_bpmn("laneSet")), 0)


def _walk_lanes(lanes: Sequence[_Lane]) -> Iterator[_Lane]:
    for lane in lanes:
        yield lane
        yield from _walk_lanes(lane.children)


class _FlowLayout:
    """Layout of the flow nodes and sequence flows directly inside one container."""

    def __init__(self, container: etree._Element, lanes: list[_Lane], pooled: bool) -> None:
        self.container = container
        self.pooled = pooled
        self.lanes = lanes
        self.nodes: dict[str, _Node] = {}
        self.flows: list[_Flow] = []
        self.attached: dict[str, list[str]] = {}
        self.subprocesses: list[etree._Element] = []
        self.leaves: list[_Lane] = []
        for lane in _walk_lanes(lanes):
            if not lane.children:
                lane.leaves = [len(self.leaves)]
                self.leaves.append(lane)
        self.band_count = max(len(self.leaves), 1)
        self.max_depth = max((lane.depth for lane in self.leaves), default=-1)
        self._collect()
        self._assign_bands()
        self._layer()
        self._assign_rows()
        self._size_columns()
        self.rect = Rect(0, 0, 0, 0)
        self.band_rects: list[Rect] = []

    # -- reading ------------------------------------------------------------

    def _collect(self) -> None:
        for el in self.container:
            if not isinstance(el.tag, str):
                continue
            qname = etree.QName(el)
            nid = el.get("id")
            if qname.namespace != BPMN_NS or not nid:
                continue
            local = qname.localname
            name = " ".join((el.get("name") or "").split())
            if local == "sequenceFlow":
                flow = _Flow(nid, name, el.get("sourceRef", ""), el.get("targetRef", ""), len(self.flows))
                self.flows.append(flow)
                continue
            if local in TASK_TAGS:
                kind, w, h = "task", TASK_W, TASK_H
                if local in SUBPROCESS_TAGS:
                    self.subprocesses.append(el)
            elif local in GATEWAY_TAGS:
                kind, w, h = "gateway", GATEWAY_SIZE, GATEWAY_SIZE
            elif local in EVENT_TAGS:
                kind, w, h = "event", EVENT_SIZE, EVENT_SIZE
            else:
                continue
            host_ref = el.get("attachedToRef") if local == "boundaryEvent" else None
            self.nodes[nid] = _Node(nid, local, name, kind, len(self.nodes), w, h, host_ref)
        for node in self.nodes.values():
            attached_to = self.nodes.get(node.host or "")
            if attached_to is None or attached_to.host is not None:
                node.host = None
            else:
                self.attached.setdefault(attached_to.id, []).append(node.id)
        for host_id, events in self.attached.items():
            host = self.nodes[host_id]
            n = len(events)
            # Only widen a task when its boundary events could not sit side by side
            # otherwise, and then generously, so their flows and labels fit between them.
            if n * EVENT_SIZE + (n + 1) * BOUNDARY_INSET > host.w:
                host.w = n * EVENT_SIZE + (n - 1) * BOUNDARY_GAP + 2 * BOUNDARY_INSET
        self.flows = [f for f in self.flows if f.source in self.nodes and f.target in self.nodes]

    def anchor(self, nid: str) -> str:
        """The node that takes part in the layering: a boundary event counts as its host."""
        return self.nodes[nid].host or nid

    # -- bands, layers, rows ----------------------------------------------------

    def _assign_bands(self) -> None:
        for lane in _walk_lanes(self.lanes):
            if lane.children:
                lane.leaves = [i for child in lane.children for i in child.leaves]
        band_of_node: dict[str, int] = {}
        for lane in _walk_lanes(self.lanes):  # pre-order: a nested lane overrides its parent
            for ref in lane.refs:
                if ref in self.nodes and lane.leaves:
                    band_of_node[ref] = lane.leaves[0]
        for nid, band in band_of_node.items():
            self.nodes[nid].band = band
        neighbours: dict[str, list[str]] = {nid: [] for nid in self.nodes}
        for f in self.flows:
            neighbours[f.source].append(f.target)
            neighbours[f.target].append(f.source)
        for host, events in self.attached.items():
            for ev in events:
                neighbours[host].append(ev)
                neighbours[ev].append(host)
        # Nodes missing from the lane set go to the lane of the nearest node that has one.
        queue = deque(n.id for n in self.nodes.values() if n.band >= 0)
        while queue:
            nid = queue.popleft()
            for other in neighbours[nid]:
                if self.nodes[other].band < 0:
                    self.nodes[other].band = self.nodes[nid].band
                    queue.append(other)
        for node in self.nodes.values():
            if node.band < 0:
                node.band = 0
        for host, events in self.attached.items():
            for ev in events:
                self.nodes[ev].band = self.nodes[host].band

    def _layer(self) -> None:
        main = [n for n in self.nodes.values() if n.host is None]
        self.out: dict[str, list[_Flow]] = {n.id: [] for n in main}
        self.inc: dict[str, list[_Flow]] = {n.id: [] for n in main}
        for f in self.flows:
            self.out[self.anchor(f.source)].append(f)
            self.inc[self.anchor(f.target)].append(f)
        roots = [n.id for n in main if n.tag == "startEvent" and not self.inc[n.id]]
        roots += [n.id for n in main if not self.inc[n.id] and n.id not in roots]
        roots += [n.id for n in main]
        state: dict[str, int] = {}
        for root in roots:
            if root in state:
                continue
            state[root] = 1
            stack: list[tuple[str, Iterator[_Flow]]] = [(root, iter(self.out[root]))]
            while stack:
                nid, it = stack[-1]
                for f in it:
                    target = self.anchor(f.target)
                    seen = state.get(target, 0)
                    if seen == 1:
                        f.back = True
                    elif seen == 0:
                        state[target] = 1
                        stack.append((target, iter(self.out[target])))
                        break
                else:
                    state[nid] = 2
                    stack.pop()
        indegree = {n.id: 0 for n in main}
        for f in self.flows:
            if not f.back:
                indegree[self.anchor(f.target)] += 1
        ready = deque(n.id for n in main if indegree[n.id] == 0)
        while ready:
            nid = ready.popleft()
            for f in self.out[nid]:
                if f.back:
                    continue
                successor = self.nodes[self.anchor(f.target)]
                successor.layer = max(successor.layer, self.nodes[nid].layer + 1)
                indegree[successor.id] -= 1
                if indegree[successor.id] == 0:
                    ready.append(successor.id)
        for host, events in self.attached.items():
            for ev in events:
                self.nodes[ev].layer = self.nodes[host].layer

    def _row_preference(self, node: _Node, band_bottom: list[int]) -> tuple[int, tuple[int, int, int]]:
        preds = [f for f in self.inc[node.id] if not f.back]
        if not preds:
            return 0, (0, 0, 0)

        def rank(f: _Flow) -> tuple[int, int, int]:
            a = self.nodes[self.anchor(f.source)]
            return (0 if a.band == node.band else 1, -a.layer, f.index)

        flow = min(preds, key=rank)
        source = self.nodes[flow.source]
        pred = self.nodes[self.anchor(flow.source)]
        order = self.out[pred.id].index(flow)
        if pred.band == node.band:
            if source.host:
                # A flow leaving a boundary event heads down from the host's bottom edge.
                desired = pred.row + 1
            elif any(f.back and self.nodes[f.target].band == node.band for f in self.out[node.id]):
                # A node that closes a loop sits above the main line, so the loop runs over
                # the top, clear of boundary events and of the branches below.
                desired = pred.row - 1
            else:
                desired = pred.row
        elif pred.band < node.band:
            desired = 0
        else:
            desired = max(band_bottom[node.band], 0)
        return desired, (pred.band, pred.row, order)

    def _assign_rows(self) -> None:
        by_layer: dict[int, list[_Node]] = {}
        for node in self.nodes.values():
            if node.host is None:
                by_layer.setdefault(node.layer, []).append(node)
        band_bottom = [-1] * self.band_count
        band_top = [0] * self.band_count
        for layer in sorted(by_layer):
            entries = []
            for node in by_layer[layer]:
                desired, key = self._row_preference(node, band_bottom)
                entries.append((desired, key, node.index, node))
            entries.sort(key=lambda e: (e[0], e[1], e[2]))
            taken: dict[int, set[int]] = {}
            for desired, _, _, node in entries:
                rows = taken.setdefault(node.band, set())
                node.row = _nearest_free(desired, rows)
                rows.add(node.row)
                band_top[node.band] = min(band_top[node.band], node.row)
                band_bottom[node.band] = max(band_bottom[node.band], node.row)
        self._refine_rows(by_layer)
        self._compact_rows()

    def _row_y(self, band_top: list[int], band: int, row: int) -> int:
        return band_top[band] + row * ROW_PITCH

    def _row_cost(self, node: _Node, row: int, band_top: list[int]) -> float:
        """Weighted vertical distance from ``node`` (put in ``row``) to its neighbours.

        A flow weighs less the more columns it spans: long flows are routed through
        the channels between rows anyway, whereas short ones should stay straight.
        Flows leaving a boundary event count from one row below the host and weigh
        double, so the targets of boundary events stay below their host.  Flows
        between lanes always bend, so only their length counts.
        """
        y = self._row_y(band_top, node.band, row)
        cost = 0.0
        for f in self.inc[node.id] + self.out[node.id]:
            incoming = self.anchor(f.target) == node.id
            other = self.nodes[self.anchor(f.source if incoming else f.target)]
            if other is node:
                continue
            ref = self._row_y(band_top, other.band, other.row)
            weight = 1 / max(abs(node.layer - other.layer), 1)
            if self.nodes[f.source].host:
                weight *= 2
                ref += ROW_PITCH if incoming else -ROW_PITCH
            # Within a lane a flow can be a straight line, and a kink costs like a row of drop.
            kink = ROW_PITCH if other.band == node.band and y != ref else 0
            cost += weight * (abs(y - ref) + kink)
        return cost

    def _refine_rows(self, by_layer: dict[int, list[_Node]]) -> None:
        """Re-stack the nodes of each column to shorten vertical runs (barycentre-like sweeps).

        The greedy first pass only sees predecessors; these sweeps also pull a node
        towards its successors, which removes most avoidable crossings between lanes.
        """
        main = [n for n in self.nodes.values() if n.host is None]
        lo = [min((n.row for n in main if n.band == b), default=0) for b in range(self.band_count)]
        hi = [max((n.row for n in main if n.band == b), default=0) for b in range(self.band_count)]
        band_top: list[int] = []
        offset = 0
        for b in range(self.band_count):
            band_top.append(offset - lo[b] * ROW_PITCH)
            offset += (hi[b] - lo[b] + 1) * ROW_PITCH + BAND_PAD_TOP + BAND_PAD_BOTTOM + TASK_H
        layers = sorted(by_layer)
        for sweep in range(4):
            changed = False
            for layer in layers if sweep % 2 == 0 else reversed(layers):
                groups: dict[int, list[_Node]] = {}
                for node in by_layer[layer]:
                    groups.setdefault(node.band, []).append(node)
                for band, group in groups.items():
                    rows = list(range(lo[band], hi[band] + 1))
                    if math.perm(len(rows), len(group)) > MAX_ROW_PERMUTATIONS:
                        rows = sorted(n.row for n in group)
                    current = [n.row for n in group]
                    best = sum(self._row_cost(n, n.row, band_top) for n in group)
                    choice = current
                    for option in itertools.permutations(rows, len(group)):
                        cost = sum(self._row_cost(n, r, band_top) for n, r in zip(group, option, strict=True))
                        if cost < best - 0.5:
                            best, choice = cost, list(option)
                    if choice != current:
                        changed = True
                        for n, r in zip(group, choice, strict=True):
                            n.row = r
            if not changed:
                break

    def _compact_rows(self) -> None:
        """Drop rows left empty, so each band is only as tall as its nodes need."""
        self.band_rows = []
        for band in range(self.band_count):
            members = [n for n in self.nodes.values() if n.host is None and n.band == band]
            used = sorted({n.row for n in members})
            index = {row: i for i, row in enumerate(used)}
            for n in members:
                n.row = index[n.row]
            self.band_rows.append(max(len(used), 1))

    def _size_columns(self) -> None:
        layers = [n.layer for n in self.nodes.values()]
        count = max(layers) + 1 if layers else 0
        self.col_w = [0] * count
        self.col_gap = [COL_GAP] * count
        for node in self.nodes.values():
            if node.host is None:
                self.col_w[node.layer] = max(self.col_w[node.layer], node.w)
        for f in self.flows:
            if f.name and not f.back:
                # A named flow needs its label to fit between the columns it leaves.
                layer = self.nodes[self.anchor(f.source)].layer
                need = _label_size(f.name)[0] + 40
                self.col_gap[layer] = min(max(self.col_gap[layer], need), MAX_COL_GAP)

    # -- geometry --------------------------------------------------------------

    @property
    def header_w(self) -> int:
        lane_headers = HEADER_W * (self.max_depth + 1) if self.leaves else 0
        return (HEADER_W if self.pooled else 0) + lane_headers

    def required_width(self) -> int:
        content = sum(self.col_w) + sum(self.col_gap[:-1]) if self.col_w else TASK_W
        return self.header_w + 2 * PAD_X + content

    def band_height(self, band: int) -> int:
        return BAND_PAD_TOP + TASK_H + (self.band_rows[band] - 1) * ROW_PITCH + BAND_PAD_BOTTOM

    def required_height(self) -> int:
        return sum(self.band_height(b) for b in range(self.band_count))

    def place(self, x0: int, y0: int, width: int) -> None:
        self.rect = Rect(x0, y0, width, self.required_height())
        content_x = x0 + self.header_w + PAD_X
        col_x = []
        for w, gap in zip(self.col_w, self.col_gap, strict=True):
            col_x.append(content_x)
            content_x += w + gap
        self.band_rects = []
        y = y0
        for band in range(self.band_count):
            h = self.band_height(band)
            self.band_rects.append(Rect(x0, y, width, h))
            y += h
        for node in self.nodes.values():
            if node.host is not None:
                continue
            band_rect = self.band_rects[node.band]
            cx = col_x[node.layer] + self.col_w[node.layer] // 2
            cy = band_rect.y + BAND_PAD_TOP + TASK_H // 2 + node.row * ROW_PITCH
            node.rect = Rect(cx - node.w // 2, cy - node.h // 2, node.w, node.h)
        for host_id, events in self.attached.items():
            host = self.nodes[host_id].rect
            n = len(events)
            for i, ev in enumerate(events):
                if n == 1:
                    # Right of centre: the flow drops down near the next column and the
                    # label fits under the rest of the host.
                    cx = host.x + host.w * 7 // 10
                else:
                    first = host.x + BOUNDARY_INSET + EVENT_SIZE // 2
                    last = host.x2 - BOUNDARY_INSET - EVENT_SIZE // 2
                    cx = first + (last - first) * i // (n - 1)
                self.nodes[ev].rect = Rect(
                    cx - EVENT_SIZE // 2, host.y2 - EVENT_SIZE // 2, EVENT_SIZE, EVENT_SIZE
                )
        for lane in _walk_lanes(self.lanes):
            top, bottom = self.band_rects[lane.leaves[0]], self.band_rects[lane.leaves[-1]]
            lx = x0 + (HEADER_W if self.pooled else 0) + HEADER_W * lane.depth
            lane.rect = Rect(lx, top.y, x0 + width - lx, bottom.y2 - top.y)

    # -- routing ----------------------------------------------------------------

    def route(self) -> None:
        shapes = [n.rect for n in self.nodes.values()]
        inflated = [r.inflate(MARGIN) for r in shapes]
        if self.pooled or self.leaves:
            inner_x = self.rect.x + self.header_w + 4
            bounds = Rect(inner_x, self.rect.y + 4, self.rect.x2 - 4 - inner_x, self.rect.h - 8)
        else:
            bounds = self.rect
        xs: list[int] = []
        ys: list[int] = []
        for r in inflated:
            xs += [r.x, r.x2, r.cx]
            ys += [r.y, r.y2, r.cy]
        lane_lines = [b.y for b in self.band_rects[1:]]
        for b in self.band_rects:
            # Channels just inside each lane, far enough from its border to read as separate lines.
            ys += [b.y + 20, b.y2 - 20]
        router = _Router(inflated, bounds, xs, ys, lane_lines)
        usage: dict[tuple[str, str], dict[str, int]] = {}

        def span(f: _Flow) -> tuple[bool, int, int, int]:
            s, t = self.nodes[self.anchor(f.source)], self.nodes[f.target]
            return (f.back, abs(t.layer - s.layer), abs(t.band - s.band), f.index)

        for f in sorted(self.flows, key=span):
            source, target = self.nodes[f.source], self.nodes[f.target]
            key = (f.source, f.target)
            starts = self._ports(router, source, True, usage)
            goals = self._ports(router, target, False, usage)
            path = router.route(
                [(stub, d, cost) for _, _, stub, d, cost in starts],
                [(stub, _OPPOSITE[d], cost) for _, _, stub, d, cost in goals],
                key,
            )
            if path is None:
                f.points = _fallback_route(source.rect, target.rect)
                continue
            start = next(s for s in starts if s[2] == path[0])
            goal = next(g for g in goals if g[2] == path[-1])
            f.points = _simplify([start[1], *path, goal[1]])
            router.commit(path, key)
            usage.setdefault((source.id, start[0]), {}).setdefault("out", 0)
            usage[(source.id, start[0])]["out"] += 1
            usage.setdefault((target.id, goal[0]), {}).setdefault("in", 0)
            usage[(target.id, goal[0])]["in"] += 1

    def _ports(
        self,
        router: _Router,
        node: _Node,
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
            out.append((side, port, stub, _SIDE_DIR[side], cost))
        return out

    # -- labels -------------------------------------------------------------

    def place_labels(self, taken: list[Rect]) -> None:
        segments = [seg for f in self.flows for seg in _segments(f.points)]
        board = _LabelBoard(
            shapes=[n.rect for n in self.nodes.values()],
            segments=segments,
            labels=taken,
            bands=self.band_rects,
            area=self.rect,
            header_w=self.header_w,
        )
        # Flow labels first: a branch label is only readable right where the branch
        # leaves its gateway, while a gateway's own label can go to any side.
        for f in self.flows:
            if f.name:
                f.label = board.place(_flow_label_spots(f.points, f.name), None)
        for node in self.nodes.values():
            if node.name and node.kind != "task":
                leftmost = node.host is None or self.attached[node.host][0] == node.id
                node.label = board.place(_node_label_spots(node, leftmost), self.band_rects[node.band])

    # -- output -------------------------------------------------------------

    def shapes(self) -> list[_ShapeOut]:
        out = []
        for node in self.nodes.values():
            attrs: tuple[tuple[str, str], ...] = ()
            if node.kind == "gateway":
                attrs = (("isMarkerVisible", "true"),)
            elif node.tag in SUBPROCESS_TAGS:
                attrs = (("isExpanded", "false"),)
            out.append(_ShapeOut(node.id, node.rect, attrs, node.label))
        return out

    def edges(self) -> list[_EdgeOut]:
        return [_EdgeOut(f.id, f.points, f.label) for f in self.flows]


def _nearest_free(desired: int, taken: set[int]) -> int:
    for delta in range(len(taken) + 1):
        for row in (desired + delta, desired - delta):
            if row not in taken:
                return row
    return desired + len(taken) + 1


def _fallback_route(a: Rect, b: Rect) -> list[Point]:
    mid = (a.x2 + b.x) // 2
    return _simplify([(a.x2, a.cy), (mid, a.cy), (mid, b.cy), (b.x, b.cy)])


def _segments(points: Sequence[Point]) -> list[tuple[Point, Point]]:
    return list(itertools.pairwise(points))


# --------------------------------------------------------------------------- label placement


class _LabelBoard:
    """Scores candidate label boxes against everything already on the canvas."""

    def __init__(
        self,
        shapes: list[Rect],
        segments: list[tuple[Point, Point]],
        labels: list[Rect],
        bands: list[Rect],
        area: Rect,
        header_w: int,
    ) -> None:
        self.shapes = [s.inflate(2) for s in shapes]
        self.segments = segments
        self.labels = labels
        self.bands = bands
        self.area = Rect(area.x + header_w, area.y, area.w - header_w, area.h)

    def place(self, spots: Sequence[Rect], band: Rect | None) -> Rect | None:
        best: tuple[float, int] | None = None
        choice: Rect | None = None
        for i, spot in enumerate(spots):
            score = self._score(spot, band)
            if best is None or (score, i) < best:
                best, choice = (score, i), spot
            if score == 0:
                break
        if choice is not None:
            self.labels.append(choice)
        return choice

    def _score(self, spot: Rect, band: Rect | None) -> float:
        score = 0.0
        if self.area.w > 0 and not self.area.contains(spot):
            score += 1000
        bands = [band] if band is not None else self.bands
        if bands and not any(b.contains(spot) for b in bands):
            score += 50
        score += 200 * sum(1 for s in self.shapes if s.overlaps(spot))
        score += 200 * sum(1 for lab in self.labels if lab.inflate(2).overlaps(spot))
        for (x1, y1), (x2, y2) in self.segments:
            line = Rect(min(x1, x2) - 2, min(y1, y2) - 2, abs(x2 - x1) + 4, abs(y2 - y1) + 4)
            if line.overlaps(spot):
                score += 20
        return score


def _node_label_spots(node: _Node, leftmost: bool) -> list[Rect]:
    sizes = _label_sizes(node.name)
    return [spot for w, h in sizes for spot in _node_label_spots_sized(node, leftmost, w, h)]


def _node_label_spots_sized(node: _Node, leftmost: bool, w: int, h: int) -> list[Rect]:
    r = node.rect
    below = Rect(r.cx - w // 2, r.y2 + 4, w, h)
    spots = []
    if node.host:
        # The flow of a boundary event drops straight down, so its label goes beside
        # it: under the host for the leftmost event, which keeps it clear of the
        # next column, and outwards for the others.
        under_host = Rect(r.x - w - 3, r.y2 - 4, w, h)
        outside = Rect(r.x2 + 3, r.y2 - 4, w, h)
        spots += [under_host, outside] if leftmost else [outside, under_host]
    spots += [
        below,
        Rect(r.cx - w // 2, r.y - 4 - h, w, h),
        Rect(r.cx + 10, r.y - 2 - h, w, h),
        Rect(r.cx - 10 - w, r.y - 2 - h, w, h),
        Rect(r.cx + 10, r.y2 + 2, w, h),
        Rect(r.cx - 10 - w, r.y2 + 2, w, h),
        Rect(r.x2 + 4, r.cy - h // 2, w, h),
        Rect(r.x - 4 - w, r.cy - h // 2, w, h),
    ]
    for extra in (12, 24):
        spots += [
            Rect(below.x, below.y + extra, w, h),
            Rect(r.cx - w // 2, r.y - 4 - h - extra, w, h),
            Rect(r.cx + 10 + extra, r.y - 2 - h, w, h),
            Rect(r.cx - 10 - w - extra, r.y2 + 2, w, h),
        ]
    return spots


def _flow_label_spots(points: Sequence[Point], name: str) -> list[Rect]:
    return [spot for w, h in _label_sizes(name) for spot in _flow_label_spots_sized(points, w, h)]


def _flow_label_spots_sized(points: Sequence[Point], w: int, h: int) -> list[Rect]:
    spots = []
    for (x1, y1), (x2, y2) in _segments(points):
        if y1 == y2:
            length = abs(x2 - x1)
            sign = 1 if x2 >= x1 else -1
            # Start clear of the default-flow slash drawn near a gateway's exit.
            for t in (14, length // 2 - w // 2, length - w - 8):
                if t < 0 or t + w > length + 20:
                    continue
                left = x1 + t if sign > 0 else x1 - t - w
                spots += [Rect(left, y1 - 3 - h, w, h), Rect(left, y1 + 3, w, h)]
        else:
            length = abs(y2 - y1)
            sign = 1 if y2 >= y1 else -1
            for t in (14, length // 2 - h // 2, length - h - 8):
                if t < 0 or t + h > length + 10:
                    continue
                top = y1 + t if sign > 0 else y1 - t - h
                spots += [Rect(x1 + 5, top, w, h), Rect(x1 - 5 - w, top, w, h)]
    return spots


# --------------------------------------------------------------------------- whole document


@dataclass(frozen=True)
class _End:
    """One end of a message flow: its shape, the pool around it, whether it is the pool."""

    rect: Rect
    pool: Rect
    is_pool: bool


def _message_flow(a: _End, b: _End, name: str) -> _EdgeOut | None:
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
    points = _simplify([(start_x, start_y), (start_x, gap_y), (end_x, gap_y), (end_x, end_y)])
    label = None
    if name:
        w, h = _label_size(name)
        label = Rect(end_x + 6, (gap_y + end_y) // 2 - h // 2, w, h)
    return _EdgeOut("", points, label)


def _layout_diagrams(root: etree._Element) -> list[_DiagramOut]:
    processes = {p.get("id"): p for p in root.findall(_bpmn("process"))}
    collaboration = next(
        (c for c in root.findall(_bpmn("collaboration")) if c.find(_bpmn("participant")) is not None), None
    )
    diagrams: list[_DiagramOut] = []
    pending: list[etree._Element] = []
    x0, y0 = ORIGIN
    if collaboration is not None:
        diagram = _DiagramOut(collaboration.get("id", ""))
        pools: list[tuple[etree._Element, _FlowLayout | None]] = []
        for participant in collaboration.findall(_bpmn("participant")):
            process = processes.get(participant.get("processRef"))
            layout = None if process is None else _FlowLayout(process, _read_lanes(process), pooled=True)
            pools.append((participant, layout))
        width = max((lay.required_width() for _, lay in pools if lay), default=600)
        y = y0
        placed: dict[str, Rect] = {}
        pool_of: dict[str, Rect] = {}
        taken: list[Rect] = []
        for participant, layout in pools:
            if layout is None:
                rect = Rect(x0, y, width, BLACKBOX_POOL_H)
            else:
                layout.place(x0, y, width)
                layout.route()
                layout.place_labels(taken)
                rect = layout.rect
                pending += layout.subprocesses
            diagram.shapes.append(_ShapeOut(participant.get("id", ""), rect, (("isHorizontal", "true"),)))
            placed[participant.get("id", "")] = rect
            pool_of[participant.get("id", "")] = rect
            if layout is not None:
                for lane in _walk_lanes(layout.lanes):
                    assert lane.rect is not None
                    diagram.shapes.append(_ShapeOut(lane.id, lane.rect, (("isHorizontal", "true"),)))
                    placed[lane.id] = lane.rect
                diagram.shapes += layout.shapes()
                diagram.edges += layout.edges()
                placed.update({n.id: n.rect for n in layout.nodes.values()})
                pool_of.update({n.id: rect for n in layout.nodes.values()})
            y = rect.y2 + POOL_GAP
        for flow in collaboration.findall(_bpmn("messageFlow")):
            source, target = flow.get("sourceRef", ""), flow.get("targetRef", "")
            if source not in pool_of or target not in pool_of or not flow.get("id"):
                continue
            name = " ".join((flow.get("name") or "").split())
            ends = [_End(placed[ref], pool_of[ref], placed[ref] == pool_of[ref]) for ref in (source, target)]
            edge = _message_flow(ends[0], ends[1], name)
            if edge is not None:
                edge.element = flow.get("id", "")
                diagram.edges.append(edge)
        diagrams.append(diagram)
    else:
        pending += processes.values()
    while pending:
        container = pending.pop(0)
        pooled_lanes = _read_lanes(container) if etree.QName(container).localname == "process" else []
        layout = _FlowLayout(container, pooled_lanes, pooled=False)
        layout.place(x0, y0, layout.required_width())
        layout.route()
        layout.place_labels([])
        diagram = _DiagramOut(container.get("id", ""))
        for lane in _walk_lanes(layout.lanes):
            assert lane.rect is not None
            diagram.shapes.append(_ShapeOut(lane.id, lane.rect, (("isHorizontal", "true"),)))
        diagram.shapes += layout.shapes()
        diagram.edges += layout.edges()
        diagrams.append(diagram)
        pending += layout.subprocesses
    return diagrams


# --------------------------------------------------------------------------- serialisation


def _render(
    diagrams: Sequence[_DiagramOut],
    root: etree._Element,
    indent: str,
    unit: str,
    newline: str,
) -> str:
    declared = {uri: prefix for prefix, uri in root.nsmap.items() if prefix}
    prefixes: dict[str, str] = {}
    missing: list[tuple[str, str]] = []
    for uri in (BPMNDI_NS, DC_NS, DI_NS):
        if uri in declared:
            prefixes[uri] = declared[uri]
            continue
        prefix, n = _DEFAULT_PREFIXES[uri], 1
        while prefix in root.nsmap or prefix in prefixes.values():
            n += 1
            prefix = f"{_DEFAULT_PREFIXES[uri]}{n}"
        prefixes[uri] = prefix
        missing.append((prefix, uri))
    bpmndi, dc, di = prefixes[BPMNDI_NS], prefixes[DC_NS], prefixes[DI_NS]
    ids = _IdPool(root)
    lines: list[str] = []

    def add(level: int, text: str) -> None:
        lines.append(indent + unit * level + text)

    def bounds(level: int, r: Rect) -> None:
        add(level, f'<{dc}:Bounds x="{r.x}" y="{r.y}" width="{r.w}" height="{r.h}" />')

    def label(level: int, r: Rect | None) -> None:
        if r is None:
            return
        add(level, f"<{bpmndi}:BPMNLabel>")
        bounds(level + 1, r)
        add(level, f"</{bpmndi}:BPMNLabel>")

    decls = "".join(f' xmlns:{p}="{_attr(uri)}"' for p, uri in missing)
    for diagram in diagrams:
        element = _attr(diagram.element)
        add(0, f'<{bpmndi}:BPMNDiagram id="{_attr(ids.take("BPMNDiagram_" + diagram.element))}"{decls}>')
        add(
            1,
            f'<{bpmndi}:BPMNPlane id="{_attr(ids.take("BPMNPlane_" + diagram.element))}"'
            f' bpmnElement="{element}">',
        )
        for shape in diagram.shapes:
            extra = "".join(f' {k}="{v}"' for k, v in shape.attrs)
            add(
                2,
                f'<{bpmndi}:BPMNShape id="{_attr(ids.take(shape.element + "_di"))}"'
                f' bpmnElement="{_attr(shape.element)}"{extra}>',
            )
            bounds(3, shape.rect)
            label(3, shape.label)
            add(2, f"</{bpmndi}:BPMNShape>")
        for edge in diagram.edges:
            add(
                2,
                f'<{bpmndi}:BPMNEdge id="{_attr(ids.take(edge.element + "_di"))}"'
                f' bpmnElement="{_attr(edge.element)}">',
            )
            for x, y in edge.points:
                add(3, f'<{di}:waypoint x="{x}" y="{y}" />')
            label(3, edge.label)
            add(2, f"</{bpmndi}:BPMNEdge>")
        add(1, f"</{bpmndi}:BPMNPlane>")
        add(0, f"</{bpmndi}:BPMNDiagram>")
    return newline.join(lines)


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


class _IdPool:
    """Hands out DI ids that clash with no id of the model (ids share one XML namespace)."""

    def __init__(self, root: etree._Element) -> None:
        self.used = {
            el.get("id")
            for el in root.iter()
            if isinstance(el.tag, str) and el.get("id") and etree.QName(el).namespace != BPMNDI_NS
        }

    def take(self, wanted: str) -> str:
        candidate, n = wanted, 1
        while candidate in self.used:
            n += 1
            candidate = f"{wanted}_{n}"
        self.used.add(candidate)
        return candidate


def _signature(root: etree._Element) -> list[tuple[object, ...]]:
    """Document content without DI and without formatting whitespace, for sanity checks."""
    out: list[tuple[object, ...]] = []
    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el).namespace == BPMNDI_NS:
            continue
        if any(isinstance(a.tag, str) and etree.QName(a).namespace == BPMNDI_NS for a in el.iterancestors()):
            continue
        out.append((el.tag, sorted(el.attrib.items()), (el.text or "").strip(), (el.tail or "").strip()))
    return out


def _parse(xml: bytes) -> etree._ElementTree:
    # Whitespace is kept because the output must reproduce the input outside the diagram.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    return etree.ElementTree(etree.fromstring(xml, parser))


def add_layout(xml: bytes) -> bytes:
    """Return ``xml`` with a freshly computed ``bpmndi:BPMNDiagram`` (old ones are replaced).

    Everything outside the diagram block is kept byte for byte.
    """
    tree = _parse(xml)
    root = tree.getroot()
    if root.tag != _bpmn("definitions"):
        raise ValueError("not a BPMN document: the root element is not bpmn:definitions")
    encoding = tree.docinfo.encoding or "UTF-8"
    text = xml.decode(encoding)
    newline = "\r\n" if "\r\n" in text else "\n"
    indent = _child_indent(root)
    unit = indent or "  "
    diagrams = _layout_diagrams(root)
    fragment = _render(diagrams, root, indent, unit, newline)

    result = _splice(text, root, fragment, newline)
    if result is not None:
        out = result.encode(encoding)
        check = _parse(out).getroot()
        # The text patch is only trusted if the model itself came through untouched.
        if _signature(check) == _signature(root) and len(_old_diagrams(check)) == len(diagrams):
            return out
    return _rebuild(tree, fragment)


def _old_diagrams(root: etree._Element) -> list[etree._Element]:
    return root.findall(f"{{{BPMNDI_NS}}}BPMNDiagram")


def _child_indent(root: etree._Element) -> str:
    text = root.text or ""
    return text.rsplit("\n", 1)[1] if "\n" in text and not text.rsplit("\n", 1)[1].strip() else ""


def _splice(text: str, root: etree._Element, fragment: str, newline: str) -> str | None:
    """Swap the diagram block in the source text, leaving every other character alone."""
    if root.find(_bpmn("relationship")) is not None:
        return None  # DI must precede relationships; leave that rare case to the rebuild path
    # The prefix may be declared on the diagram element itself, so ask each old diagram.
    names = sorted(
        {f"{re.escape(el.prefix)}:BPMNDiagram" if el.prefix else "BPMNDiagram" for el in _old_diagrams(root)}
    )
    if names:
        diagram_re = re.compile(
            rf"[ \t]*<(?P<tag>{'|'.join(names)})\b(?:[^>]*?/>|.*?</(?P=tag)\s*>)[ \t]*(?:\r?\n)?",
            re.DOTALL,
        )
        text = diagram_re.sub("", text)
    root_name = f"{root.prefix}:definitions" if root.prefix else "definitions"
    closing = list(re.finditer(rf"</{re.escape(root_name)}\s*>", text))
    if not closing:
        return None
    at = closing[-1].start()
    line_start = text.rfind("\n", 0, at) + 1
    if text[line_start:at].strip():
        return text[:at] + newline + fragment + newline + text[at:]
    return text[:line_start] + fragment + newline + text[line_start:]


def _rebuild(tree: etree._ElementTree, fragment: str) -> bytes:
    """Fallback when the source text cannot be patched: re-serialise the whole tree."""
    root = tree.getroot()
    for old in _old_diagrams(root):
        previous = old.getprevious()
        # The removed element's tail is the whitespace in front of whatever followed it.
        if previous is not None:
            previous.tail = old.tail
        else:
            root.text = old.tail
        root.remove(old)
    nsdecl = "".join(f' xmlns:{p}="{_attr(uri)}"' for p, uri in root.nsmap.items() if p)
    wrapper = etree.fromstring(f"<wrapper{nsdecl}>{fragment}</wrapper>".encode())
    relationship = root.find(_bpmn("relationship"))
    position = list(root).index(relationship) if relationship is not None else len(root)
    separator = "\n" + _child_indent(root)
    for i, el in enumerate(list(wrapper)):
        previous = root[position + i - 1] if position + i > 0 else None
        if previous is not None:
            el.tail, previous.tail = previous.tail, separator
        else:
            el.tail, root.text = root.text, separator
        root.insert(position + i, el)
    out = etree.tostring(tree, xml_declaration=True, encoding=tree.docinfo.encoding or "UTF-8")
    assert isinstance(out, bytes)
    return out


def main(argv: list[str] | None = None) -> int:
    """Lay out each BPMN file given on the command line, in place."""
    parser = argparse.ArgumentParser(
        prog="fangtiao layout", description="Write a diagram layout (BPMN DI) into BPMN files."
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    status = 0
    for path in args.files:
        try:
            original = path.read_bytes()
            laid_out = add_layout(original)
        except (OSError, ValueError, etree.XMLSyntaxError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            status = 1
            continue
        if laid_out != original:
            path.write_bytes(laid_out)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
