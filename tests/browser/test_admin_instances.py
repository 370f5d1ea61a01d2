"""案件实例 in the browser: a case suspended, the clock moved past its timer, the timer not firing, the case
resumed and the timer firing; and a case moved back to an earlier step, then completed again."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from orchestration.store.models import AuditEvent, Case, Document
from tests.browser.conftest import LiveServer
from tests.browser.ui import Ui
from tests.helpers import SUCCESS_PATH, actor, advance_to, open_task, start


def _case_no(live_server: LiveServer, case_id: int) -> str:
    with live_server.runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.case_no


def test_a_suspended_case_timer_waits_and_fires_on_resume(ui: Ui, live_server: LiveServer) -> None:
    page, runtime = ui.page, live_server.runtime
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    case_no = _case_no(live_server, case_id)
    ui.login("admin")
    page.click("#admin-nav-instances")
    page.fill("#f-case-no", case_no)
    page.click("#instance-search-submit")
    page.click(f"#instance-link-{case_no}")
    expect(page.locator("#instance-timers")).to_contain_text("3日内未作决定")
    page.fill("#suspend-reason", "等待核实当事人身份")
    page.click("#suspend")
    expect(page.locator("#instance-status")).to_have_text("已暂停")
    ui.shot("suspended")

    live_server.clock.advance(timedelta(days=5))
    assert runtime.run_due_timers() == 0  # the worker passes over a suspended case
    page.reload()
    expect(page.locator("#instance-timers")).to_contain_text("3日内未作决定")

    page.fill("#resume-reason", "核实完毕")
    page.click("#resume")
    expect(page.locator("#instance-status")).to_have_text("办理中")
    assert runtime.run_due_timers() == 1  # due while suspended: fires at once
    page.reload()
    expect(page.locator("#no-timers")).to_be_visible()
    expect(page.locator("#instance-audit")).to_contain_text("期限届满自动处理")
    expect(page.locator("#instance-audit")).to_contain_text("等待核实当事人身份")
    ui.shot("resumed and fired")


def test_a_case_is_moved_back_to_an_earlier_step_and_completed_again(ui: Ui, live_server: LiveServer) -> None:
    page, runtime = ui.page, live_server.runtime
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    case_no = _case_no(live_server, case_id)
    with runtime.sessions() as session:
        drafted = next(
            e.detail["task_id"]
            for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id))
            if e.action == "complete" and e.task_name == "draft_referral"
        )
    ui.login("admin")
    page.goto(f"{live_server.url}/admin/instances/{case_no}")
    page.select_option("#reset-task", drafted)
    page.fill("#reset-reason", "移送的调解组织选错")
    page.click("#reset")
    expect(page.locator(".flash-success")).to_contain_text("已撤回其后出具的文书")
    expect(page.locator("#instance-documents")).to_contain_text("已撤回")
    ui.shot("moved back")

    # the clerk drafts the letter again and the leader approves it: a new letter, the old one kept
    for name, username, values in [s for s in SUCCESS_PATH if s[0] in ("draft_referral", "approve_referral")]:
        runtime.complete_task(open_task(runtime, case_id, name).id, values, actor(runtime, username))
    page.reload()
    expect(page.locator("#instance-documents")).to_contain_text("有效")
    expect(page.locator("#instance-documents")).to_contain_text("已撤回")
    with runtime.sessions() as session:
        assert len(session.scalars(select(Document).where(Document.case_id == case_id)).all()) == 2
    assert open_task(runtime, case_id, "review_referral")
    ui.shot("completed again")
