"""流程管理 in the browser: the policy officer changes the mediation deadline from 15 to 10 days in the
modeler's side panel, the check runs the scenarios and shows the changed deadline, the officer deploys; a
new case gets 10 days, a case already in mediation keeps 15 until it is migrated, then gets 10. The diagram
saved from the modeler opens again in bpmn-js without warnings, its lanes and layout as they were.

This module changes the deployed procedure, so it brings a server (and database) of its own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Page, expect

from orchestration.domain.calendar import SHANGHAI
from orchestration.store.models import Case, Draft, Timer
from tests.browser.conftest import LiveServer, serve
from tests.browser.ui import Ui
from tests.helpers import advance_to, start

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
ROOT = Path(__file__).resolve().parents[2]
FIFTEEN = 'deadline_days(acceptance["accepted_at"], 15 + acceptance["extension_days"])'
TEN = 'deadline_days(acceptance["accepted_at"], 10 + acceptance["extension_days"])'
# accepted on 2 November 2026 (the frozen clock): 15 days end on 17 November, 10 days on 12 November
DAY_15, DAY_10 = "2026-11-17", "2026-11-12"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(tmp_path_factory.mktemp("policy")) as server:
        yield server


def _case_no(live_server: LiveServer, case_id: int) -> str:
    with live_server.runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.case_no


def _mediation_deadline(live_server: LiveServer, case_id: int) -> str:
    with live_server.runtime.sessions() as session:
        timers = session.query(Timer).filter(Timer.case_id == case_id).all()
        (due,) = [t.due_at for t in timers if t.name == "调解期限届满"]
        return (due if due.tzinfo else due.replace(tzinfo=UTC)).astimezone(SHANGHAI).date().isoformat()


def _select(page: Page, element_id: str) -> None:
    """Brings the element into view at full size and clicks it: the side panel shows it."""
    page.evaluate(
        """id => { const m = window.fangtiaoEditor.modeler, c = m.get('canvas');
                   m.get('selection').select(null);  // the last selection's context pad would cover it
                   c.zoom(1); c.scrollToElement(m.get('elementRegistry').get(id)); }""",
        element_id,
    )
    page.locator(f'#modeler .djs-element[data-element-id="{element_id}"]').click()
    expect(page.locator("#properties")).to_have_attribute("data-element", element_id)


def _edit_timer(page: Page, element_id: str, old: str, new: str) -> None:
    """Rewrites the element's timer expression in the side panel."""
    _select(page, element_id)
    timer = page.locator("#prop-timer")
    assert old in timer.input_value()
    timer.fill(timer.input_value().replace(old, new))
    timer.press("Tab")  # a change is taken when the field is left
    expect(page.locator("#dirty")).to_be_visible()


def _layout(xml: str) -> tuple[dict[str, list[str]], dict[str, tuple[str, ...]]]:
    """Each lane's elements and each shape's bounds."""
    tree = etree.fromstring(xml.encode())
    lanes = {
        lane.get("id"): sorted(ref.text for ref in lane.iter(f"{BPMN}flowNodeRef"))
        for lane in tree.iter(f"{BPMN}lane")
    }
    sides = ("x", "y", "width", "height")
    shapes = {
        shape.get("bpmnElement"): tuple(shape.find(f"{DC}Bounds").get(k) for k in sides)
        for shape in tree.iter(f"{DI}BPMNShape")
    }
    return lanes, shapes


def _number(value: str | None) -> float:
    return round(float(value or 0), 1)


