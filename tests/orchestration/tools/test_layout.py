"""Diagram layout (BPMN DI) written by orchestration.tools.layout."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from orchestration.domain.bpmn import BPMN_NS, BPMNDI_NS, DC_NS, DI_NS
from orchestration.tools.layout import Rect, add_layout, main

ROOT = Path(__file__).resolve().parents[3]
REFERRAL = ROOT / "processes" / "referral.bpmn"
SCOPE = ROOT / "processes" / "scope.dmn"
NS = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}

FLOW_NODES = (
    *("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"),
    *("task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask"),
    *("manualTask", "callActivity", "subProcess"),
    *("exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway"),
)

PLAIN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="plain_defs" targetNamespace="urn:t">
  <process id="plain" isExecutable="true">
    <startEvent id="s" name="\xe5\xbc\x80\xe5\xa7\x8b"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="fill"/>
    <userTask id="fill" name="fill in"/>
    <sequenceFlow id="f2" sourceRef="fill" targetRef="gw"/>
    <exclusiveGateway id="gw" name="ok?" default="f4"/>
    <sequenceFlow id="f3" name="yes" sourceRef="gw" targetRef="archive"/>
    <sequenceFlow id="f4" name="no" sourceRef="gw" targetRef="fill"/>
    <sequenceFlow id="f5" name="other" sourceRef="gw" targetRef="other"/>
    <task id="archive" name="archive"/>
    <boundaryEvent id="late" name="late" attachedToRef="archive"><timerEventDefinition/></boundaryEvent>
    <sequenceFlow id="f6" sourceRef="late" targetRef="e2"/>
    <task id="other" name="other"/>
    <sequenceFlow id="f7" sourceRef="archive" targetRef="e"/>
    <sequenceFlow id="f8" sourceRef="other" targetRef="e"/>
    <endEvent id="e" name="done"/>
    <endEvent id="e2" name="late end"/>
  </process>
</definitions>
"""


@dataclass
class Diagram:
    plane: str
    shapes: dict[str, Rect] = field(default_factory=dict)
    attrs: dict[str, dict[str, str]] = field(default_factory=dict)
    labels: dict[str, Rect] = field(default_factory=dict)
    edges: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


def _rect(bounds: etree._Element) -> Rect:
    return Rect(*(int(float(bounds.get(k, "0"))) for k in ("x", "y", "width", "height")))


def read_diagrams(xml: bytes) -> list[Diagram]:
    root = etree.fromstring(xml)
    out = []
    for diagram in root.findall("bpmndi:BPMNDiagram", NS):
        plane = diagram.find("bpmndi:BPMNPlane", NS)
        d = Diagram(plane.get("bpmnElement"))
        for shape in plane.findall("bpmndi:BPMNShape", NS):
            element = shape.get("bpmnElement")
            assert element not in d.shapes, f"two shapes for {element}"
            d.shapes[element] = _rect(shape.find("dc:Bounds", NS))
            d.attrs[element] = dict(shape.attrib)
            label = shape.find("bpmndi:BPMNLabel/dc:Bounds", NS)
            if label is not None:
                d.labels[element] = _rect(label)
        for edge in plane.findall("bpmndi:BPMNEdge", NS):
            element = edge.get("bpmnElement")
            assert element not in d.edges, f"two edges for {element}"
            d.edges[element] = [(int(w.get("x")), int(w.get("y"))) for w in edge.findall("di:waypoint", NS)]
            label = edge.find("bpmndi:BPMNLabel/dc:Bounds", NS)
            if label is not None:
                d.labels[element] = _rect(label)
        out.append(d)
    return out


def flow_nodes(container: etree._Element) -> dict[str, etree._Element]:
    return {el.get("id"): el for tag in FLOW_NODES for el in container.findall(f"bpmn:{tag}", NS)}


