"""对接移交 and 受理 (实施意见 六(二)): referral, return, transfer, 会商, acceptance."""

from __future__ import annotations

from datetime import datetime

import pytest

from handlers.api import SHANGHAI, HandlerError
from handlers.referral import MAX_MEDIATION_DAYS, MEDIATION_TIMER, mediation_period
from tests.handlers.fakes import (
    JUSTICE_OFFICE,
    MEDIATION_COMMITTEE,
    NOW,
    OTHER_COMMITTEE,
    PETITION_OFFICE,
    SHIPPED_TIMERS,
    FakeContext,
    Notice,
    run,
    ten_day_timers,
)

REFERRAL_DATA = {
    "matter": "宅基地院墙纠纷",
    "petitioner_name": "张三",
    "respondent_name": "李四",
    "facts": "双方因院墙归属发生争执。",
    "referral_summary": "双方均同意调解。",
    "referral_request": "请现场查看。",
    "consent_documents": ["同意调解书.pdf"],
    "contact_person": "王芳",
    "contact_phone": "13800138001",
}


def test_the_periods_are_the_implementing_opinions() -> None:
    """15 days in the diagram as shipped; the 30 days in all are the law's, kept in the handler."""
    acceptance = {"accepted_at": NOW.isoformat(), "extension_days": 0}
    assert mediation_period(FakeContext().timer_due, acceptance) == (15, "2026-11-17T23:59:59+08:00")
    assert MAX_MEDIATION_DAYS == 30


def test_the_period_is_the_one_the_timer_names_even_when_its_last_day_moves() -> None:
    """Accepted 16 September 2026, day 15 is 1 October: the timer fires on 8 October, yet the period is
    15 days, not the 22 to that day (nor the 16 to 21 that would end there too)."""
    acceptance = {"accepted_at": "2026-09-16T10:00:00+08:00", "extension_days": 2}
    assert mediation_period(FakeContext().timer_due, acceptance) == (17, "2026-10-08T23:59:59+08:00")


def test_a_diagram_without_the_mediation_timer_is_refused_in_chinese() -> None:
    timers = {name: text for name, text in SHIPPED_TIMERS.items() if name != MEDIATION_TIMER}
    with pytest.raises(HandlerError, match="流程中没有按日期计时的定时事件“mediation_deadline_reached”"):
        run("accept_case", FakeContext(timers=timers), mediation_org=MEDIATION_COMMITTEE.code)


def test_a_letter_after_consultation_keeps_the_leaders_approval() -> None:
    earlier = {"document": "(2026)城八访调移字第1号", "approved_by": "李建国", "approved_on": "2026-10-20"}
    ctx = FakeContext(data={**REFERRAL_DATA, "referral": earlier}, actor_name="张伟")
    result = run("issue_referral", ctx, mediation_org=OTHER_COMMITTEE.code)
    letter = ctx.only_document()
    assert (result["approved_by"], letter.content["approved_by"]) == ("李建国", "李建国")
    assert letter.content["approved_on"] == "2026-10-20" and letter.content["after_consultation"] is True


def test_a_referral_goes_to_the_chosen_organisation_with_its_letter() -> None:
    ctx = FakeContext(data=REFERRAL_DATA, mediation_org_id=None)
    result = run("issue_referral", ctx, mediation_org=OTHER_COMMITTEE.code)
    letter = ctx.only_document()
    assert result == {
        "referred_at": NOW.isoformat(),
        "mediation_org": OTHER_COMMITTEE.code,
        "mediation_org_name": OTHER_COMMITTEE.name,
        "approved_by": "王芳",
        "approved_on": "2026-11-02",
        "document": letter.number,
    }
    assert ctx.mediation_org_id == OTHER_COMMITTEE.id
    assert (letter.content["approved_by"], letter.content["approved_on"]) == ("王芳", "2026-11-02")
    assert letter.kind == "referral_letter"
    assert letter.content["to"] == OTHER_COMMITTEE.name
    assert letter.content["petitioner_name"] == "张三" and letter.content["respondent_name"] == "李四"
    assert letter.content["summary"] == "双方均同意调解。" and letter.content["request"] == "请现场查看。"
    assert letter.content["consent_documents"] == ["同意调解书.pdf"]
    assert letter.content["legal_documents"] == [] and letter.content["approved_comments"] == ""
    assert letter.content["case_no"] == "FT2026-000001" and letter.content["matter"] == "宅基地院墙纠纷"
    assert letter.content["periods"] == SHIPPED_PERIODS
    assert ctx.notices == [
        Notice(
            OTHER_COMMITTEE.id,
            "mediator",
            "referral",
            "收到访调对接移送案件 FT2026-000001，请在3日内决定受理或者退回",
        )
    ]


