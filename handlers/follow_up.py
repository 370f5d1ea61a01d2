"""结果反馈 and 跟踪回访: receipts, late warnings and closing the case (实施意见 六(四), 七(四))."""

from __future__ import annotations

from typing import Any

from handlers import dates, documents
from handlers.api import HandlerContext, Role, operation
from handlers.mediation import MEDIATION_ENDED
from handlers.referral import FAILURE_FEEDBACK_TIMER, SUCCESS_FEEDBACK_TIMER


def _warn_both_sides(ctx: HandlerContext, kind: str, message: str) -> dict[str, Any]:
    """Feedback and follow-up are owed by the mediation organisation to the petition office: both hear."""
    ctx.notify(ctx.mediation_org_id, Role.MEDIATOR, kind, message)
    ctx.notify(ctx.petition_office_id, Role.PETITION_CLERK, kind, message)
    return {"warned_at": ctx.now.isoformat()}


@operation("warn_late_feedback")
def warn_late_feedback(ctx: HandlerContext, outcome: str) -> dict[str, Any]:
    # the period of the timer that fired, counted on the case's own data
    period = ctx.timer_period(SUCCESS_FEEDBACK_TIMER if outcome == "success" else FAILURE_FEEDBACK_TIMER, {})
    return _warn_both_sides(
        ctx, "feedback_late", f"案件 {ctx.case_no} 调解结果未在{period}内反馈信访部门，已逾期"
    )


@operation("record_success_feedback")
def record_success_feedback(ctx: HandlerContext) -> dict[str, Any]:
    """调解成功的，调解结束后5个工作日内将调解协议书复印件反馈信访部门 (实施意见 六(四)): the day the
    mediator says it was fed back, checked as the failure's is; the 调解结果反馈函 goes with the signed
    agreement's copy, and the petition office signs for it (receive_success)."""
    agreement = ctx.data.get("agreement") or {}
    fed_back = dates.typed(
        ctx, ctx.data.get("fed_back_on"), "反馈日期", (agreement.get("mediation_ended_at"), MEDIATION_ENDED)
    )
    number = documents.issue(
        ctx,
        "success_feedback",
        {
            "outcome": "success",
            "fed_back_on": fed_back.isoformat(),
            "agreement_number": agreement.get("document"),
            "attachments": ctx.data.get("agreement_copy", []),
            "feedback_notes": ctx.data.get("feedback_notes"),
        },
    )
    ctx.notify(
        ctx.petition_office_id,
        Role.PETITION_CLERK,
        "feedback",
        f"案件 {ctx.case_no} 调解成功，人民调解组织已反馈调解结果并送达协议书复印件，请签收",
    )
    return {"fed_back_on": fed_back.isoformat(), "recorded_at": ctx.now.isoformat(), "document": number}


@operation("issue_feedback_receipt")
def issue_feedback_receipt(ctx: HandlerContext) -> dict[str, Any]:
    """调解不成功的，写明原因，并将案件相关材料一同反馈回执 (实施意见 六(四))."""
    termination = ctx.data.get("termination") or {}
    dates.typed(
        ctx, ctx.data.get("fed_back_on"), "反馈日期", (termination.get("terminated_at"), "终止调解日期")
    )
    number = documents.issue(
        ctx,
        "feedback_receipt",
        {
            "outcome": "failure",
            "fed_back_on": ctx.data.get("fed_back_on"),
            "failure_reasons": ctx.data.get("failure_reasons"),
            "materials_returned": ctx.data.get("materials_returned"),
            "materials": ctx.data.get("materials", []),
            "termination_reason": ctx.data.get("termination", {}).get("reason"),
        },
    )
    ctx.notify(
        ctx.petition_office_id,
        Role.PETITION_CLERK,
        "feedback",
        f"案件 {ctx.case_no} 调解不成功，人民调解组织已反馈情况并退回材料，请签收后按信访程序办理",
    )
    return {"issued_at": ctx.now.isoformat(), "document": number}


@operation("warn_late_follow_up")
def warn_late_follow_up(ctx: HandlerContext) -> dict[str, Any]:
    return _warn_both_sides(ctx, "follow_up_late", f"案件 {ctx.case_no} 结案已满一个月，尚未完成跟踪回访")


# what a 回访记录 holds; who took part from each side (七(四): 会同信访部门)
VISIT_KEYS = (
    "visited_on",
    "visit_method",
    "mediation_visitors",
    "petition_visitors",
    "performance",
    "social_effect",
    "party_opinions",
    "further_guidance",
)


def _visit_record(ctx: HandlerContext) -> str:
    # a visit follows the feedback of the mediation's result (实施意见 七(四))
    dates.typed(ctx, ctx.data.get("visited_on"), "回访日期", (ctx.data.get("fed_back_on"), "反馈日期"))
    return documents.issue(ctx, "follow_up_record", {key: ctx.data.get(key) for key in VISIT_KEYS})


@operation("close_case")
def close_case(ctx: HandlerContext) -> dict[str, Any]:
    number = _visit_record(ctx)
    return {"closed_at": ctx.now.isoformat(), "document": number}


@operation("record_follow_up_after_termination")
def record_follow_up_after_termination(ctx: HandlerContext) -> dict[str, Any]:
    """The visit the petition office asked for after a termination: recorded, and the office is told."""
    number = _visit_record(ctx)
    ctx.notify(
        ctx.petition_office_id, Role.PETITION_CLERK, "follow_up", f"案件 {ctx.case_no} 已完成终止调解后的回访"
    )
    return {"visited_at": ctx.now.isoformat(), "document": number}