def on_border(point: tuple[int, int], r: Rect) -> bool:
    x, y = point
    inside_x, inside_y = r.x <= x <= r.x2, r.y <= y <= r.y2
    return (inside_y and x in (r.x, r.x2)) or (inside_x and y in (r.y, r.y2))


def strip_diagrams(xml: bytes) -> bytes:
    return re.sub(rb"[ \t]*<bpmndi:BPMNDiagram\b.*?</bpmndi:BPMNDiagram>\s*?\n", b"", xml, flags=re.DOTALL)


@pytest.fixture(scope="module")
def source() -> bytes:
    return strip_diagrams(REFERRAL.read_bytes())


@pytest.fixture(scope="module")
def laid_out(source: bytes) -> bytes:
    return add_layout(source)


@pytest.fixture(scope="module")
def diagram(laid_out: bytes) -> Diagram:
    diagrams = read_diagrams(laid_out)
    assert len(diagrams) == 1
    return diagrams[0]


@pytest.fixture(scope="module")
def model(source: bytes) -> etree._Element:
    return etree.fromstring(source)


def test_plane_is_the_collaboration_with_a_horizontal_pool(diagram: Diagram) -> None:
    assert diagram.plane == "referral_collaboration"
    assert diagram.attrs["referral_participant"].get("isHorizontal") == "true"


def test_every_flow_node_and_lane_has_a_shape(diagram: Diagram, model: etree._Element) -> None:
    process = model.find("bpmn:process", NS)
    nodes = flow_nodes(process)
    lanes = [lane.get("id") for lane in process.iterfind(".//bpmn:lane", NS)]
    assert len(nodes) > 40 and len(lanes) == 4
    assert not [n for n in [*nodes, *lanes] if n not in diagram.shapes]
    for lane in lanes:
        assert diagram.attrs[lane].get("isHorizontal") == "true"


def test_shape_sizes(diagram: Diagram, model: etree._Element) -> None:
    for nid, el in flow_nodes(model.find("bpmn:process", NS)).items():
        r = diagram.shapes[nid]
        tag = etree.QName(el).localname
        if tag.endswith("Gateway"):
            assert (r.w, r.h) == (50, 50)
            assert diagram.attrs[nid].get("isMarkerVisible") == "true"
        elif tag.endswith("Event"):
            assert (r.w, r.h) == (36, 36)
        else:
            # a task carrying several boundary events is widened so they do not overlap
            assert r.h == 80 and r.w >= 100, nid


def test_named_gateways_events_and_flows_have_labels(diagram: Diagram, model: etree._Element) -> None:
    process = model.find("bpmn:process", NS)
    named = [
        nid
        for nid, el in flow_nodes(process).items()
        if el.get("name") and not etree.QName(el).localname.endswith(("Task", "task"))
    ]
    named += [f.get("id") for f in process.findall("bpmn:sequenceFlow", NS) if f.get("name")]
    missing = [n for n in named if n not in diagram.labels or diagram.labels[n].w <= 0]
    assert not missing


def test_every_sequence_flow_has_an_orthogonal_edge_from_border_to_border(
    diagram: Diagram, model: etree._Element
) -> None:
    flows = model.find("bpmn:process", NS).findall("bpmn:sequenceFlow", NS)
    assert len(flows) > 50
    for flow in flows:
        points = diagram.edges[flow.get("id")]
        assert len(points) >= 2
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            assert x1 == x2 or y1 == y2, flow.get("id")
        assert on_border(points[0], diagram.shapes[flow.get("sourceRef")]), flow.get("id")
        assert on_border(points[-1], diagram.shapes[flow.get("targetRef")]), flow.get("id")


def _node_shapes(diagram: Diagram, container: etree._Element) -> dict[str, Rect]:
    return {nid: diagram.shapes[nid] for nid in flow_nodes(container)}


def _hosts(container: etree._Element) -> dict[str, str]:
    return {b.get("id"): b.get("attachedToRef") for b in container.findall("bpmn:boundaryEvent", NS)}


