"""The administrators' console in the browser: a user created, signing in and choosing a password, claiming
a task, then deactivated (signed out, the task back in the pool); and next year's official holidays loaded
from a file, previewed with the deadlines they move, then saved.

The module runs on a server of its own: deactivating people and loading a year's calendar would change
what the other browser tests rely on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from orchestration.engine.clock import SHANGHAI
from orchestration.store.models import Case
from tests.browser.conftest import LiveServer, serve
from tests.browser.ui import Ui
from tests.helpers import advance_to, open_task, start

NOTICE = '{"holidays": {"2027-01-01": "元旦", "2027-01-04": "元旦"}, "workdays": {"2027-01-09": "元旦调休"}}'


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(tmp_path_factory.mktemp("admin-console")) as server:
        yield server


def test_a_user_is_created_signs_in_and_is_deactivated(
    ui: Ui, browser: Browser, live_server: LiveServer
) -> None:
    page = ui.page
    case_id = start(live_server.runtime)  # a petition of 八廓街道: its first task waits in the office's pool
    ui.login("admin")
    expect(page.locator("h1")).to_have_text("系统管理")
    page.click("#admin-nav-users")
    page.click("#new-user")
    page.fill("#new-username", "clerk_new")
    page.fill("#new-display_name", "卓嘎")
    page.select_option("#new-role", "petition_clerk")
    page.select_option("#new-org_code", "540102001-xf")
    page.fill("#new-password", "1234")
    ui.shot("new-user-filled")
    page.click("#user-new-submit")
    expect(page.locator("#err-new-password")).to_have_text("密码至少需要8个字符")
    expect(page.locator("#new-display_name")).to_have_value("卓嘎")
    ui.shot("new-user-refused")
    page.fill("#new-password", "temporary-2026")
    page.fill("#new-reason", "新入职")
    page.click("#user-new-submit")
    expect(page.locator(".flash-success")).to_contain_text("已新建用户 clerk_new")
    expect(page.locator("#user-status")).to_contain_text("下次登录须修改密码")
    ui.shot("new-user-created")

    # The new clerk, in a browser of their own: first a password of their own, then 待办.
    with browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai") as other:
        clerk = other.new_page()
        clerk.goto("/login")
        clerk.fill("#username", "clerk_new")
        clerk.fill("#password", "temporary-2026")
        clerk.click("#login-submit")
        expect(clerk.locator("#password-required")).to_be_visible()
        clerk.goto("/tasks")  # nothing else until the password is changed
        expect(clerk.locator("h1")).to_have_text("修改密码")
        clerk.fill("#current_password", "temporary-2026")
        clerk.fill("#new_password", "zhuoga-2026")
        clerk.fill("#repeat_password", "zhuoga-2026")
        ui.shots(clerk, "clerk-new-password")
        clerk.click("#password-submit")
        expect(clerk.locator(".flash-success")).to_contain_text("密码已修改")
        expect(clerk.locator("h1")).to_have_text("待办")
        clerk.click(f"#claim-{open_task(live_server.runtime, case_id, 'screen_case').id}")
        expect(clerk.locator(".flash-success")).to_contain_text("已认领")
        ui.shots(clerk, "clerk-new-claimed")

        # The administrator deactivates them: the claim goes back to the pool, their session ends.
        page.reload()
        expect(page.locator("#user-status")).to_contain_text("认领中的待办：1 项")
        page.click("#user-deactivate-submit")
        expect(page.locator("#err-deactivate-reason")).to_have_text("请填写原因")
        page.fill("#deactivate-reason", "调离本单位")
        page.click("#user-deactivate-submit")
        expect(page.locator(".flash-success")).to_contain_text("其认领的 1 项待办已退回所在机构的任务池")
        expect(page.locator("#user-status")).to_contain_text("已停用")
        ui.shot("user-deactivated")

        clerk.goto("/tasks")
        expect(clerk.locator("#login-form")).to_be_visible()
        ui.shots(clerk, "clerk-new-signed-out")

    page.click("#admin-nav-audit")
    page.fill("#audit-actor", "admin")
    page.click("#audit-search-submit")
    expect(page.locator("#audit-table")).to_contain_text("停用用户")
    expect(page.locator("#audit-table")).to_contain_text("释放任务")
    expect(page.locator("#audit-table")).to_contain_text("新建用户")
    ui.shot("audit-log")


def test_next_years_holidays_are_loaded_from_the_notice_after_a_preview(
    ui: Ui, live_server: LiveServer, tmp_path: Path
) -> None:
    page = ui.page
    live_server.clock.set(datetime(2026, 12, 17, 10, 0, tzinfo=SHANGHAI))
    case_id = start(live_server.runtime)
    advance_to(live_server.runtime, case_id, "mediate")  # its deadline is Monday 2027-01-04 (estimated)
    with live_server.runtime.sessions() as session:
        case_no = session.scalar(select(Case.case_no).where(Case.id == case_id))
    assert case_no is not None
    notice = tmp_path / "2027.json"
    notice.write_text(NOTICE, encoding="utf-8")

    ui.login("admin")
    expect(page.locator("#warning-calendar")).to_contain_text("2027年节假日安排仍为估算")
    ui.shot("dashboard-warning")
    page.locator("#warning-calendar a").click()
    expect(page.locator("h1")).to_have_text("2027年节假日日历")
    expect(page.locator("#year-status")).to_contain_text("估算")
    expect(page.locator("#load-year")).to_have_value("2027")
    page.set_input_files("#load-file", str(notice))
    ui.shot("calendar-file-chosen")
    page.click("#load-preview")

    expect(page.locator("#preview-note")).to_contain_text("尚未保存")
    moves = page.locator("#move-table tr.move")
    expect(moves).to_have_count(2)
    for index in range(2):
        expect(moves.nth(index)).to_contain_text(case_no)
        expect(moves.nth(index)).to_contain_text("推后 1 天")
    expect(page.locator("#move-table")).to_contain_text("2027年1月5日 23:59")
    expect(page.locator("#change-2027-01-09")).to_contain_text("上班")
    ui.shot("calendar-preview")
    page.click("#confirm-save")

    expect(page.locator(".flash-success")).to_contain_text("重新计算了 1 个案件的期限，其中 2 个期限变动")
    expect(page.locator("#year-status")).to_contain_text("正式安排")
    expect(page.locator("#day-2027-01-04")).to_contain_text("管理员设置")
    ui.shot("calendar-loaded")
    page.goto(f"/cases/{case_no}")
    expect(page.locator("body")).to_contain_text("2027年1月5日")
    ui.shot("case-deadline-moved")
    page.click("#nav-admin")
    expect(page.locator("#warning-calendar")).to_have_count(0)
