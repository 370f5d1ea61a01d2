"""录制场景 in the browser: the policy officer records a short scenario on a draft by clicking — registers a
case in the real registration form, screens it (a refused submission shows its errors in Chinese and adds
nothing, until it is recorded as a step that must be refused; then the valid one), extends the petition's
limit as the office's leader and corrects the extension notice as its clerk, moves the clock two days and
fires the timers, captures a check, saves; the scenario is then in the draft's list and passes when run on
the draft as 场景对比 runs it.

This module adds a draft with a scenario, so it brings a server (and database) of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from orchestration.services import scenarios
from orchestration.store.models import Draft, ProcessVersion
from tests.browser.conftest import LiveServer, serve
from tests.browser.ui import Ui


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(tmp_path_factory.mktemp("recorder")) as server:
        yield server


def test_the_officer_records_a_scenario_by_clicking_and_it_passes(ui: Ui, live_server: LiveServer) -> None:
    page = ui.page
    problems: list[str] = []
    page.on(
        "console",
        # the refused step's answer (422) is logged by the browser as a failed load; anything else is a fault
        lambda m: problems.append(m.text) if m.type == "error" and "status of 422" not in m.text else None,
    )
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    ui.login("policy")
    page.goto("/policy/processes/fangtiao_referral")
    page.click("#new-draft-1")
    expect(page.locator("#editor")).to_have_attribute("data-state", "ready")
    page.click("#tab-results-button")
    page.click("#open-recorder")

    recorder = page.locator("#recorder")
    expect(recorder).to_have_attribute("data-state", "ready")
    page.fill("#rec-name", "录制：登记、甄别，两日后待引导分流")
    page.click("#rec-begin")
    expect(page.locator("#rec-clock")).to_have_text("2026年11月2日 09:00")
    expect(page.locator("#rec-registrar")).to_have_value("clerk")
    page.click("#rec-open-register")
    expect(page.locator("#rec-form-title")).to_contain_text("王芳（clerk）的身份登记")
    ui.fill_registration("邻里院墙纠纷（录制）")  # the real form, prefilled as for the clerk
    ui.shot("registration-filled")
    page.click("#rec-submit")
    expect(page.locator("#rec-message")).to_contain_text("已录入第1步（start）")
    screening = page.locator('#rec-case-0 tr[data-task="screen_case"]')
    expect(screening).to_contain_text("2026年11月17日 23:59")

    screening.locator(".rec-do").click()
    expect(page.locator("#rec-form-title")).to_contain_text("办理：甄别适用范围")
    page.click("#rec-submit")  # nothing chosen: refused, with the field's error beside it
    expect(page.locator("#rec-form-error")).to_contain_text("这一步未录入：提交的内容有误")
    expect(page.locator("#err-dispute_category")).to_have_text("请选择纠纷类型")
    expect(page.locator("#rec-steps li")).to_have_count(1)
    ui.shot("refused")
    page.click("#rec-expect-refusal")  # the refusal itself becomes the step: the scenario checks it
    expect(page.locator("#rec-message")).to_contain_text("已录入第2步（complete，应被拒绝）")
    expect(page.locator("#rec-form-panel")).to_be_hidden()
    screening.locator(".rec-do").click()
    expect(page.locator("#rec-expect-refusal")).to_be_hidden()
    ui.fill(choose={"dispute_category": "citizen_property"})
    page.click("#rec-submit")
    expect(page.locator("#rec-message")).to_contain_text("已录入第3步（complete）")
    expect(page.locator('#rec-case-0 tr[data-task="guide_divert"]')).to_be_visible()

    expect(page.locator("#rec-extend-user-0")).to_have_value("leader")  # accepted: the limit runs
    page.click("#rec-extend-0")
    page.fill("#f-extension_reason", "需会同住建部门核实")
    page.click("#rec-submit")
    expect(page.locator("#rec-message")).to_contain_text("已录入第4步（extend_petition）")
    expect(page.locator("#rec-extend-0")).to_have_count(0)  # extended once: no more
    expect(page.locator("#rec-correct-user-0")).to_have_value("clerk")
    page.click("#rec-correct-0")
    expect(page.locator("#rec-form-title")).to_contain_text("更正信访事项延期办理告知书")
    page.fill("#f-correction_reason", "理由表述不完整")
    page.select_option("#rec-changes .rec-change-field", "reason")
    expect(page.locator("#rec-changes .rec-change-value")).to_have_value("需会同住建部门核实")
    page.fill("#rec-changes .rec-change-value", "需会同住建部门核实收费备案")
    page.click("#rec-submit")
    expect(page.locator("#rec-message")).to_contain_text("已录入第5步（correct_document）")

    page.fill("#rec-days", "2")
    page.click("#rec-advance")  # then the timers due, as the box ticked by default says
    expect(page.locator("#rec-steps li")).to_have_count(7)
    expect(page.locator("#rec-clock")).to_have_text("2026年11月4日 09:00")
    page.click("#rec-expect-0")
    expect(page.locator("#rec-message")).to_contain_text("已录入第8步（expect）")
    ui.shot("recorded")

    page.click("#rec-save")
    saved = page.locator("#rec-save-message")
    expect(saved).to_contain_text("已保存为 scenarios/")
    name = saved.inner_text().split("已保存为 ", 1)[1].split("（", 1)[0]
    page.click("#back-to-draft")
    expect(page.locator("#editor")).to_have_attribute("data-state", "ready")
    expect(page.locator(f'#scenario-base option[value="{name}"]')).to_have_count(1)
    assert problems == []

    with live_server.runtime.sessions() as session:
        draft = session.query(Draft).one()
        files, deployed = dict(draft.files), dict(session.query(ProcessVersion).one().files)
    recorded = json.loads(files[name])
    assert recorded["name"] == "录制：登记、甄别，两日后待引导分流"
    assert [s["do"] for s in recorded["steps"]] == [
        "start",
        "complete",
        "complete",
        "extend_petition",
        "correct_document",
        "advance",
        "timers",
        "expect",
    ]
    assert recorded["steps"][1]["field_errors"] == {"dispute_category": "请选择纠纷类型"}
    assert recorded["steps"][4]["changes"] == {"reason": "需会同住建部门核实收费备案"}
    assert recorded["steps"][7]["open_tasks"][0]["task"] == "guide_divert"
    (compared,) = scenarios.compare({name: files[name]}, files, deployed)
    assert compared.draft.passed, compared.draft.message
