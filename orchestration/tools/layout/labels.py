"""Where labels go: each at the candidate spot that collides least with what is already drawn.

Labels are placed last, once every shape and flow is in place: the labels of flows first,
then those of gateways and events (a task carries its name inside).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from orchestration.tools.layout.geometry import Point, Rect
from orchestration.tools.layout.graph import Node
from orchestration.tools.layout.placement import Placement
from orchestration.tools.layout.text import label_sizes


def place_labels(placement: Placement, taken: list[Rect]) -> None:
    """Label the named flows and nodes of the placed container, avoiding the labels in ``taken``.

    The labels placed are added to ``taken``.
    """
    graph = placement.graph
    segments = [seg for f in graph.flows for seg in _segments(f.points)]
    board = _LabelBoard(
        shapes=[n.rect for n in graph.nodes.values()],
        segments=segments,
        labels=taken,
        bands=placement.band_rects,
        area=placement.rect,
        header_w=placement.header_w,
    )
    # Flow labels first: a branch label is only readable right where the branch
    # leaves its gateway, while a gateway's own label can go to any side.
    for f in graph.flows:
        if f.name:
            f.label = board.place(_flow_label_spots(f.points, f.name), None)
    for node in graph.nodes.values():
        if node.name and node.kind != "task":
            leftmost = node.host is None or graph.attached[node.host][0] == node.id
            node.label = board.place(_node_label_spots(node, leftmost), placement.band_rects[node.band])


def _segments(points: Sequence[Point]) -> list[tuple[Point, Point]]:
    return list(itertools.pairwise(points))


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


def _node_label_spots(node: Node, leftmost: bool) -> list[Rect]:
    sizes = label_sizes(node.name)
    return [spot for w, h in sizes for spot in _node_label_spots_sized(node, leftmost, w, h)]


def _node_label_spots_sized(node: Node, leftmost: bool, w: int, h: int) -> list[Rect]:
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
    return [spot for w, h in label_sizes(name) for spot in _flow_label_spots_sized(points, w, h)]


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
