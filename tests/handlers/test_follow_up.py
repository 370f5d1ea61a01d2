"""结果反馈 and 跟踪回访 (实施意见 六(四), 七(四)): late warnings, the failure receipt, closing."""

from __future__ import annotations

import pytest

from handlers.api import HandlerError, Role
from tests.handlers.fakes import (
    MEDIATION_COMMITTEE,
    NOW,
    PETITION_OFFICE,
    SHIPPED_TIMERS,
    FakeContext,
    Notice,
    run,
)

ENDED = {
    "agreement": {"mediation_ended_at": "2026-11-02T00:00:00+08:00"},
    "termination": {"terminated_at": "2026-11-02T09:00:00+08:00"},
}


@pytest.mark.parametrize(
    ("outcome", "timers", "limit"),
    [
        ("success", {}, "5个工作日"),
        ("failure", {}, "3个工作日"),
        # the limit is the diagram's timer on the feedback task, in its own unit
        ("success", {"success_feedback_late": 'deadline_days(agreement["mediation_ended_at"], 7)'}, "7日"),
        (
            "failure",
            {"failure_feedback_late": 'deadline_working_days(termination["terminated_at"], 2)'},
            "2个工作日",
        ),
    ],
)
def test_late_feedback_warns_both_sides_with_the_limit_that_applied(
    outcome: str, timers: dict[str, str], limit: str
) -> None:
    ctx = FakeContext(data=ENDED, timers={**SHIPPED_TIMERS, **timers})
    result = run("warn_late_feedback", ctx, outcome=outcome)
    message = f"案件 FT2026-000001 调解结果未在{limit}内反馈信访部门，已逾期"
    assert ctx.notices == [
        Notice(MEDIATION_COMMITTEE.id, "mediator", "feedback_late", message),
        Notice(PETITION_OFFICE.id, "petition_clerk", "feedback_late", message),
    ]
    assert result == {"warned_at": NOW.isoformat()}


FAILURE = {
    "matter": "草场边界纠纷",
    "fed_back_on": "2026-07-14",
    "failure_reasons": "被申请人要求终止调解。",
    "materials_returned": "移送函、调解记录",
    "materials": ["调解记录.pdf"],
    "termination": {"reason": "被申请人明确表示不愿继续调解"},
}


def test_a_failure_receipt_returns_the_reasons_and_materials_to_the_petition_office() -> None:
    ctx = FakeContext(data=FAILURE)
    result = run("issue_feedback_receipt", ctx)
    receipt = ctx.only_document()
    assert receipt.kind == "feedback_receipt"
    assert receipt.content == {
        "case_no": "FT2026-000001",
        "matter": "草场边界纠纷",
        "outcome": "failure",
        "fed_back_on": "2026-07-14",
        "failure_reasons": "被申请人要求终止调解。",
        "materials_returned": "移送函、调解记录",
        "materials": ["调解记录.pdf"],
        "termination_reason": "被申请人明确表示不愿继续调解",
    }
    assert ctx.notices == [
        Notice(
            PETITION_OFFICE.id,
            "petition_clerk",
            "feedback",
            "案件 FT2026-000001 调解不成功，人民调解组织已反馈情况并退回材料，请签收后按信访程序办理",
        )
    ]
    assert result == {"issued_at": NOW.isoformat(), "document": receipt.number}


def test_a_failure_receipt_without_termination_or_materials() -> None:
    ctx = FakeContext(data={"fed_back_on": "2026-07-14"})
    run("issue_feedback_receipt", ctx)
    content = ctx.only_document().content
    assert content["termination_reason"] is None and content["materials"] == []


def test_a_late_follow_up_warns_both_sides() -> None:
    ctx = FakeContext()
    result = run("warn_late_follow_up", ctx)
    message = "案件 FT2026-000001 结案已满一个月，尚未完成跟踪回访"
    assert ctx.notices == [
        Notice(MEDIATION_COMMITTEE.id, "mediator", "follow_up_late", message),
        Notice(PETITION_OFFICE.id, "petition_clerk", "follow_up_late", message),
    ]
    assert result == {"warned_at": NOW.isoformat()}


def test_closing_keeps_the_follow_up_record() -> None:
    visit = {
        "visited_on": "2026-10-30",
        "visit_method": "in_person",
        "mediation_visitors": "次仁卓玛",
        "petition_visitors": "王芳",
        "performance": "fully",
        "social_effect": "双方关系缓和。",
        "party_opinions": "满意",
        "further_guidance": "",
    }
    ctx = FakeContext(data={**visit, "matter": "院墙纠纷", "session_record": "不进回访记录"})
    result = run("close_case", ctx)
    record = ctx.only_document()
    assert record.kind == "follow_up_record"
    assert record.content == {"case_no": "FT2026-000001", "matter": "院墙纠纷", **visit}
    assert result == {"closed_at": NOW.isoformat(), "document": record.number}
    assert (ctx.notices, ctx.outcome) == ([], None)