def test_the_officer_shortens_the_mediation_deadline_checks_deploys_and_migrates(
    ui: Ui, live_server: LiveServer
) -> None:
    runtime = live_server.runtime
    in_mediation = start(runtime, matter="院墙纠纷（迁移前已在调解）")
    advance_to(runtime, in_mediation, "mediate")
    old_case = _case_no(live_server, in_mediation)
    page = ui.page
    page.on("dialog", lambda dialog: dialog.accept())  # the deployment's confirmation

    ui.login("policy")
    page.click("#nav-policy")
    page.click("#process-fangtiao_referral a")
    expect(page.locator("#version-1 .running")).to_have_text("1")
    ui.shot("versions")
    page.click("#new-draft-1")
    editor = page.locator("#editor")
    expect(editor).to_have_attribute("data-state", "ready")
    expect(editor).to_have_attribute("data-import-warnings", "0")

    _edit_timer(page, "mediation_deadline_reached", "15 + ", "10 + ")
    _edit_timer(page, "mediation_deadline_near", "15 + ", "10 + ")
    ui.shot("timers-edited")

    page.click("#check-draft")  # saves first, then checks and runs the scenarios
    expect(page.locator("#check-status")).to_contain_text("检查通过", timeout=30_000)
    report = page.locator("#scenario-report")
    expect(report).to_be_visible(timeout=240_000)
    success = report.locator('tr[data-file="scenarios/01_success_full_path.json"]')
    # the scenario's clock accepts on 3 November: 15 days end on the 18th, 10 on the 13th
    expect(success).to_contain_text(
        re.compile(
            r"已部署版本：[^；]*调解期限届满 2026-11-18 23:59；"
            r"草稿：[^；]*调解期限届满 2026-11-13 23:59"
        )
    )
    ui.shot("checked")

    # what was saved is the modeler's XML: it opens again without warnings, lanes and layout unchanged
    with runtime.sessions() as session:
        saved = session.query(Draft).one().files["referral.bpmn"]
    original = (ROOT / "processes" / "referral.bpmn").read_text(encoding="utf-8")
    assert saved.count(TEN) == 2 and FIFTEEN not in saved
    (lanes, shapes), (old_lanes, old_shapes) = _layout(saved), _layout(original)
    assert lanes == old_lanes
    assert {k: tuple(map(_number, v)) for k, v in shapes.items()} == {
        k: tuple(map(_number, v)) for k, v in old_shapes.items()
    }
    page.reload()
    expect(editor).to_have_attribute("data-state", "ready")
    expect(editor).to_have_attribute("data-import-warnings", "0")

    page.click("#deploy-draft")
    expect(page.locator("#deployed")).to_contain_text("已部署第2版")
    expect(page.locator("#version-2 .changes")).to_contain_text("调解期限届满")
    expect(page.locator("#version-1 .running")).to_have_text("1")
    ui.shot("deployed")

    # a new case gets 10 days; the case already in mediation keeps 15
    new_case = start(runtime, matter="院墙纠纷（部署后登记）")
    advance_to(runtime, new_case, "mediate")
    assert _mediation_deadline(live_server, new_case) == DAY_10
    assert _mediation_deadline(live_server, in_mediation) == DAY_15

    page.click("#migrate-1")
    row = page.locator(f"#move-{old_case}")
    expect(row).to_contain_text("可以迁移")
    expect(row).to_contain_text(f"{DAY_15}")
    expect(row).to_contain_text(f"{DAY_10}")
    ui.shot("migration-preview")
    page.click("#migrate-submit")
    expect(page.locator("#migrated")).to_contain_text(f"已迁移 1 件：{old_case}")
    ui.shot("migrated")
    assert _mediation_deadline(live_server, in_mediation) == DAY_10

    ui.logout()
    ui.login("clerk")
    page.goto(f"/cases/{old_case}")
    expect(page.locator("#timeline")).to_contain_text("由流程第1版迁移到第2版")
    table = page.locator("#deadline-table")
    expect(table).to_contain_text("2026年11月12日")
    # the mediation deadline once, as the timer counts it: not the handler's own 15-day figure beside it
    mediation = table.locator("tr", has_text="调解期限（受理之日起")
    expect(mediation).to_have_count(1)
    expect(mediation).to_contain_text("调解期限（受理之日起10日；")
    expect(mediation).to_contain_text("2026年11月12日")
    expect(table).not_to_contain_text("受理之日起15日")
    expect(table).not_to_contain_text("定时：调解期限届满")
    ui.shot("case-after-migration")
    expect(page.locator("#diagram-viewer")).to_have_attribute("data-state", "ready")
    expect(page.locator("#diagram-viewer")).to_have_attribute("data-warnings", "0")  # the deployed edit
    expect(page.locator('#diagram-viewer .step-current[data-element-id="mediate"]')).to_have_count(1)


