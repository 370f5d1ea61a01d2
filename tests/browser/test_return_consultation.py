"""A return the clerk disputes: the mediator returns the referral with a reason, the clerk disputes it,
the petition office and the justice office each record their opinion at the 会商 (实施意见 六(二)), both
that the mediation committee takes the case, a 会商纪要 is issued, and the mediator then has 依法调解."""

from __future__ import annotations

from playwright.sync_api import expect

from orchestration.store.models import Case
from tests.browser.conftest import LiveServer
from tests.browser.ui import Ui
from tests.helpers import advance_to, start


def test_return_disputed_then_consultation_sends_it_to_mediation(ui: Ui, live_server: LiveServer) -> None:
    page = ui.page
    # Registered, screened, consented, referred and approved as on the success path (not the point here).
    runtime = live_server.runtime
    case_id = start(runtime, matter="宠物寄养期间死亡赔偿纠纷（浏览器测试）")
    advance_to(runtime, case_id, "review_referral")
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        case_no = case.case_no

    # 人民调解员: 不予受理并退回, with the reason.
    ui.login("mediator")
    ui.open_task(case_no, "review_referral")
    ui.fill(
        choose={"review_decision": "return"},
        text={"return_reason": "宠物死亡原因需专业机构鉴定，本调委会无法判断责任，不宜受理。"},
    )
    ui.submit_task(case_no, "review_referral", ("decide_return",))
    ui.logout()

    # 信访部门经办人: 有异议，提请会商.
    ui.login("clerk")
    ui.open_task(case_no, "decide_return")
    ui.fill(
        choose={"return_decision": "dispute"},
        text={"return_opinion": "属于公民之间的民事纠纷，死亡原因可委托动物诊疗机构出具意见后调解。"},
    )
    ui.submit_task(case_no, "decide_return", ("consultation_petition_opinion",))

    # 信访部门经办人 again: the petition office's opinion at the 会商, with the mediator's reason to read.
    ui.open_task(case_no, "consultation_petition_opinion")
    expect(page.locator("body")).to_contain_text("宠物死亡原因需专业机构鉴定")
    ui.fill(
        choose={"petition_proposal": "mediation_accepts"},
        text={
            "petition_opinion": "属于公民与其他组织之间的民事纠纷，应由八廓街道人民调解委员会受理调解。",
            "petition_representative": "八廓街道信访办 王芳",
        },
    )
    ui.submit_task(case_no, "consultation_petition_opinion", ("joint_consultation",))
    ui.logout()

    # 司法行政工作人员: the 会商 task is in 待办 (no deadline); reads the petition office's opinion and
    # agrees with it.
    ui.login("justice")
    row = ui.inbox_row(case_no, "joint_consultation")
    expect(row.locator("td[data-label='办理期限']")).to_contain_text("无期限")
    ui.open_task(case_no, "joint_consultation", row)
    expect(page.locator("#f-consultation_outcome-mediation_accepts")).to_be_visible()
    expect(page.locator("body")).to_contain_text("应由八廓街道人民调解委员会受理调解")
    ui.fill(
        choose={"consultation_outcome": "mediation_accepts"},
        text={
            "consultation_date": "2026-11-02",
            "participants": "八廓街道信访办王芳、八廓街道司法所张伟、八廓街道人民调解委员会次仁卓玛",
            "justice_opinion": "同意信访部门意见，由八廓街道人民调解委员会受理调解。",
            "justice_representative": "八廓街道司法所 张伟",
        },
    )
    ui.submit_task(case_no, "joint_consultation", ("mediate",))
    ui.logout()

    # 人民调解员: 依法调解 is waiting, due 15 days after the acceptance on 2 November.
    ui.login("mediator")
    row = ui.inbox_row(case_no, "mediate")
    expect(row.locator("td[data-label='办理期限']")).to_contain_text("2026年11月17日")
    ui.open_task(case_no, "mediate", row)
    expect(page.locator("#f-session_record")).to_be_editable()
    page.click("#crumb-case")
    expect(page.locator("#case-status")).to_have_text("办理中")
    expect(page.locator("#case-task-mediate")).to_contain_text("依法调解")
    documents = page.locator("#documents li")
    for title in ("访调对接移送函", "退回函", "“访调对接”会商纪要", "受理回执"):
        expect(documents.filter(has_text=title)).to_have_count(1)
    ui.shot("case-with-mediation")