SHIPPED_PERIODS = {
    "review": "3日",
    "mediation": "15日",
    "success_feedback": "5个工作日",
    "failure_feedback": "3个工作日",
}


def test_the_letter_states_the_periods_the_diagrams_timers_count() -> None:
    """A policy officer changed the timers: the letter (and the notice) state them in their own units,
    counted as if the case were referred, accepted and ended today."""
    timers = {
        **ten_day_timers(),
        "review_timeout": 'deadline_working_days(referral["referred_at"], 2)',
        "success_feedback_late": 'deadline_days(agreement["mediation_ended_at"], 7)',
        "failure_feedback_late": 'deadline_months(termination["terminated_at"], 1)',
    }
    ctx = FakeContext(data=REFERRAL_DATA, timers=timers)
    run("issue_referral", ctx, mediation_org=OTHER_COMMITTEE.code)
    assert ctx.only_document().content["periods"] == {
        "review": "2个工作日",
        "mediation": "10日",
        "success_feedback": "7日",
        "failure_feedback": "1个月",
    }
    assert ctx.notices[0].message == "收到访调对接移送案件 FT2026-000001，请在2个工作日内决定受理或者退回"


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ('referral["referred_at"]', "计算了0个期间"),
        ('deadline_days(deadline_working_days(referral["referred_at"], 1), 2)', "计算了2个期间"),
    ],
)
def test_a_timer_stating_no_single_period_leaves_the_letter_unissued(expression: str, problem: str) -> None:
    ctx = FakeContext(data=REFERRAL_DATA, timers={**SHIPPED_TIMERS, "review_timeout": expression})
    with pytest.raises(HandlerError, match=f"定时事件“review_timeout”的期限表达式无法计算：.*{problem}"):
        run("issue_referral", ctx, mediation_org=OTHER_COMMITTEE.code)
    assert ctx.documents == [] and ctx.notices == []


def test_a_referral_to_an_unknown_organisation_is_refused_before_anything_is_done() -> None:
    ctx = FakeContext(data=REFERRAL_DATA)
    with pytest.raises(HandlerError, match="未知的机构：nowhere"):
        run("issue_referral", ctx, mediation_org="nowhere")
    assert (ctx.documents, ctx.notices, ctx.mediation_org_id) == ([], [], MEDIATION_COMMITTEE.id)


def test_a_return_letter_tells_the_petition_office_why() -> None:
    ctx = FakeContext(data={"mediator_name": "次仁卓玛"})
    result = run("issue_return", ctx, reason="属于专属管辖")
    letter = ctx.only_document()
    assert letter.kind == "return_letter"
    assert letter.content["reason"] == "属于专属管辖" and letter.content["from"] == "次仁卓玛"
    assert result == {"returned_at": NOW.isoformat(), "reason": "属于专属管辖", "document": letter.number}
    assert ctx.notices == [
        Notice(
            PETITION_OFFICE.id,
            "petition_clerk",
            "return",
            "案件 FT2026-000001 被人民调解组织退回：属于专属管辖",
        )
    ]


