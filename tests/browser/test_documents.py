"""Documents in the browser: the leader sees the letter they approve drawn as it prints; the mediator adds
and removes parties' rows of an agreement with the buttons (forms.js), and the agreement lists them."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from orchestration.store.models import Case, Document
from tests.browser.conftest import LiveServer
from tests.browser.ui import Ui
from tests.helpers import advance_to, start


def _case_no(live_server: LiveServer, case_id: int) -> str:
    with live_server.runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.case_no


def test_the_leader_sees_the_letter_as_it_prints(ui: Ui, live_server: LiveServer) -> None:
    case_id = start(live_server.runtime, matter="通行纠纷（审签页浏览器测试）")
    advance_to(live_server.runtime, case_id, "approve_referral")
    ui.login("leader")
    ui.open_task(_case_no(live_server, case_id), "approve_referral")
    letter = ui.page.frame_locator("#referral-draft iframe")
    expect(letter.locator("h1")).to_have_text("“访调对接”移送函")
    expect(letter.locator(".doc-status.draft")).to_contain_text("草稿")
    expect(letter.locator(".salutation")).to_have_text("八廓街道人民调解委员会“访调对接”工作室：")
    ui.shot("approval-draft")


def test_parties_rows_are_added_and_removed(ui: Ui, live_server: LiveServer) -> None:
    case_id = start(live_server.runtime, matter="漏水纠纷（当事人分组浏览器测试）")
    advance_to(live_server.runtime, case_id, "mediate")
    case_no = _case_no(live_server, case_id)
    page = ui.page
    ui.login("mediator")
    ui.open_task(case_no, "mediate")
    rows = page.locator("#f-parties .group-rows [data-row]")
    expect(rows).to_have_count(2)  # the registered petitioner and respondent
    expect(page.locator("#f-parties-0-name")).to_have_value("张三")
    for _ in range(2):
        page.click("#f-parties [data-group-add]")
    expect(rows).to_have_count(4)
    rows.nth(3).locator("[data-group-remove]").click()
    expect(rows).to_have_count(3)
    ui.fill(
        choose={"mediation_outcome": "agreement", "agreement_form": "written"},
        select={
            "parties-0-sex": "男",
            "parties-1-sex": "女",
            "parties-2-role": "respondent",
            "parties-2-kind": "citizen",
            "parties-2-sex": "男",
        },
        text={
            "session_record": "三方到场。",
            "parties-0-ethnicity": "藏族",
            "parties-1-ethnicity": "汉族",
            "parties-2-name": "王五",
            "parties-2-ethnicity": "回族",
            "agreement_facts": "楼上漏水。",
            "agreement_terms": "赔偿2000元。",
            "agreement_effective_on": "2026-11-02",
        },
    )
    ui.submit_task(case_no, "mediate", ("feedback_success",))
    with live_server.runtime.sessions() as session:
        agreement = session.scalar(
            select(Document).join(Case).where(Case.case_no == case_no, Document.kind == "agreement")
        )
        assert agreement is not None
        assert [(p["name"], p["ethnicity"]) for p in agreement.content["parties"]] == [
            ("张三", "藏族"),
            ("李四", "汉族"),
            ("王五", "回族"),
        ]
