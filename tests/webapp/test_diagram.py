"""The server-drawn procedure diagram: complete, marked by case state, escaped, fast."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lxml import etree

from webapp.diagram import DiagramError, element_names, render_svg, wrap

ROOT = Path(__file__).resolve().parents[2]
SVG = "http://www.w3.org/2000/svg"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
PROCESS_ID = "fangtiao_referral"
TASKS = ("userTask", "serviceTask", "businessRuleTask", "scriptTask", "task", "callActivity")

ACTIVE = {"mediate"}
COMPLETED = {
    "start",
    "assign_locality",
    "screen_case",
    "check_prior",
    "scope_rules",
    "gw_suitable",
    "guide_divert",
    "gw_consent",
    "draft_referral",
    "approve_referral",
    "gw_approval",
    "issue_referral",
    "review_referral",
    "gw_review",
    "accept_case",
}


@pytest.fixture(scope="module")
def bpmn_xml() -> str:
    return (ROOT / "processes" / "referral.bpmn").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def svg(bpmn_xml: str) -> etree._Element:
    return etree.fromstring(render_svg(bpmn_xml, PROCESS_ID, ACTIVE, COMPLETED).encode("utf-8"))


def _groups(svg: etree._Element) -> dict[str, etree._Element]:
    return {g.get("data-element-id"): g for g in svg.iter(f"{{{SVG}}}g") if "ftd-el" in g.get("class", "")}


def _classes(element: etree._Element) -> set[str]:
    return set(element.get("class", "").split())


def _text(element: etree._Element) -> str:
    """The visible text of an element group (lines of a wrapped name joined), without its <title>."""
    return "".join("".join(t.itertext()) for t in element.iter(f"{{{SVG}}}text"))


def _model(bpmn_xml: str) -> etree._Element:
    return etree.fromstring(bpmn_xml.encode("utf-8"))


def test_svg_is_xml_that_scales_and_runs_no_script(svg: etree._Element) -> None:
    assert svg.tag == f"{{{SVG}}}svg"
    assert svg.get("width") == "100%"
    assert len(svg.get("viewBox", "").split()) == 4
    assert not list(svg.iter(f"{{{SVG}}}script"))
    for element in svg.iter():
        assert not any(name.startswith("on") for name in element.attrib), element.tag


def test_view_box_holds_every_shape_of_the_di(bpmn_xml: str, svg: etree._Element) -> None:
    x, y, w, h = (float(v) for v in svg.get("viewBox", "").split())
    for bounds in _model(bpmn_xml).iter("{http://www.omg.org/spec/DD/20100524/DC}Bounds"):
        bx, by = float(bounds.get("x", "0")), float(bounds.get("y", "0"))
        bw, bh = float(bounds.get("width", "0")), float(bounds.get("height", "0"))
        assert x <= bx and y <= by and bx + bw <= x + w and by + bh <= y + h


def test_every_task_is_drawn_with_its_name(bpmn_xml: str, svg: etree._Element) -> None:
    groups = _groups(svg)
    tasks = [t for tag in TASKS for t in _model(bpmn_xml).iter(f"{{{BPMN}}}{tag}")]
    assert len(tasks) > 20
    for task in tasks:
        group = groups[task.get("id")]
        name = task.get("name", "")
        # Wrapping splits the name over lines; a shortened one ends with … and <title> keeps it whole.
        assert _text(group).rstrip("…") in name and _text(group)[:3] == name[:3], task.get("id")
        assert name in group.findtext(f"{{{SVG}}}title", "")


def test_every_element_has_a_title_first(svg: etree._Element) -> None:
    for element_id, group in _groups(svg).items():
        assert group[0].tag == f"{{{SVG}}}title", element_id
        assert group[0].text


def test_pool_and_lanes_are_named(svg: etree._Element) -> None:
    lanes = {g.get("data-element-id"): _text(g) for g in svg.iter(f"{{{SVG}}}g") if "ftd-lane" in _classes(g)}
    assert lanes["lane_clerk"] == "信访部门经办人"
    assert lanes["lane_mediation"] == "人民调解组织"
    assert lanes["lane_justice"] == "司法行政部门"
    assert any("ftd-pool" in _classes(g) for g in svg.iter(f"{{{SVG}}}g"))


def test_active_and_completed_are_marked(svg: etree._Element) -> None:
    groups = _groups(svg)
    assert "ftd-active" in _classes(groups["mediate"])
    assert groups["mediate"].get("aria-current") == "step"
    assert "当前办理" in groups["mediate"].findtext(f"{{{SVG}}}title", "")
    for element_id in COMPLETED:
        assert "ftd-done" in _classes(groups[element_id]), element_id
        assert "已完成" in groups[element_id].findtext(f"{{{SVG}}}title", "")
    for element_id in ("record_agreement", "terminate_mediation", "end_closed", "ordinary_procedure"):
        assert not _classes(groups[element_id]) & {"ftd-done", "ftd-active"}, element_id
    assert "依法调解" in svg.get("aria-label", "")


def test_every_flow_has_an_arrow_and_the_taken_path_is_marked(bpmn_xml: str, svg: etree._Element) -> None:
    groups = _groups(svg)
    flows = list(_model(bpmn_xml).iter(f"{{{BPMN}}}sequenceFlow"))
    assert len(flows) > 40
    for flow in flows:
        group = groups[flow.get("id")]
        path = group.find(f"{{{SVG}}}path")
        assert path is not None and path.get("marker-end", "").startswith("url(#ftd-arrow"), flow.get("id")
        reached = ACTIVE | COMPLETED
        taken = flow.get("sourceRef") in reached and flow.get("targetRef") in reached
        assert ("ftd-taken" in _classes(group)) == taken, flow.get("id")
    assert "ftd-taken" in _classes(groups["f_case_accepted"])
    assert "ftd-taken" not in _classes(groups["f_agreed"])


def test_markers_are_defined(svg: etree._Element) -> None:
    ids = {m.get("id") for m in svg.iter(f"{{{SVG}}}marker")}
    assert {"ftd-arrow", "ftd-arrow-taken", "ftd-default"} <= ids


def test_gateways_events_and_labels(svg: etree._Element) -> None:
    groups = _groups(svg)
    gateway = groups["gw_mediation"]
    assert gateway.find(f"{{{SVG}}}path") is not None  # the diamond
    assert gateway.find(f".//{{{SVG}}}g[@class='ftd-glyph ftd-glyph-exclusive']") is not None
    assert groups["start"].find(f"{{{SVG}}}circle") is not None
    assert "ftd-end" in _classes(groups["end_closed"])
    assert (
        groups["mediation_deadline_reached"].find(f".//{{{SVG}}}g[@class='ftd-glyph ftd-glyph-timer']")
        is not None
    )
    assert groups["risk_reported"].find(f".//{{{SVG}}}g[@class='ftd-glyph ftd-glyph-signal']") is not None
    labels = "".join(_text(g) for g in svg.iter(f"{{{SVG}}}g") if "ftd-label" in _classes(g))
    for name in ("达成协议", "终止调解", "同意移送", "调解期限届满"):
        assert name in labels


def test_default_flows_carry_the_slash(svg: etree._Element) -> None:
    path = _groups(svg)["f_unsuitable"].find(f"{{{SVG}}}path")
    assert path is not None and path.get("marker-start") == "url(#ftd-default)"


def test_names_are_escaped() -> None:
    xml = _SMALL.replace("NAME", "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 确认")
    text = render_svg(xml, "p", {"task"}, set())
    svg = etree.fromstring(text.encode("utf-8"))
    assert not list(svg.iter(f"{{{SVG}}}script"))
    assert "<script>" not in text
    assert "<script>alert(1)</script> & 确认" in _groups(svg)["task"].findtext(f"{{{SVG}}}title", "")
    assert "&lt;script&gt;" in text


def test_small_process_without_pool() -> None:
    svg = etree.fromstring(render_svg(_SMALL.replace("NAME", "审查"), "p", set(), {"s"}).encode("utf-8"))
    groups = _groups(svg)
    assert set(groups) == {"s", "task", "e", "f1", "f2"}
    assert "ftd-done" in _classes(groups["s"])
    assert svg.get("viewBox") == "88 88 364 124"


def test_unknown_process_or_broken_xml_raise() -> None:
    with pytest.raises(DiagramError):
        render_svg(_SMALL, "nope", set(), set())
    with pytest.raises(DiagramError):
        render_svg("<definitions", "p", set(), set())


def test_element_names(bpmn_xml: str) -> None:
    names = element_names(bpmn_xml, PROCESS_ID)
    assert names["mediate"] == "依法调解"
    assert names["lane_justice"] == "司法行政部门"


def test_warm_render_is_fast(bpmn_xml: str) -> None:
    render_svg(bpmn_xml, PROCESS_ID, ACTIVE, COMPLETED)
    # A fresh string each time, as the page reads it from the database per request.
    copies = [bpmn_xml[:-1] + bpmn_xml[-1] for _ in range(50)]
    start = time.perf_counter()
    for copy in copies:
        render_svg(copy, PROCESS_ID, ACTIVE, COMPLETED)
    per_call = (time.perf_counter() - start) / len(copies)
    assert per_call < 0.005, f"{per_call * 1000:.2f} ms"


def test_wrap_balances_and_respects_the_width() -> None:
    assert wrap("签收回执并恢复信访办理", 88, 12) == ["签收回执并恢", "复信访办理"]
    assert wrap("依法调解", 88, 12) == ["依法调解"]
    for line in wrap("终止调解并出具告知书（人民调解法第二十六条）", 88, 12):
        assert len(line) <= 8
        assert not line.startswith(("）", "，"))
    assert wrap("第一行\n第二行", 200, 12) == ["第一行", "第二行"]


_SMALL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="d">
  <process id="p" name="小流程">
    <startEvent id="s"/>
    <userTask id="task" name="NAME"/>
    <endEvent id="e"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="task"/>
    <sequenceFlow id="f2" sourceRef="task" targetRef="e"/>
  </process>
  <bpmndi:BPMNDiagram id="dia">
    <bpmndi:BPMNPlane id="plane" bpmnElement="p">
      <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="100" y="132" width="36" height="36"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="task_di" bpmnElement="task"><dc:Bounds x="200" y="100" width="100" height="100"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="e_di" bpmnElement="e"><dc:Bounds x="404" y="132" width="36" height="36"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1">
        <di:waypoint x="136" y="150"/><di:waypoint x="200" y="150"/>
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2">
        <di:waypoint x="300" y="150"/><di:waypoint x="404" y="150"/>
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</definitions>
"""


def test_a_file_without_di_is_refused_with_a_message() -> None:
    """A diagram needs its layout (BPMN DI); the page says so instead of drawing nothing."""
    without = _SMALL[: _SMALL.index("  <bpmndi:BPMNDiagram")] + "</definitions>\n"
    with pytest.raises(DiagramError, match="BPMN DI"):
        render_svg(without.replace("NAME", "审查"), "p", {"task"}, set())