def test_a_transfer_names_the_new_organisation() -> None:
    ctx = FakeContext()
    assert run("transfer_case", ctx, target_org=OTHER_COMMITTEE.code) == OTHER_COMMITTEE.code
    assert (ctx.documents, ctx.notices, ctx.mediation_org_id) == ([], [], MEDIATION_COMMITTEE.id)


def test_a_transfer_to_the_same_organisation_is_refused() -> None:
    with pytest.raises(HandlerError, match="改派的人民调解组织不能与原组织相同"):
        run("transfer_case", FakeContext(), target_org=MEDIATION_COMMITTEE.code)


def test_a_transfer_to_an_unknown_organisation_is_refused() -> None:
    with pytest.raises(HandlerError, match="未知的机构：nowhere"):
        run("transfer_case", FakeContext(), target_org="nowhere")


def test_a_consultation_reaches_the_justice_office_and_both_people_of_the_petition_office() -> None:
    ctx = FakeContext()
    result = run("request_consultation", ctx, reason="对退回理由有异议")
    message = "案件 FT2026-000001 提请会商：对退回理由有异议"
    assert ctx.notices == [
        Notice(JUSTICE_OFFICE.id, "justice_officer", "consultation", message),
        Notice(PETITION_OFFICE.id, "petition_clerk", "consultation", message),
        Notice(PETITION_OFFICE.id, "petition_leader", "consultation", message),
    ]
    assert result == {"requested_at": NOW.isoformat(), "reason": "对退回理由有异议"}


def test_acceptance_pauses_the_petition_clock_and_sets_the_mediation_periods() -> None:
    ctx = FakeContext(data={"mediator_name": "扎西多吉"})
    result = run("accept_case", ctx, mediation_org=OTHER_COMMITTEE.code)
    receipt, rights = ctx.documents
    assert ctx.mediation_org_id == OTHER_COMMITTEE.id
    # 人民调解法第二十三条: the parties are told their rights and duties on acceptance
    assert rights.kind == "rights_notice" and rights.content["given_on"] == "2026-11-02"
    assert ctx.clock_events == ["pause"]
    assert receipt.kind == "acceptance_receipt"
    assert receipt.content["mediator"] == "扎西多吉" and receipt.content["accepted_on"] == "2026-11-02"
    assert ctx.notices == [
        Notice(
            PETITION_OFFICE.id,
            "petition_clerk",
            "accepted",
            f"案件 FT2026-000001 已由{OTHER_COMMITTEE.name}受理调解",
        )
    ]
    assert result == {
        "accepted_at": NOW.isoformat(),
        "mediation_org": OTHER_COMMITTEE.code,
        "mediation_days": 15,
        # 15 and 30 days from Monday 2 November 2026, both ending on working days
        "mediation_deadline": "2026-11-17T23:59:59+08:00",
        "latest_deadline": "2026-12-02T23:59:59+08:00",
        "extension_days": 0,
        "extensions": [],
        "document": receipt.number,
        "rights_notice": rights.number,
    }


def test_acceptance_names_the_period_the_diagrams_timer_counts() -> None:
    """A policy officer changed the timer to 10 days: the acceptance data say 10 days and the 10th day,
    the legal maximum stays 30 days."""
    result = run("accept_case", FakeContext(timers=ten_day_timers()), mediation_org=MEDIATION_COMMITTEE.code)
    assert (result["mediation_days"], result["mediation_deadline"]) == (10, "2026-11-12T23:59:59+08:00")
    assert result["latest_deadline"] == "2026-12-02T23:59:59+08:00"


def test_a_mediation_period_ending_in_a_holiday_ends_on_the_next_working_day() -> None:
    """Civil Code art 203: accepted 16 September 2026, day 15 is 1 October (National Day)."""
    ctx = FakeContext(now=datetime(2026, 9, 16, 10, 0, tzinfo=SHANGHAI))
    result = run("accept_case", ctx, mediation_org=MEDIATION_COMMITTEE.code)
    assert result["mediation_deadline"] == "2026-10-08T23:59:59+08:00"
