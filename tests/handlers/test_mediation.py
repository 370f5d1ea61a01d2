"""依法调解 (实施意见 六(三), 人民调解法 26–33): extension, agreement, termination, the deadline warning."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from handlers.api import SHANGHAI, HandlerError
from handlers.mediation import DEADLINE_REASON, JUDICIAL_CONFIRMATION_DAYS
from tests.handlers.fakes import (
    MEDIATION_COMMITTEE,
    NOW,
    SHIPPED_TIMERS,
    FakeContext,
    Notice,
    run,
    ten_day_timers,
)

ACCEPTED_AT = "2026-11-02T09:00:00+08:00"
PARTIES = {"petitioner_name": "张三", "respondent_name": "李四", "respondent_type": "citizen"}


def acceptance(extension_days: int = 0, **more: Any) -> dict[str, Any]:
    return {
        "accepted_at": ACCEPTED_AT,
        "mediation_org": MEDIATION_COMMITTEE.code,
        "mediation_days": 15 + extension_days,
        "extension_days": extension_days,
        "extensions": [],
        **more,
    }


# ---- extension: 15 days, extendable once or more up to 30 in all -------------------------------------


def test_an_extension_moves_the_deadline_and_keeps_the_record() -> None:
    ctx = FakeContext()
    result = run(
        "extend_mediation", ctx, acceptance=acceptance(document="受理回执"), extra_days=5, reason="等待鉴定"
    )
    assert result == {
        **acceptance(document="受理回执"),
        "extension_days": 5,
        "mediation_days": 20,
        "extensions": [{"at": NOW.isoformat(), "days": 5, "reason": "等待鉴定"}],
        "mediation_deadline": "2026-11-23T23:59:59+08:00",  # day 20 is a Sunday: Monday, Civil Code art 203
    }
    assert (ctx.notices, ctx.documents) == ([], [])


def test_extensions_add_up_to_exactly_thirty_days() -> None:
    first = run("extend_mediation", FakeContext(), acceptance=acceptance(), extra_days=10, reason="一")
    second = run("extend_mediation", FakeContext(), acceptance=first, extra_days=5, reason="二")
    assert (second["extension_days"], second["mediation_days"]) == (15, 30)
    assert [e["days"] for e in second["extensions"]] == [10, 5]
    assert second["mediation_deadline"] == "2026-12-02T23:59:59+08:00"


def test_thirty_days_ending_in_a_holiday_end_on_the_next_working_day_and_no_more_days_are_granted() -> None:
    """The README's choice: 30 days are counted, never more; a last day on a rest day moves to the first
    working day after it (民法典第二百零三条), as every period's does. Accepted 2 September 2026, day 30 is
    2 October (National Day): the period ends on 8 October, and no further day can be added."""
    start = acceptance(accepted_at="2026-09-02T10:00:00+08:00")
    full = run("extend_mediation", FakeContext(), acceptance=start, extra_days=15, reason="等待鉴定")
    assert (full["mediation_days"], full["mediation_deadline"]) == (30, "2026-10-08T23:59:59+08:00")
    with pytest.raises(HandlerError, match="最多还可延长0日"):
        run("extend_mediation", FakeContext(), acceptance=full, extra_days=1, reason="再延")


def test_under_a_ten_day_timer_twenty_more_days_may_be_added() -> None:
    """The diagram counts 10 days (a policy officer's edit): the law's 30 days in all leave 20 to extend,
    and the deadline the extension names is the timer's."""
    ctx = FakeContext(timers=ten_day_timers())
    start = acceptance(mediation_days=10)
    with pytest.raises(HandlerError, match="已延长0日，最多还可延长20日"):
        run("extend_mediation", ctx, acceptance=start, extra_days=21, reason="等待鉴定")
    full = run("extend_mediation", ctx, acceptance=start, extra_days=20, reason="等待鉴定")
    assert (full["extension_days"], full["mediation_days"]) == (20, 30)
    assert full["mediation_deadline"] == "2026-12-02T23:59:59+08:00"


@pytest.mark.parametrize(
    ("already", "extra", "message"),
    [
        (0, 16, "调解期限合计不得超过30日（实施意见六(三)）：已延长0日，最多还可延长15日"),
        (10, 6, "调解期限合计不得超过30日（实施意见六(三)）：已延长10日，最多还可延长5日"),
        (15, 1, "调解期限合计不得超过30日（实施意见六(三)）：已延长15日，最多还可延长0日"),
    ],
)
def test_an_extension_past_thirty_days_is_refused_saying_how_much_is_left(
    already: int, extra: int, message: str
) -> None:
    with pytest.raises(HandlerError) as refused:
        run(
            "extend_mediation",
            FakeContext(),
            acceptance=acceptance(already),
            extra_days=extra,
            reason="再等等",
        )
    assert str(refused.value) == message


@pytest.mark.parametrize("extra", [0, -3])
def test_an_extension_is_at_least_one_day(extra: int) -> None:
    with pytest.raises(HandlerError, match=r"^延长天数至少为1日$"):
        run("extend_mediation", FakeContext(), acceptance=acceptance(), extra_days=extra, reason="无")


def test_an_acceptance_from_before_extensions_were_recorded_counts_as_none() -> None:
    old = {"accepted_at": ACCEPTED_AT}
    result = run("extend_mediation", FakeContext(), acceptance=old, extra_days=15, reason="鉴定")
    assert (result["extension_days"], result["mediation_days"]) == (15, 30)


# ---- agreement: written or oral, judicial confirmation within 30 days, feedback within 5 working days


AGREEMENT = {
    **PARTIES,
    "matter": "宅基地院墙纠纷",
    "acceptance": {"mediation_org": MEDIATION_COMMITTEE.code},
    "mediator_name": "次仁卓玛",
    "agreement_facts": "院墙系双方共有。",
    "agreement_terms": "双方各承担一半维修费用。",
    "agreement_effective_on": "2026-11-10",
    "agreement_responsibilities": "双方共同负责。",
    "agreement_performance_manner": "现金支付",
    "agreement_performance_deadline": "2026-12-31",
    "judicial_confirmation_advised": True,
}


SUBMITTED = datetime(2026, 11, 12, 10, 0, tzinfo=SHANGHAI)  # two days after the agreement took effect
ENDED = datetime(2026, 11, 10, 0, 0, tzinfo=SHANGHAI)


def test_a_written_agreement_is_recorded_with_its_deadlines() -> None:
    ctx = FakeContext(data=AGREEMENT, now=SUBMITTED)
    result = run("record_agreement", ctx, form="written")
    document = ctx.only_document()
    assert ctx.outcome == "mediated"
    assert document.kind == "agreement"
    assert result == {
        "form": "written",
        # mediation ended the day the agreement took effect, not when the mediator submitted it
        "mediation_ended_at": ENDED.isoformat(),
        "effective_on": "2026-11-10",
        "judicial_confirmation_deadline": "2026-12-10T23:59:59+08:00",
        "feedback_deadline": "2026-11-17T23:59:59+08:00",  # 5 working days from Tuesday 10 November
        "feedback_period": "5个工作日",
        "document": document.number,
    }
    content = document.content
    assert [(p["role"], p["name"]) for p in content["parties"]] == [
        ("petitioner", "张三"),
        ("respondent", "李四"),
    ]
    assert content["mediator"] == "次仁卓玛"
    assert content["facts"] == "院墙系双方共有。" and content["terms"] == "双方各承担一半维修费用。"
    # 人民调解法第二十九条: responsibilities, and the manner and the time limit of performance apart
    assert content["responsibilities"] == "双方共同负责。"
    assert content["performance_manner"] == "现金支付" and content["performance_deadline"] == "2026-12-31"
    assert content["effective_on"] == "2026-11-10"
    assert content["judicial_confirmation_deadline"] == "2026-12-10T23:59:59+08:00"
    assert content["judicial_confirmation_advised"] is True
    assert ctx.notices == []


def test_the_petition_clock_resumes_on_the_day_mediation_ended() -> None:
    ctx = FakeContext(data=AGREEMENT, now=SUBMITTED)
    ctx.pause_petition_clock()
    run("record_agreement", ctx, form="written")
    assert ctx.clock_events == ["pause", "resume"] and ctx.clock_times[-1] == ENDED


@pytest.mark.parametrize(
    ("effective_on", "message"),
    [
        ("9999-12-31", "调解协议生效日期（9999年12月31日）不能晚于今天（2026年11月12日）"),
        ("2026-11-02", "调解协议生效日期（2026年11月2日）不能早于受理调解日期（2026年11月3日）"),
    ],
)
def test_an_effective_date_out_of_range_is_refused(effective_on: str, message: str) -> None:
    accepted = {"accepted_at": "2026-11-03T10:00:00+08:00"}
    ctx = FakeContext(
        data={**AGREEMENT, "agreement_effective_on": effective_on, "acceptance": accepted}, now=SUBMITTED
    )
    with pytest.raises(HandlerError) as refused:
        run("record_agreement", ctx, form="written")
    assert str(refused.value) == message and ctx.documents == [] and ctx.outcome is None


def test_an_oral_agreement_gets_a_record_instead() -> None:
    ctx = FakeContext(data={**AGREEMENT, "judicial_confirmation_advised": None}, now=SUBMITTED)
    run("record_agreement", ctx, form="oral")
    assert ctx.only_document().kind == "oral_agreement_record"
    assert ctx.only_document().content["judicial_confirmation_advised"] is False


def test_judicial_confirmation_is_thirty_days_and_a_holiday_end_moves_to_the_next_working_day() -> None:
    assert JUDICIAL_CONFIRMATION_DAYS == 30
    ctx = FakeContext(data={**AGREEMENT, "agreement_effective_on": "2026-09-01"})
    result = run("record_agreement", ctx, form="written")
    assert result["judicial_confirmation_deadline"] == "2026-10-08T23:59:59+08:00"  # 1 Oct is National Day


def test_without_an_effective_date_the_agreement_takes_effect_on_todays_date_in_china() -> None:
    early_morning = datetime(2026, 11, 2, 1, 30, tzinfo=SHANGHAI)  # still 1 November in UTC
    ctx = FakeContext(data={**AGREEMENT, "agreement_effective_on": None}, now=early_morning)
    result = run("record_agreement", ctx, form="written")
    assert result["effective_on"] == "2026-11-02"
    assert result["judicial_confirmation_deadline"] == "2026-12-02T23:59:59+08:00"


def test_success_feedback_counts_five_working_days_across_national_day() -> None:
    ctx = FakeContext(
        data={**AGREEMENT, "agreement_effective_on": "2026-09-30"},
        now=datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI),
    )
    result = run("record_agreement", ctx, form="written")
    # 8, 9 October, Saturday 10 October (调休 working day), 12, 13 October
    assert result["feedback_deadline"] == "2026-10-13T23:59:59+08:00"


