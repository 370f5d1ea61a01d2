"""排查预警: a risk report during mediation reaches the petition office at once (实施意见 七(三))."""

from __future__ import annotations

from typing import Any

from handlers.api import HandlerContext, Role, operation

RISK_TYPES = {"mass_incident": "可能引发群体性事件", "leapfrog": "可能引发越级上访", "other": "其他风险"}


@operation("notify_risk")
def notify_risk(ctx: HandlerContext, report: dict[str, Any]) -> dict[str, Any]:
    label = RISK_TYPES.get(str(report.get("risk_type")), "风险")
    message = f"案件 {ctx.case_no} 报告风险（{label}）：{report.get('description', '')}"
    for role in (Role.PETITION_CLERK, Role.PETITION_LEADER):
        ctx.notify(ctx.petition_office_id, role, "risk", message)
    return {"notified_at": ctx.now.isoformat(), "risk_type": report.get("risk_type")}
