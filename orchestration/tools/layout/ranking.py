"""Where each node goes on the grid: the band of its lane, its column (layer) and its row in the band.

Columns come from longest-path layering over the sequence flows, with back edges (found by a DFS
from the start events) ignored.  Several nodes of one band in one column are stacked in rows,
first greedily after their predecessors, then re-stacked to shorten the vertical runs.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Iterator

from orchestration.tools.layout.graph import TASK_H, Flow, FlowGraph, Node, walk_lanes
from orchestration.tools.layout.placement import BAND_PAD_BOTTOM, BAND_PAD_TOP, ROW_PITCH

MAX_ROW_PERMUTATIONS = 720  # beyond this, nodes of a column only swap rows among themselves


def rank(graph: FlowGraph) -> list[int]:
    """Give every node its band, layer and row; returns the number of rows of each band."""
    _assign_bands(graph)
    _assign_layers(graph)
    by_layer = _assign_rows(graph)
    _refine_rows(graph, by_layer)
    return _compact_rows(graph)


def _assign_bands(graph: FlowGraph) -> None:
    band_of_node: dict[str, int] = {}
    for lane in walk_lanes(graph.lanes):  # pre-order: a nested lane overrides its parent
        for ref in lane.refs:
            if ref in graph.nodes and lane.leaves:
                band_of_node[ref] = lane.leaves[0]
    for nid, band in band_of_node.items():
        graph.nodes[nid].band = band
    neighbours: dict[str, list[str]] = {nid: [] for nid in graph.nodes}
    for f in graph.flows:
        neighbours[f.source].append(f.target)
        neighbours[f.target].append(f.source)
    for host, events in graph.attached.items():
        for ev in events:
            neighbours[host].append(ev)
            neighbours[ev].append(host)
    # Nodes missing from the lane set go to the lane of the nearest node that has one.
    queue = deque(n.id for n in graph.nodes.values() if n.band >= 0)
    while queue:
        nid = queue.popleft()
        for other in neighbours[nid]:
            if graph.nodes[other].band < 0:
                graph.nodes[other].band = graph.nodes[nid].band
                queue.append(other)
    for node in graph.nodes.values():
        if node.band < 0:
            node.band = 0
    for host, events in graph.attached.items():
        for ev in events:
            graph.nodes[ev].band = graph.nodes[host].band


def _assign_layers(graph: FlowGraph) -> None:
    main = [n for n in graph.nodes.values() if n.host is None]
    roots = [n.id for n in main if n.tag == "startEvent" and not graph.inc[n.id]]
    roots += [n.id for n in main if not graph.inc[n.id] and n.id not in roots]
    roots += [n.id for n in main]
    state: dict[str, int] = {}
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[str, Iterator[Flow]]] = [(root, iter(graph.out[root]))]
        while stack:
            nid, it = stack[-1]
            for f in it:
                target = graph.anchor(f.target)
                seen = state.get(target, 0)
                if seen == 1:
                    f.back = True
                elif seen == 0:
                    state[target] = 1
                    stack.append((target, iter(graph.out[target])))
                    break
            else:
                state[nid] = 2
                stack.pop()
    indegree = {n.id: 0 for n in main}
    for f in graph.flows:
        if not f.back:
            indegree[graph.anchor(f.target)] += 1
    ready = deque(n.id for n in main if indegree[n.id] == 0)
    while ready:
        nid = ready.popleft()
        for f in graph.out[nid]:
            if f.back:
                continue
            successor = graph.nodes[graph.anchor(f.target)]
            successor.layer = max(successor.layer, graph.nodes[nid].layer + 1)
            indegree[successor.id] -= 1
            if indegree[successor.id] == 0:
                ready.append(successor.id)
    for host, events in graph.attached.items():
        for ev in events:
            graph.nodes[ev].layer = graph.nodes[host].layer


def _row_preference(graph: FlowGraph, node: Node, band_bottom: list[int]) -> tuple[int, tuple[int, int, int]]:
    preds = [f for f in graph.inc[node.id] if not f.back]
    if not preds:
        return 0, (0, 0, 0)

    def closeness(f: Flow) -> tuple[int, int, int]:
        a = graph.nodes[graph.anchor(f.source)]
        return (0 if a.band == node.band else 1, -a.layer, f.index)

    flow = min(preds, key=closeness)
    source = graph.nodes[flow.source]
    pred = graph.nodes[graph.anchor(flow.source)]
    order = graph.out[pred.id].index(flow)
    if pred.band == node.band:
        if source.host:
            # A flow leaving a boundary event heads down from the host's bottom edge.
            desired = pred.row + 1
        elif any(f.back and graph.nodes[f.target].band == node.band for f in graph.out[node.id]):
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


def _assign_rows(graph: FlowGraph) -> dict[int, list[Node]]:
    """First rows, column by column after the predecessors; returns the nodes of each column."""
    by_layer: dict[int, list[Node]] = {}
    for node in graph.nodes.values():
        if node.host is None:
            by_layer.setdefault(node.layer, []).append(node)
    band_bottom = [-1] * graph.band_count
    for layer in sorted(by_layer):
        entries = []
        for node in by_layer[layer]:
            desired, key = _row_preference(graph, node, band_bottom)
            entries.append((desired, key, node.index, node))
        entries.sort(key=lambda e: (e[0], e[1], e[2]))
        taken: dict[int, set[int]] = {}
        for desired, _, _, node in entries:
            rows = taken.setdefault(node.band, set())
            node.row = _nearest_free(desired, rows)
            rows.add(node.row)
            band_bottom[node.band] = max(band_bottom[node.band], node.row)
    return by_layer


def _nearest_free(desired: int, taken: set[int]) -> int:
    for delta in range(len(taken) + 1):
        for row in (desired + delta, desired - delta):
            if row not in taken:
                return row
    return desired + len(taken) + 1


def _row_y(band_top: list[int], band: int, row: int) -> int:
    return band_top[band] + row * ROW_PITCH


def _row_cost(graph: FlowGraph, node: Node, row: int, band_top: list[int]) -> float:
    """Weighted vertical distance from ``node`` (put in ``row``) to its neighbours.

    A flow weighs less the more columns it spans: long flows are routed through
    the channels between rows anyway, whereas short ones should stay straight.
    Flows leaving a boundary event count from one row below the host and weigh
    double, so the targets of boundary events stay below their host.  Flows
    between lanes always bend, so only their length counts.
    """
    y = _row_y(band_top, node.band, row)
    cost = 0.0
    for f in graph.inc[node.id] + graph.out[node.id]:
        incoming = graph.anchor(f.target) == node.id
        other = graph.nodes[graph.anchor(f.source if incoming else f.target)]
        if other is node:
            continue
        ref = _row_y(band_top, other.band, other.row)
        weight = 1 / max(abs(node.layer - other.layer), 1)
        if graph.nodes[f.source].host:
            weight *= 2
            ref += ROW_PITCH if incoming else -ROW_PITCH
        # Within a lane a flow can be a straight line, and a kink costs like a row of drop.
        kink = ROW_PITCH if other.band == node.band and y != ref else 0
        cost += weight * (abs(y - ref) + kink)
    return cost


def _refine_rows(graph: FlowGraph, by_layer: dict[int, list[Node]]) -> None:
    """Re-stack the nodes of each column to shorten vertical runs (barycentre-like sweeps).

    The greedy first pass only sees predecessors; these sweeps also pull a node
    towards its successors, which removes most avoidable crossings between lanes.
    """
    main = [n for n in graph.nodes.values() if n.host is None]
    lo = [min((n.row for n in main if n.band == b), default=0) for b in range(graph.band_count)]
    hi = [max((n.row for n in main if n.band == b), default=0) for b in range(graph.band_count)]
    band_top: list[int] = []
    offset = 0
    for b in range(graph.band_count):
        band_top.append(offset - lo[b] * ROW_PITCH)
        offset += (hi[b] - lo[b] + 1) * ROW_PITCH + BAND_PAD_TOP + BAND_PAD_BOTTOM + TASK_H
    layers = sorted(by_layer)
    for sweep in range(4):
        changed = False
        for layer in layers if sweep % 2 == 0 else reversed(layers):
            groups: dict[int, list[Node]] = {}
            for node in by_layer[layer]:
                groups.setdefault(node.band, []).append(node)
            for band, group in groups.items():
                rows = list(range(lo[band], hi[band] + 1))
                if math.perm(len(rows), len(group)) > MAX_ROW_PERMUTATIONS:
                    rows = sorted(n.row for n in group)
                current = [n.row for n in group]
                best = sum(_row_cost(graph, n, n.row, band_top) for n in group)
                choice = current
                for option in itertools.permutations(rows, len(group)):
                    cost = sum(_row_cost(graph, n, r, band_top) for n, r in zip(group, option, strict=True))
                    if cost < best - 0.5:
                        best, choice = cost, list(option)
                if choice != current:
                    changed = True
                    for n, r in zip(group, choice, strict=True):
                        n.row = r
        if not changed:
            break


def _compact_rows(graph: FlowGraph) -> list[int]:
    """Drop rows left empty, so each band is only as tall as its nodes need; returns the row counts."""
    band_rows = []
    for band in range(graph.band_count):
        members = [n for n in graph.nodes.values() if n.host is None and n.band == band]
        used = sorted({n.row for n in members})
        index = {row: i for i, row in enumerate(used)}
        for n in members:
            n.row = index[n.row]
        band_rows.append(max(len(used), 1))
    return band_rows