def test_the_feedback_deadlines_are_the_diagrams_timers() -> None:
    """A policy officer changed the feedback timers: the deadlines in the data follow them."""
    timers = {
        **SHIPPED_TIMERS,
        "success_feedback_late": 'deadline_working_days(agreement["mediation_ended_at"], 2)',
        "failure_feedback_late": 'deadline_days(termination["terminated_at"], 10)',
    }
    agreed = run(
        "record_agreement", FakeContext(data=AGREEMENT, now=SUBMITTED, timers=timers), form="written"
    )
    assert agreed["feedback_deadline"] == "2026-11-12T23:59:59+08:00"  # from Tuesday 10 November
    terminated = run("terminate_mediation", FakeContext(timers=timers))
    assert terminated["feedback_deadline"] == "2026-11-12T23:59:59+08:00"  # from Monday 2 November


# ---- termination: by the mediator with a reason, or by the deadline timer -------------------------------


def test_a_mediator_terminating_gives_the_reason_and_the_other_routes() -> None:
    data = {**PARTIES, "mediation_outcome": "terminate", "termination_reason": "  被申请人要求终止调解 "}
    ctx = FakeContext(data=data)
    result = run("terminate_mediation", ctx)
    notice = ctx.only_document()
    assert ctx.outcome == "terminated"
    assert notice.kind == "termination_notice"
    assert notice.content["reason"] == "被申请人要求终止调解"
    assert notice.content["other_routes"] == ["仲裁", "行政", "司法", "信访"]
    assert notice.content["feedback_period"] == "3个工作日"
    assert [p["name"] for p in notice.content["parties"]] == ["张三", "李四"]
    assert result == {
        "terminated_at": NOW.isoformat(),
        "reason": "被申请人要求终止调解",
        "feedback_deadline": "2026-11-05T23:59:59+08:00",  # 3 working days from Monday 2 November
        "feedback_period": "3个工作日",
        "document": notice.number,
    }


