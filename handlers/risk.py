"""排查预警 (实施意见 七(三)): the mediation organisation reports a risk to public security and the local
Party committee and government, and the petition office hears of it at once.

The report (the `report_risk` form) records whom it went to and who received it; a 风险报告 is issued
from it. The petition office's response (`handle_risk`) is due within hours when the mediator marks
the report urgent, and the office's leader is told at once; otherwise it is due within a working day
(the policy says 及时; one working day is our reading, a constant here).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from handlers import documents
from handlers.api import SHANGHAI, HandlerContext, Role, operation

RISK_TYPES = {"mass_incident": "可能引发群体性事件", "leapfrog": "可能引发越级上访", "other": "其他风险"}
URGENT_RESPONSE_HOURS = 2
RESPONSE_WORKING_DAYS = 1


def recipients(report: dict[str, Any]) -> list[str]:
    return [str(report[key]) for key in ("police_recipient", "government_recipient") if report.get(key)]


@operation("notify_risk")
def notify_risk(ctx: HandlerContext, report: dict[str, Any]) -> dict[str, Any]:
    label = RISK_TYPES.get(str(report.get("risk_type")), "风险")
    urgent = bool(report.get("urgent"))
    if urgent:
        respond_by = ctx.now + timedelta(hours=URGENT_RESPONSE_HOURS)
        limit = f"{URGENT_RESPONSE_HOURS}小时内"
    else:
        respond_by = ctx.calendar.add_working_days(ctx.now, RESPONSE_WORKING_DAYS)
        limit = f"{RESPONSE_WORKING_DAYS}个工作日内"
    number = documents.issue(
        ctx,
        "risk_report",
        {
            "risk_type": report.get("risk_type"),
            "description": report.get("description"),
            "recipients": recipients(report),
            "reported_at": ctx.now.astimezone(SHANGHAI).isoformat(),
            "reported_by": ctx.actor_name,
            "receipt": report.get("receipt"),
            "urgent": urgent,
        },
    )
    # the case number and the kind only: the description may name people
    message = f"案件 {ctx.case_no} 报告风险（{label}）{'，情况紧急' if urgent else ''}，请于{limit}处置"
    ctx.notify(ctx.petition_office_id, Role.PETITION_CLERK, "risk", message)
    if urgent:
        ctx.notify(ctx.petition_office_id, Role.PETITION_LEADER, "risk", message)
    return {
        "notified_at": ctx.now.isoformat(),
        "risk_type": report.get("risk_type"),
        "urgent": urgent,
        "recipients": recipients(report),
        "respond_by": respond_by.isoformat(),
        "document": number,
    }


@operation("warn_late_risk_response")
def warn_late_risk_response(ctx: HandlerContext) -> dict[str, Any]:
    """The petition office has not responded in time: its leader hears of it, and so does the clerk."""
    message = f"案件 {ctx.case_no} 报告的风险尚未处置，已超过处置期限"
    for role in (Role.PETITION_LEADER, Role.PETITION_CLERK):
        ctx.notify(ctx.petition_office_id, role, "risk_late", message)
    return {"warned_at": ctx.now.isoformat()}