def test_the_visit_record_names_who_took_part_from_each_side() -> None:
    data = {"visited_on": "2026-10-20", "mediation_visitors": "次仁卓玛", "petition_visitors": "王芳"}
    ctx = FakeContext(data=data)
    run("record_follow_up_after_termination", ctx)
    content = ctx.only_document().content
    assert (content["mediation_visitors"], content["petition_visitors"]) == ("次仁卓玛", "王芳")
    assert ctx.notices[-1].kind == "follow_up"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"fed_back_on": "2026-11-03"}, "反馈日期（2026年11月3日）不能晚于今天（2026年11月2日）"),
        (
            {"fed_back_on": "2026-10-29", "termination": {"terminated_at": "2026-10-30T16:00:00+08:00"}},
            "反馈日期（2026年10月29日）不能早于终止调解日期（2026年10月30日）",
        ),
        ({"fed_back_on": "9999-12-31"}, "不能晚于今天"),
    ],
)
def test_a_failure_feedback_date_is_not_in_the_future_nor_before_the_termination(
    data: dict[str, object], message: str
) -> None:
    ctx = FakeContext(data=data)
    with pytest.raises(HandlerError, match=message.replace("（", "\\（").replace("）", "\\）")):
        run("issue_feedback_receipt", ctx)
    assert ctx.documents == [] and ctx.notices == []


AGREED = {"agreement": {"mediation_ended_at": "2026-10-30T00:00:00+08:00", "effective_on": "2026-10-30"}}


def test_a_success_feedback_is_issued_with_the_signed_agreement_and_the_date_the_mediator_gave() -> None:
    agreed = {"agreement": {**AGREED["agreement"], "document": "(2026)城八人调字第7号"}}
    ctx = FakeContext(data={**agreed, "fed_back_on": "2026-10-30", "agreement_copy": ["12"]})
    assert run("record_success_feedback", ctx) == {
        "fed_back_on": "2026-10-30",
        "recorded_at": NOW.isoformat(),
        "document": "success_feedback-1",
    }
    (issued,) = ctx.documents
    assert issued.kind == "success_feedback"
    assert (issued.content["agreement_number"], issued.content["attachments"]) == (
        "(2026)城八人调字第7号",
        ["12"],
    )
    (notice,) = ctx.notices
    assert (notice.role, notice.kind) == (Role.PETITION_CLERK, "feedback") and "请签收" in notice.message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**AGREED, "fed_back_on": "2026-11-03"}, "反馈日期（2026年11月3日）不能晚于今天（2026年11月2日）"),
        (
            {**AGREED, "fed_back_on": "2026-10-29"},
            "反馈日期（2026年10月29日）不能早于调解结束日期（调解协议生效之日）（2026年10月30日）",
        ),
        ({**AGREED, "fed_back_on": "9999-12-31"}, "不能晚于今天"),
        ({**AGREED, "fed_back_on": "2026-02-30"}, "反馈日期应为有效日期，如 2026-11-02"),
    ],
)
def test_a_success_feedback_date_is_not_in_the_future_nor_before_the_agreement_took_effect(
    data: dict[str, object], message: str
) -> None:
    ctx = FakeContext(data=data)
    with pytest.raises(HandlerError) as refused:
        run("record_success_feedback", ctx)
    assert message in str(refused.value)
    assert ctx.documents == [] and ctx.notices == []


@pytest.mark.parametrize("operation", ["close_case", "record_follow_up_after_termination"])
@pytest.mark.parametrize(
    ("visited_on", "message"),
    [
        ("2026-11-03", "回访日期（2026年11月3日）不能晚于今天（2026年11月2日）"),
        ("2026-10-19", "回访日期（2026年10月19日）不能早于反馈日期（2026年10月20日）"),
        ("", "回访日期应为有效日期"),
    ],
)
def test_a_visit_date_is_not_in_the_future_nor_before_the_feedback(
    operation: str, visited_on: str, message: str
) -> None:
    ctx = FakeContext(data={"visited_on": visited_on, "fed_back_on": "2026-10-20"})
    with pytest.raises(HandlerError, match=message.replace("（", "\\（").replace("）", "\\）")):
        run(operation, ctx)
    assert ctx.documents == [] and ctx.notices == []
