"""The success path clicked through in the browser by each person in turn, ending on the case page and the
人民调解协议书."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from playwright.sync_api import BrowserContext, expect

from orchestration.engine.clock import SHANGHAI
from tests.browser.conftest import LiveServer
from tests.browser.ui import Ui, consent_pdf


def test_success_path(ui: Ui, context: BrowserContext, live_server: LiveServer, tmp_path: Path) -> None:
    page = ui.page
    consent = consent_pdf(tmp_path / "张三同意人民调解书.pdf")

    # 信访部门经办人: 登记, 甄别, 引导分流 (with the signed consent), 填写移送函.
    ui.login("clerk")
    ui.open_register()
    ui.fill_registration("宅基地院墙归属纠纷（浏览器测试）")
    ui.shot("register-filled")
    case_no = ui.submit_registration()

    ui.do_task(case_no, "screen_case", ("guide_divert",), choose={"dispute_category": "citizen_property"})

    ui.open_task(case_no, "guide_divert")
    ui.fill(tick=("explanation_given", "privacy_notice_given"), choose={"consent": "agree"})
    page.set_input_files("#f-consent_documents", str(consent))
    ui.submit_task(case_no, "guide_divert", ("respondent_consent",))

    # Both parties consent before the referral (人民调解法第十七条), each told how their data is processed.
    ui.open_task(case_no, "respondent_consent")
    ui.fill(tick=("privacy_notice_given",), choose={"respondent_decision": "agree"})
    page.set_input_files("#f-respondent_consent_documents", str(consent))
    ui.submit_task(case_no, "respondent_consent", ("draft_referral",))

    ui.open_task(case_no, "draft_referral")
    # The township's mediation committee is proposed (属地管理).
    expect(page.locator("#f-mediation_org")).to_have_value("540102001-tw")
    ui.fill(
        text={
            "referral_summary": "张三与李四因宅基地院墙归属发生争议，信访人同意人民调解。",
            "contact_person": "王芳",
            "contact_phone": "0891-6321234",
        }
    )
    ui.submit_task(case_no, "draft_referral", ("approve_referral",))
    ui.logout()

    # 分管领导: 审签.
    ui.login("leader")
    ui.do_task(case_no, "approve_referral", ("review_referral",), choose={"approval": "approve"})
    ui.logout()

    # 人民调解员: 受理 (due in 3 days from the frozen 2 November), 依法调解, 反馈.
    ui.login("mediator")
    row = ui.inbox_row(case_no, "review_referral")
    expect(row.locator("td[data-label='办理期限']")).to_contain_text("2026年11月5日")
    expect(row.locator("td[data-label='办理期限']")).to_contain_text("正常（剩余3天）")
    ui.open_task(case_no, "review_referral", row)
    expect(page.locator("#case-summary")).to_contain_text("宅基地院墙归属纠纷（浏览器测试）")
    ui.fill(choose={"review_decision": "accept"}, text={"mediator_name": "次仁卓玛"})
    ui.submit_task(case_no, "review_referral", ("mediate",))

    live_server.clock.set(datetime(2026, 11, 3, 10, 0, tzinfo=SHANGHAI))
    ui.do_task(
        case_no,
        "mediate",
        ("feedback_success",),
        choose={"mediation_outcome": "agreement", "agreement_form": "written"},
        tick=("judicial_confirmation_advised",),
        # the registered parties come prefilled; the agreement needs their sex and ethnicity too
        select={"parties-0-sex": "男", "parties-1-sex": "男"},
        text={
            "parties-0-ethnicity": "藏族",
            "parties-1-ethnicity": "藏族",
            "session_record": "2026年11月3日在八廓街道人民调解委员会调解，双方到场，经调解达成一致。",
            "agreement_facts": "院墙系双方父辈共同出资修建，属双方共有。",
            "agreement_terms": "院墙维持现状，由双方共同维护，费用各半负担。",
            "agreement_effective_on": "2026-11-03",
        },
    )
    live_server.clock.set(datetime(2026, 11, 4, 10, 0, tzinfo=SHANGHAI))
    # the signed agreement's scan closes the case as a success (人民调解法第二十九条: signed and sealed)
    ui.open_task(case_no, "feedback_success")
    page.set_input_files("#f-agreement_copy", str(consent_pdf(tmp_path / "协议书签署件.pdf")))
    ui.fill(text={"fed_back_on": "2026-11-04"})
    ui.submit_task(case_no, "feedback_success", ("receive_success",))
    ui.logout()

    # 信访部门经办人: 签收.
    ui.login("clerk")
    ui.do_task(case_no, "receive_success", ("conclude_petition",), text={"received_by": "王芳"})
    # 办结: the petition office concludes the petition once mediation succeeded.
    ui.do_task(case_no, "conclude_petition", ("follow_up_visit",), text={"concluded_on": "2026-11-04"})
    ui.logout()

    # 人民调解员: 跟踪回访, which closes the case.
    live_server.clock.set(datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
    ui.login("mediator")
    ui.do_task(
        case_no,
        "follow_up_visit",
        (),
        select={"visit_method": "phone"},
        choose={"performance": "fully"},
        text={
            "visited_on": "2026-11-20",
            "mediation_visitors": "次仁卓玛",
            "petition_visitors": "王芳",
            "social_effect": "双方按协议履行，未再信访。",
        },
    )

    # The case page, reached from 已办.
    page.click("#nav-done")
    page.locator("#done-table a", has_text=case_no).first.click()
    expect(page.locator("#case-no")).to_contain_text(case_no)
    expect(page.locator("#case-status")).to_have_text("已办结")
    expect(page.locator("#case-outcome")).to_have_text("调解成功")
    expect(page.locator("#no-open-tasks")).to_have_text("案件已办结。")
    documents = page.locator("#documents li")
    for title in ("访调对接移送函", "受理回执", "人民调解协议书", "回访记录"):
        expect(documents.filter(has_text=title)).to_have_count(1)
    expect(page.locator("#attachments")).to_contain_text("张三同意人民调解书.pdf")
    ui.shot("case-completed")

    # The 人民调解协议书 opens in a new tab.
    agreement = documents.filter(has_text="人民调解协议书").locator("a[id^='view-document-']")
    with context.expect_page() as opened:
        agreement.click()
    document = opened.value
    document.wait_for_load_state()
    expect(document).to_have_title(re.compile(r"^人民调解协议书 \(2026\)城八人调字第\d+号$"))
    expect(document.locator("h1")).to_have_text("人民调解协议书")
    expect(document.locator(".doc-foot")).to_contain_text(f"案件编号：{case_no}")
    expect(document.locator(".sheet")).to_contain_text("院墙维持现状，由双方共同维护，费用各半负担。")
    expect(document.locator(".act")).to_contain_text("协议书签署件.pdf")
    ui.shots(document, "agreement-document")
