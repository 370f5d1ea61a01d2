"""From grid to pixels: column widths, band heights, and the rectangle of every node and lane.

Every lane of the lane set is a horizontal band; boundary events sit on the bottom edge of
their host.
"""

from __future__ import annotations

from orchestration.tools.layout.geometry import Rect
from orchestration.tools.layout.graph import (
    BOUNDARY_INSET,
    EVENT_SIZE,
    TASK_H,
    TASK_W,
    UNPLACED,
    FlowGraph,
    walk_lanes,
)
from orchestration.tools.layout.text import label_size

HEADER_W = 30  # bpmn-js renders pool and lane names in a 30px vertical strip
COL_GAP = 60
MAX_COL_GAP = 130
ROW_PITCH = 150  # a task row plus room below it for boundary events and their labels
BAND_PAD_TOP = 40  # room for labels and flows above the first row of a lane
BAND_PAD_BOTTOM = 60  # room for boundary events of the last row and their labels
PAD_X = 50


class Placement:
    """The geometry of one ranked container, drawn as a pool when ``pooled``.

    The column widths are known at once; :meth:`place` then fixes the container's
    rectangle and gives every node and lane its own.
    """

    def __init__(self, graph: FlowGraph, band_rows: list[int], pooled: bool) -> None:
        self.graph = graph
        self.band_rows = band_rows
        self.pooled = pooled
        self.rect = UNPLACED
        self.band_rects: list[Rect] = []
        layers = [n.layer for n in graph.nodes.values()]
        count = max(layers) + 1 if layers else 0
        self.col_w = [0] * count
        self.col_gap = [COL_GAP] * count
        for node in graph.nodes.values():
            if node.host is None:
                self.col_w[node.layer] = max(self.col_w[node.layer], node.w)
        for f in graph.flows:
            if f.name and not f.back:
                # A named flow needs its label to fit between the columns it leaves.
                layer = graph.nodes[graph.anchor(f.source)].layer
                need = label_size(f.name)[0] + 40
                self.col_gap[layer] = min(max(self.col_gap[layer], need), MAX_COL_GAP)

    @property
    def header_w(self) -> int:
        lane_headers = HEADER_W * (self.graph.max_depth + 1) if self.graph.leaves else 0
        return (HEADER_W if self.pooled else 0) + lane_headers

    def required_width(self) -> int:
        content = sum(self.col_w) + sum(self.col_gap[:-1]) if self.col_w else TASK_W
        return self.header_w + 2 * PAD_X + content

    def band_height(self, band: int) -> int:
        return BAND_PAD_TOP + TASK_H + (self.band_rows[band] - 1) * ROW_PITCH + BAND_PAD_BOTTOM

    def required_height(self) -> int:
        return sum(self.band_height(b) for b in range(self.graph.band_count))

    def place(self, x0: int, y0: int, width: int) -> None:
        graph = self.graph
        self.rect = Rect(x0, y0, width, self.required_height())
        content_x = x0 + self.header_w + PAD_X
        col_x = []
        for w, gap in zip(self.col_w, self.col_gap, strict=True):
            col_x.append(content_x)
            content_x += w + gap
        self.band_rects = []
        y = y0
        for band in range(graph.band_count):
            h = self.band_height(band)
            self.band_rects.append(Rect(x0, y, width, h))
            y += h
        for node in graph.nodes.values():
            if node.host is not None:
                continue
            band_rect = self.band_rects[node.band]
            cx = col_x[node.layer] + self.col_w[node.layer] // 2
            cy = band_rect.y + BAND_PAD_TOP + TASK_H // 2 + node.row * ROW_PITCH
            node.rect = Rect(cx - node.w // 2, cy - node.h // 2, node.w, node.h)
        for host_id, events in graph.attached.items():
            host = graph.nodes[host_id].rect
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
                graph.nodes[ev].rect = Rect(
                    cx - EVENT_SIZE // 2, host.y2 - EVENT_SIZE // 2, EVENT_SIZE, EVENT_SIZE
                )
        for lane in walk_lanes(graph.lanes):
            top, bottom = self.band_rects[lane.leaves[0]], self.band_rects[lane.leaves[-1]]
            lx = x0 + (HEADER_W if self.pooled else 0) + HEADER_W * lane.depth
            lane.rect = Rect(lx, top.y, x0 + width - lx, bottom.y2 - top.y)
