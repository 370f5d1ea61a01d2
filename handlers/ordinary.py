"""按信访程序登记办理: the case leaves mediation and the petition procedure (and its clock) goes on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.api import HandlerContext, Role, operation


def ground(data: Mapping[str, Any]) -> str:
    """Why the case went to the ordinary procedure, judged from the latest step it passed."""
    if "termination" in data:
        return f"调解不成功：{data['termination'].get('reason', '')}"
    consultation = data.get("consultation")
    if isinstance(consultation, Mapping) and consultation.get("outcome") == "ordinary":
        return "经信访部门与司法行政部门会商，由信访部门按信访程序办理"
    if data.get("return_decision") == "accept_return":
        return f"人民调解组织退回：{data.get('return_reason', '')}"
    respondent = data.get("respondent_consent")
    if isinstance(respondent, Mapping) and respondent.get("decision") == "refuse":
        return f"对方当事人不同意人民调解：{respondent.get('refusal_reason', '')}"
    if data.get("consent") == "refuse":
        return "信访人不同意人民调解"
    return f"不适用移送人民调解：{data.get('scope_ground', '')}"


@operation("route_to_ordinary_procedure")
def route_to_ordinary_procedure(ctx: HandlerContext) -> dict[str, Any]:
    reason = ground(ctx.data)
    if ctx.petition_clock_paused():
        ctx.resume_petition_clock()
    if ctx.outcome is None:
        ctx.record_outcome("ordinary")
    ctx.notify(
        ctx.petition_office_id,
        Role.PETITION_CLERK,
        "ordinary",
        f"案件 {ctx.case_no} 按信访程序办理：{reason}",
    )
    # after a termination the petition office may ask for a follow-up visit all the same (七(四))
    follow_up = "termination" in ctx.data and ctx.data.get("follow_up_requested") is True
    if follow_up:
        ctx.notify(
            ctx.mediation_org_id,
            Role.MEDIATOR,
            "follow_up_requested",
            f"案件 {ctx.case_no} 信访部门要求会同回访当事人，请在调解终止之日起一个月内完成",
        )
    return {"at": ctx.now.isoformat(), "ground": reason, "follow_up_requested": follow_up}
