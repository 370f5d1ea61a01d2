"""Orthogonal routing by an A* search on a sparse grid of candidate x/y tracks.

The obstacles are rectangles no path may enter.  A path costs its length, plus a penalty
for each bend and for running along a lane border, next to a shape, or on, beside or
across a flow committed before it; so no flow crosses a shape and flows keep apart.
"""

from __future__ import annotations

import heapq
import itertools
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence

from orchestration.tools.layout.geometry import Point, Rect

TRACK_SPACING = 12
MAX_TRACKS = 7
BEND_COST = 25.0
OVERLAP_COST = 6.0  # per px running on top of an unrelated flow
CROSS_COST = 30.0
LANE_LINE_COST = 3.0  # per px running along a lane border, where the line would hide the flow
NEAR_COST = 0.2  # per px running right next to an unrelated flow, which reads as one double line
NEAR_DISTANCE = 16
HUG_COST = 0.5  # per px running at the minimum clearance from a shape, where labels want to be

# Directions are numbered E, S, W, N; a side of a shape is named by the direction it faces.
_DIRS = ((1, 0), (0, 1), (-1, 0), (0, -1))
SIDE_DIR = {"E": 0, "S": 1, "W": 2, "N": 3}
OPPOSITE = {0: 2, 1: 3, 2: 0, 3: 1}


class Router:
    """The grid of one container: :meth:`route` finds a path, :meth:`commit` keeps later ones off it."""

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