def assert_no_overlaps(shapes: dict[str, Rect], hosts: dict[str, str]) -> None:
    clashes = [
        (a, b)
        for (a, ra), (b, rb) in itertools.combinations(shapes.items(), 2)
        if ra.overlaps(rb) and hosts.get(a) != b and hosts.get(b) != a
    ]
    assert not clashes


def assert_edges_avoid_shapes(diagram: Diagram, container: etree._Element) -> None:
    shapes = _node_shapes(diagram, container)
    hosts = _hosts(container)
    for flow in container.findall("bpmn:sequenceFlow", NS):
        ends = {flow.get("sourceRef"), flow.get("targetRef")}
        ends |= {hosts[e] for e in list(ends) if e in hosts}  # a boundary flow starts on its host's edge
        for (x1, y1), (x2, y2) in itertools.pairwise(diagram.edges[flow.get("id")]):
            segment = Rect(min(x1, x2), min(y1, y2), abs(x2 - x1) or 1, abs(y2 - y1) or 1)
            hit = [n for n, r in shapes.items() if n not in ends and r.inflate(-1).overlaps(segment)]
            assert not hit, (flow.get("id"), hit)


def test_no_two_node_shapes_overlap(diagram: Diagram, model: etree._Element) -> None:
    process = model.find("bpmn:process", NS)
    assert_no_overlaps(_node_shapes(diagram, process), _hosts(process))


def test_sequence_flows_do_not_run_through_shapes(diagram: Diagram, model: etree._Element) -> None:
    assert_edges_avoid_shapes(diagram, model.find("bpmn:process", NS))


def test_boundary_events_sit_on_the_bottom_edge_of_the_host(diagram: Diagram, model: etree._Element) -> None:
    hosts = _hosts(model.find("bpmn:process", NS))
    assert hosts
    for event, host in hosts.items():
        e, h = diagram.shapes[event], diagram.shapes[host]
        assert e.cy == h.y2 and h.x <= e.cx <= h.x2, event
    # 依法调解 carries two boundary events: spread out, not stacked.
    assert not diagram.shapes["mediation_deadline_reached"].overlaps(diagram.shapes["risk_reported"])


def test_nodes_lie_in_their_lane_and_lanes_in_the_pool(diagram: Diagram, model: etree._Element) -> None:
    pool = diagram.shapes["referral_participant"]
    lanes = model.find("bpmn:process", NS).findall("bpmn:laneSet/bpmn:lane", NS)
    bands = [diagram.shapes[lane.get("id")] for lane in lanes]
    for above, below in itertools.pairwise(bands):
        assert above.y2 == below.y  # stacked top to bottom in lane-set order
    for lane, band in zip(lanes, bands, strict=True):
        assert pool.contains(band)
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            assert band.contains(diagram.shapes[ref.text]), ref.text


def test_columns_follow_the_sequence_flows(diagram: Diagram) -> None:
    x = {n: diagram.shapes[n].cx for n in ("start", "assign_locality", "screen_case", "gw_suitable")}
    assert x["start"] < x["assign_locality"] < x["screen_case"] < x["gw_suitable"]
    # A back edge (退回修改) does not pull its target to the right of its source.
    assert diagram.shapes["draft_referral"].cx < diagram.shapes["gw_approval"].cx
    assert diagram.shapes["mediate"].cx < diagram.shapes["extend_mediation"].cx


def test_labels_do_not_cover_shapes_or_each_other(diagram: Diagram) -> None:
    nodes = {k: r for k, r in diagram.shapes.items() if not k.startswith(("lane_", "referral_"))}
    for (a, ra), (b, rb) in itertools.combinations(diagram.labels.items(), 2):
        assert not ra.overlaps(rb), (a, b)
    for a, ra in diagram.labels.items():
        assert not [n for n, r in nodes.items() if r.overlaps(ra)], a


def test_layout_is_idempotent(laid_out: bytes) -> None:
    assert add_layout(laid_out) == laid_out