def test_conflicts_findings_rules_and_forms_in_the_editor(ui: Ui, live_server: LiveServer) -> None:
    """Two windows on one draft: the second save is refused, clearly; a wrong timer is highlighted in the
    modeler after the check; the scope rules open as a decision table; a form's preview follows its JSON."""
    page = ui.page
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    ui.login("policy")
    page.goto("/policy/processes/fangtiao_referral")
    page.locator("#version-table tbody tr").first.locator("button[id^='new-draft-']").click()
    editor = page.locator("#editor")
    expect(editor).to_have_attribute("data-state", "ready")
    second = page.context.new_page()
    second.goto(page.url)
    expect(second.locator("#editor")).to_have_attribute("data-state", "ready")

    _edit_timer(page, "mediation_deadline_reached", "deadline_days(", 'open("x") or deadline_days(')
    page.click("#save-draft")
    expect(page.locator("#editor-message")).to_contain_text("草稿已保存")
    _edit_timer(second, "mediation_deadline_near", "]), 1)", "]), 2)")
    second.click("#save-draft")
    conflict = second.locator("#editor-message .conflict")
    expect(conflict).to_contain_text("保存冲突：草稿已由黄强于")
    expect(conflict).to_contain_text("未保存")
    ui.shots(second, "conflict")
    second.close()

    # a rule's cell and a form's field broken too: the check points into the table and the form
    page.click("#tab-rules-button")
    page.locator("#dmn-editor td", has_text="len(?.strip()) > 0").click()
    page.keyboard.press("End")
    page.keyboard.type(" or open(1)")
    page.click("#tab-forms-button")
    page.select_option("#form-select", "forms/mediate.json")
    form = page.locator("#form-text")
    form.fill(form.input_value().replace('"title": "延长天数"', '"title": 7', 1))

    page.click("#check-draft")
    finding = page.locator('#findings li.finding-error[data-element="mediation_deadline_reached"]')
    expect(finding).to_contain_text("调解期限届满")
    expect(page.locator("#check-status")).to_contain_text("不能部署")
    finding.locator("button").click()
    expect(page.locator("#tab-diagram")).to_be_visible()
    marked = page.locator('#modeler .djs-element.finding-error[data-element-id="mediation_deadline_reached"]')
    expect(marked).to_have_count(1)
    expect(page.locator("#properties")).to_have_attribute("data-element", "mediation_deadline_reached")
    ui.shot("finding-highlighted")

    page.click("#tab-results-button")
    rule = page.locator('#findings li.finding-error[data-element="rule_4_in_3"]')
    expect(rule).to_contain_text("scope.dmn 第5条规则·其他不适宜情形（原因）")
    rule.locator("button", has_text="在决策表中查看").click()
    expect(page.locator("#tab-rules")).to_be_visible()
    cell = page.locator('#dmn-editor td[data-element-id="rule_4_in_3"]')
    expect(cell).to_have_css("outline-style", "solid")
    expect(page.locator('#dmn-editor td[data-element-id="rule_3_in_3"]')).to_have_css("outline-style", "none")
    ui.shot("rule-highlighted")

    page.click("#tab-results-button")
    field = page.locator(
        '#findings li.finding-error[data-file="forms/mediate.json"][data-element="extension_days"]'
    )
    field.locator("button", has_text="在表单中查看").click()
    expect(page.locator("#tab-forms")).to_be_visible()
    expect(page.locator("#form-select")).to_have_value("forms/mediate.json")
    expect(page.locator('#form-findings li.finding-error[data-field="extension_days"]')).to_contain_text(
        "缺少 title（字段标题）"
    )
    selected = form.evaluate("t => t.value.slice(t.selectionStart, t.selectionEnd)")
    assert selected.strip() == '"extension_days": {', selected
    ui.shot("field-highlighted")

    page.click("#tab-rules-button")
    expect(page.locator("#dmn-editor .tjs-table")).to_be_visible()
    expect(page.locator("#dmn-editor")).to_contain_text("纠纷类型")
    ui.shot("rules")

    page.click("#tab-forms-button")
    page.select_option("#form-select", "forms/guide_divert.json")
    expect(page.locator("#form-preview h3")).to_have_text("引导分流")
    text = page.locator("#form-text").input_value()
    page.locator("#form-text").fill(text.replace('"title": "引导分流"', '"title": "引导分流（试行）"', 1))
    expect(page.locator("#form-preview h3")).to_have_text("引导分流（试行）")
    page.locator("#form-text").fill(text[:-5])
    expect(page.locator("#form-preview-error")).to_contain_text("不是有效的 JSON")
    ui.shot("form-preview")
    assert csp == []


