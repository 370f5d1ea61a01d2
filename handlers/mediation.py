"""依法调解: extension within the 30-day limit, agreement, termination (实施意见 六(三), 人民调解法 26–33)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from handlers import dates, documents
from handlers.api import SHANGHAI, HandlerContext, HandlerError, Role, operation
from handlers.referral import (
    FAILURE_FEEDBACK_TIMER,
    MAX_MEDIATION_DAYS,
    SUCCESS_FEEDBACK_TIMER,
    mediation_period,
)

JUDICIAL_CONFIRMATION_DAYS = 30  # 人民调解法第三十三条
OTHER_ROUTES = ("仲裁", "行政", "司法", "信访")
DEADLINE_REASON = "调解期限届满，未达成调解协议"
# what a date after a successful mediation may not precede, as the user is told
MEDIATION_ENDED = "调解结束日期（调解协议生效之日）"


@operation("extend_mediation")
def extend_mediation(
    ctx: HandlerContext, acceptance: dict[str, Any], extra_days: int, reason: str
) -> dict[str, Any]:
    already = int(acceptance.get("extension_days", 0))
    # the period the diagram gives before any extension; the 30 days in all are the law's
    first, _ = mediation_period(ctx.timer_due, {**acceptance, "extension_days": 0})
    allowed = max(MAX_MEDIATION_DAYS - first - already, 0)
    if extra_days < 1:
        raise HandlerError("延长天数至少为1日")
    if extra_days > allowed:
        raise HandlerError(
            f"调解期限合计不得超过{MAX_MEDIATION_DAYS}日（实施意见六(三)）：已延长{already}日，最多还可延长{allowed}日"
        )
    total = already + extra_days
    days, deadline = mediation_period(ctx.timer_due, {**acceptance, "extension_days": total})
    return {
        **acceptance,
        "extension_days": total,
        "mediation_days": days,
        "extensions": [
            *acceptance.get("extensions", []),
            {"at": ctx.now.isoformat(), "days": extra_days, "reason": reason},
        ],
        "mediation_deadline": deadline,
    }


def _start_of(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(0), tzinfo=SHANGHAI)


@operation("record_agreement")
def record_agreement(ctx: HandlerContext, form: str) -> dict[str, Any]:
    acceptance = ctx.data.get("acceptance") or {}
    effective = dates.typed(
        ctx,
        ctx.data.get("agreement_effective_on"),
        "调解协议生效日期",
        (acceptance.get("accepted_at"), "受理调解日期"),
        default_today=True,
    )
    effective_on = effective.isoformat()
    # Mediation ended the day the agreement took effect: the petition's limit runs again from then,
    # and the feedback and follow-up periods count from it (实施意见 六(四)、(五)).
    ended = dates.start_of(effective)
    feedback = {"agreement": {"mediation_ended_at": ended.isoformat()}}
    confirmation_deadline = ctx.calendar.add_days(_start_of(effective_on), JUDICIAL_CONFIRMATION_DAYS)
    if ctx.petition_clock_paused():
        ctx.resume_petition_clock(ended)
    ctx.record_outcome("mediated")
    kind = "agreement" if form == "written" else "oral_agreement_record"
    number = documents.issue(
        ctx,
        kind,
        {
            "parties": documents.party_list(ctx.data),
            "mediator": ctx.data.get("mediator_name"),
            "facts": ctx.data.get("agreement_facts"),
            "disputed_matters": ctx.data.get("agreement_disputed_matters"),
            "responsibilities": ctx.data.get("agreement_responsibilities"),
            "terms": ctx.data.get("agreement_terms"),
            "performance_manner": ctx.data.get("agreement_performance_manner"),
            "performance_deadline": ctx.data.get("agreement_performance_deadline"),
            "effective_on": effective_on,
            "judicial_confirmation_deadline": confirmation_deadline.isoformat(),
            "judicial_confirmation_advised": bool(ctx.data.get("judicial_confirmation_advised")),
        },
    )
    return {
        "form": form,
        "mediation_ended_at": ended.isoformat(),
        "effective_on": effective_on,
        "judicial_confirmation_deadline": confirmation_deadline.isoformat(),
        # the diagram's timer on 反馈调解结果 (5个工作日 as shipped) is the one statement of the period
        "feedback_deadline": ctx.timer_due(SUCCESS_FEEDBACK_TIMER, feedback).isoformat(),
        "feedback_period": str(ctx.timer_period(SUCCESS_FEEDBACK_TIMER, feedback)),
        "document": number,
    }


@operation("terminate_mediation")
def terminate_mediation(ctx: HandlerContext) -> dict[str, Any]:
    """Reached by the mediator's decision (with a reason) or by the deadline timer (without one)."""
    explicit = ctx.data.get("mediation_outcome") == "terminate"
    reason = str(ctx.data.get("termination_reason") or "").strip() if explicit else ""
    reason = reason or DEADLINE_REASON
    # terminated now: the petition's limit runs again from today, whenever the receipt is signed
    if ctx.petition_clock_paused():
        ctx.resume_petition_clock(ctx.now)
    ctx.record_outcome("terminated")
    # the diagram's timer on 反馈调解结果 after termination (3个工作日 as shipped), told to the parties too
    feedback = {"termination": {"terminated_at": ctx.now.isoformat()}}
    period = str(ctx.timer_period(FAILURE_FEEDBACK_TIMER, feedback))
    number = documents.issue(
        ctx,
        "termination_notice",
        {
            "parties": documents.party_list(ctx.data),
            "reason": reason,
            "other_routes": list(OTHER_ROUTES),
            "terminated_on": ctx.now.astimezone(SHANGHAI).date().isoformat(),
            "feedback_period": period,
        },
    )
    return {
        "terminated_at": ctx.now.isoformat(),
        "reason": reason,
        "feedback_deadline": ctx.timer_due(FAILURE_FEEDBACK_TIMER, feedback).isoformat(),
        "feedback_period": period,
        "document": number,
    }


@operation("warn_mediation_deadline")
def warn_mediation_deadline(ctx: HandlerContext, deadline: str) -> dict[str, Any]:
    day = datetime.fromisoformat(deadline).astimezone(SHANGHAI)
    message = (
        f"案件 {ctx.case_no} 调解期限将于{day.year}年{day.month}月{day.day}日届满，届时未达成协议将终止调解"
    )
    ctx.notify(ctx.mediation_org_id, Role.MEDIATOR, "deadline_near", message)
    return {"warned_at": ctx.now.isoformat()}