@pytest.mark.parametrize(
    "data",
    [
        {"mediation_outcome": "extend", "termination_reason": "上次填写的理由"},  # the timer fired
        {},
        {"mediation_outcome": "terminate", "termination_reason": "   "},
        {"mediation_outcome": "terminate", "termination_reason": None},
    ],
)
def test_without_a_mediators_reason_the_deadline_is_the_reason(data: dict[str, Any]) -> None:
    ctx = FakeContext(data=data)
    assert run("terminate_mediation", ctx)["reason"] == DEADLINE_REASON == "调解期限届满，未达成调解协议"
    assert ctx.only_document().content["reason"] == DEADLINE_REASON


def test_failure_feedback_counts_three_working_days_across_national_day() -> None:
    ctx = FakeContext(now=datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI))
    assert run("terminate_mediation", ctx)["feedback_deadline"] == "2026-10-10T23:59:59+08:00"


# ---- the warning before the deadline ----------------------------------------------------------------


def test_the_deadline_warning_names_the_day_in_china() -> None:
    ctx = FakeContext()
    # 23:59:59 on 17 November in China, still the 17th at 15:59:59 UTC
    result = run("warn_mediation_deadline", ctx, deadline="2026-11-17T15:59:59+00:00")
    assert ctx.notices == [
        Notice(
            MEDIATION_COMMITTEE.id,
            "mediator",
            "deadline_near",
            "案件 FT2026-000001 调解期限将于2026年11月17日届满，届时未达成协议将终止调解",
        )
    ]
    assert result == {"warned_at": NOW.isoformat()}


def test_the_deadline_warning_uses_the_china_date_when_utc_is_a_day_behind() -> None:
    ctx = FakeContext()
    run("warn_mediation_deadline", ctx, deadline="2026-11-17T16:30:00+00:00")  # 00:30 on the 18th in China
    assert "2026年11月18日届满" in ctx.notices[0].message