def test_the_side_panel_edits_lanes_forms_conditions_and_the_rules(ui: Ui, live_server: LiveServer) -> None:
    page = ui.page
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    ui.login("policy")
    page.goto("/policy/processes/fangtiao_referral")
    page.locator("#version-table tbody tr").first.locator("button[id^='new-draft-']").click()
    expect(page.locator("#editor")).to_have_attribute("data-state", "ready")
    draft_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    _select(page, "follow_up_visit")
    expect(page.locator("#prop-lane")).to_have_value("lane_mediation")
    expect(page.locator("#prop-form")).to_have_value("follow_up_visit")
    page.select_option("#prop-form", "feedback_success")
    page.select_option("#prop-lane", "lane_justice")
    expect(page.locator("#prop-lane")).to_have_value("lane_justice")  # the panel drawn again after the move

    # the timer builder shows an expression of its shape in its fields, with the date it gives
    _select(page, "success_feedback_late")
    result = page.locator("#timer-result")
    expect(result).to_have_text("按示例数据：2026年11月9日 23:59")  # 5 working days from 2 November
    expect(page.locator("#timer-function")).to_have_value("deadline_working_days")
    expect(page.locator("#timer-anchor")).to_have_value('agreement["mediation_ended_at"]')
    expect(page.locator("#timer-count")).to_have_value("5")
    expect(page.locator("#timer-term")).to_have_value("")
    expect(page.locator("#timer-warning")).not_to_be_checked()
    expect(page.locator("#timer-lead")).to_be_disabled()
    # … builds another: a warning two working days before 10 (+ the extension's days) working days
    # from the registration
    page.select_option("#timer-function", "deadline_months")
    expect(result).to_have_text("按示例数据：2027年4月2日 23:59")
    page.select_option("#timer-function", "deadline_working_days")
    for field, value in (
        ("#timer-anchor", "registered_at"),
        ("#timer-count", "10"),
        ("#timer-term", "extension_days"),
    ):
        page.locator(field).fill(value)
        page.locator(field).press("Tab")  # a change is taken when the field is left
    page.check("#timer-warning")
    page.locator("#timer-lead").fill("2")
    page.locator("#timer-lead").press("Tab")
    built = "warning_time(deadline_working_days(registered_at, 10 + extension_days), 2)"
    expect(page.locator("#prop-timer")).to_have_value(built)
    expect(result).to_have_text("按示例数据：2026年11月16日 00:00")  # the sample extension is 1 day
    # … says in Chinese why a typed anchor gives no date
    page.locator("#timer-anchor").fill('acceptance["accepted_on"]')
    page.locator("#timer-anchor").press("Tab")
    expect(result).to_contain_text("无法用示例数据计算：示例数据中没有键 'accepted_on'")
    page.locator("#timer-anchor").fill("registered_at")
    page.locator("#timer-anchor").press("Tab")
    expect(page.locator("#prop-timer")).to_have_value(built)
    expect(result).to_have_text("按示例数据：2026年11月16日 00:00")
    ui.shot("timer-builder")
    # an expression of another shape stays text, the builder says so
    _select(page, "risk_response_late")
    expect(page.locator("#timer-note")).to_contain_text("不是构建器能表示的形式")
    expect(page.locator("#timer-function")).to_be_disabled()
    expect(result).to_have_text("按示例数据：2026年11月3日 23:59")

    _select(page, "gw_consent")
    expect(page.locator("#prop-condition-f_refused")).to_be_disabled()  # the default flow has no condition
    page.check("#prop-default-f_consented")
    page.locator("#prop-condition-f_refused").fill('consent == "refuse"')
    page.locator("#prop-condition-f_refused").press("Tab")
    ui.shot("gateway")

    page.click("#tab-rules-button")
    cell = page.locator("#dmn-editor td", has_text="len(?.strip()) > 0")
    cell.click()
    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    page.keyboard.type("1")
    page.click("#save-draft")
    expect(page.locator("#editor-message")).to_contain_text("草稿已保存")
    ui.shot("saved")

    page.click("#tab-results-button")  # a new scenario, starting from an existing one
    page.select_option("#scenario-base", "scenarios/05_unsuitable_category_other.json")
    scenario = page.locator("#scenario-text")
    scenario.fill(
        re.sub(r'"name": "[^"]*"', '"name": "新场景：浏览器中编写"', scenario.input_value(), count=1)
    )
    page.click("#record-scenario")
    # numbered after the highest scenario the draft holds (those of processes/scenarios/)
    scenarios = Path(__file__).resolve().parents[2] / "processes" / "scenarios"
    highest = max(int(path.name[:2]) for path in scenarios.glob("[0-9][0-9]_*.json"))
    recorded = f"scenarios/{highest + 1}_recorded.json"
    expect(page.locator("#scenario-message")).to_contain_text(f"已保存为 {recorded}")

    with live_server.runtime.sessions() as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        saved, rules = draft.files["referral.bpmn"], draft.files["scope.dmn"]
    tree = etree.fromstring(saved.encode())
    lanes = {
        lane.get("id"): {r.text for r in lane.iter(f"{BPMN}flowNodeRef")} for lane in tree.iter(f"{BPMN}lane")
    }
    assert "follow_up_visit" in lanes["lane_justice"] and "follow_up_visit" not in lanes["lane_mediation"]
    (task,) = tree.iterfind(f".//{BPMN}userTask[@id='follow_up_visit']")
    assert task.find(f".//{SPIFF}property").get("value") == "feedback_success"
    (gateway,) = tree.iterfind(f".//{BPMN}exclusiveGateway[@id='gw_consent']")
    assert gateway.get("default") == "f_consented"
    flows = {f.get("id"): f.findtext(f"{BPMN}conditionExpression") for f in tree.iter(f"{BPMN}sequenceFlow")}
    assert flows["f_refused"] == 'consent == "refuse"' and flows["f_consented"] is None
    assert "len(?.strip()) &gt; 1" in rules and "len(?.strip()) &gt; 0" not in rules
    (timer,) = tree.iterfind(f".//{BPMN}boundaryEvent[@id='success_feedback_late']")
    assert timer.findtext(f".//{BPMN}timeDate") == (
        "warning_time(deadline_working_days(registered_at, 10 + extension_days), 2)"
    )
    assert "新场景：浏览器中编写" in draft.files[recorded]
    assert problems == []