def test_only_the_diagram_is_added(source: bytes, laid_out: bytes) -> None:
    assert laid_out.count(b"<bpmndi:BPMNDiagram") == 1
    assert laid_out.rstrip().endswith(b"</bpmndi:BPMNDiagram>\n</bpmn:definitions>")
    assert strip_diagrams(laid_out) == source


def test_existing_diagram_is_replaced(laid_out: bytes) -> None:
    stale = re.sub(rb'x="\d+"', b'x="1"', laid_out)
    assert stale != laid_out
    assert add_layout(stale) == laid_out


def test_laid_out_referral_still_parses_with_spiff(laid_out: bytes, tmp_path: Path) -> None:
    path = tmp_path / "referral.bpmn"
    path.write_bytes(laid_out)
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files([str(path)])
    parser.add_dmn_files([str(SCOPE)])
    spec = parser.get_spec("fangtiao_referral")
    assert "mediate" in spec.task_specs


def test_committed_referral_parses_with_spiff() -> None:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files([str(REFERRAL)])
    parser.add_dmn_files([str(SCOPE)])
    assert parser.get_spec("fangtiao_referral") is not None


def test_plain_process_without_lanes() -> None:
    out = add_layout(PLAIN)
    assert add_layout(out) == out
    [diagram] = read_diagrams(out)
    assert diagram.plane == "plain"
    process = etree.fromstring(out).find("bpmn:process", NS)
    nodes = flow_nodes(process)
    assert set(nodes) <= set(diagram.shapes)
    assert {f.get("id") for f in process.findall("bpmn:sequenceFlow", NS)} == set(diagram.edges)
    assert all(len(points) >= 2 for points in diagram.edges.values())
    assert_no_overlaps(_node_shapes(diagram, process), _hosts(process))
    assert_edges_avoid_shapes(diagram, process)
    # The root declared none of the DI namespaces; the diagram declares them itself.
    assert b'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"' in out
    assert out.startswith(PLAIN[: PLAIN.index(b"</definitions>")])


def test_node_missing_from_the_lane_set_joins_a_neighbours_lane() -> None:
    xml = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="urn:t">
  <bpmn:collaboration id="c"><bpmn:participant id="p" processRef="proc"/></bpmn:collaboration>
  <bpmn:process id="proc">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="a"><bpmn:flowNodeRef>s</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="b"><bpmn:flowNodeRef>t</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <bpmn:task id="t"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="loose"/>
    <bpmn:task id="loose"/>
  </bpmn:process>
</bpmn:definitions>
"""
    [diagram] = read_diagrams(add_layout(xml))
    assert diagram.shapes["b"].contains(diagram.shapes["loose"])
    assert diagram.shapes["a"].contains(diagram.shapes["s"])


def test_diagram_goes_before_relationships() -> None:
    # BPMN's schema orders BPMNDiagram before relationship; the text patch cannot, so the
    # document is re-serialised instead.
    relationship = b'<relationship type="t"><source>plain</source><target>plain</target></relationship>\n'
    xml = PLAIN.replace(b"</definitions>", relationship + b"</definitions>")
    out = add_layout(xml)
    assert add_layout(out) == out
    children = [etree.QName(el).localname for el in etree.fromstring(out)]
    assert children == ["process", "BPMNDiagram", "relationship"]


def test_not_bpmn_is_rejected() -> None:
    with pytest.raises(ValueError, match="not a BPMN document"):
        add_layout(b"<html/>")


def test_main_lays_out_files_in_place(tmp_path: Path) -> None:
    path = tmp_path / "plain.bpmn"
    path.write_bytes(PLAIN)
    assert main([str(path)]) == 0
    first = path.read_bytes()
    assert b"BPMNDiagram" in first
    assert main([str(path)]) == 0
    assert path.read_bytes() == first


def test_main_reports_unreadable_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.bpmn"
    assert main([str(missing)]) == 1
    assert "missing.bpmn" in capsys.readouterr().err
