"""The petition's own handling: acceptance (受理) and conclusion (办结) by the petition office, which start
and end its time limit (信访工作条例 arts 22, 34; mediation time excluded, 实施意见 六(四))."""

from __future__ import annotations

from typing import Any

from handlers import dates, documents
from handlers.api import HandlerContext, Role, operation
from handlers.mediation import MEDIATION_ENDED

ACCEPTANCE_DAYS = 15  # 信访工作条例第二十二条: registered and decided within 15 days of receipt
HANDLING_DAYS = 60  # 第三十四条: concluded within 60 days of acceptance


@operation("accept_petition")
def accept_petition(ctx: HandlerContext) -> dict[str, Any]:
    """The acceptance date the clerk typed (today when left empty) starts the petition's 60 days."""
    received = dates.typed(ctx, ctx.data.get("received_on"), "信访日期")
    accepted = dates.typed(
        ctx,
        ctx.data.get("petition_accepted_on"),
        "受理日期",
        (received.isoformat(), "信访日期"),
        default_today=True,
    )
    ctx.start_petition_clock(dates.start_of(accepted))
    due = ctx.calendar.add_days(dates.start_of(received), ACCEPTANCE_DAYS)
    return {
        "accepted_on": accepted.isoformat(),
        "received_on": received.isoformat(),
        "acceptance_deadline": due.isoformat(),
        "on_time": dates.start_of(accepted) <= due,
        "handling_deadline": ctx.calendar.add_days(dates.start_of(accepted), HANDLING_DAYS).isoformat(),
    }


@operation("warn_petition_acceptance")
def warn_petition_acceptance(ctx: HandlerContext) -> dict[str, Any]:
    message = f"案件 {ctx.case_no} 自收到信访事项之日起已满{ACCEPTANCE_DAYS}日，请及时决定是否受理"
    for role in (Role.PETITION_CLERK, Role.PETITION_LEADER):
        ctx.notify(ctx.petition_office_id, role, "acceptance_due", message)
    return {"warned_at": ctx.now.isoformat()}


@operation("conclude_petition")
def conclude_petition(ctx: HandlerContext) -> dict[str, Any]:
    """办结 after a successful mediation, on the date the clerk typed: not before mediation ended."""
    agreement = ctx.data.get("agreement") or {}
    concluded = dates.typed(
        ctx,
        ctx.data.get("concluded_on"),
        "办结日期",
        (agreement.get("mediation_ended_at"), MEDIATION_ENDED),
    )
    ctx.conclude_petition(dates.start_of(concluded))
    outcome = "经人民调解达成调解协议"
    number = documents.issue(
        ctx,
        "conclusion_notice",
        {
            "petitioner_name": ctx.data.get("petitioner_name"),
            "concluded_on": concluded.isoformat(),
            "outcome": outcome,
            "agreement_number": agreement.get("document"),
        },
    )
    return {"concluded_on": concluded.isoformat(), "outcome": outcome, "document": number}
