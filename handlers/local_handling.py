"""属地管理 (实施意见 三(二)) and handing a hard case up (七(三)).

A referral goes to the locality's mediation organisation unless the clerk gives a reason for another;
a mediator may ask, during mediation, to hand a hard or specialised case to the guidance centre or a
trade organisation, and the justice side decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.api import HandlerContext, HandlerError, Role, operation


@operation("check_local_handling")
def check_local_handling(ctx: HandlerContext, mediation_org: str) -> dict[str, Any]:
    # an optional field: absent from the case data when the clerk left it empty
    reason = ctx.data.get("mediation_org_reason")
    chosen = ctx.mediation_org(mediation_org)
    assignment = ctx.data.get("locality_assignment")
    local = assignment.get("mediation_org") if isinstance(assignment, Mapping) else None
    is_local = local is None or chosen.code == local
    text = reason.strip() if isinstance(reason, str) else ""
    if not is_local and not text:
        local_name = assignment.get("mediation_org_name") if isinstance(assignment, Mapping) else local
        raise HandlerError(
            f"按属地管理原则，本案应由{local_name}承办；选择{chosen.name}的，请填写选择非属地人民调解组织的理由"
        )
    return {"local": is_local, "mediation_org": chosen.code, "reason": None if is_local else text}


@operation("request_handover")
def request_handover(ctx: HandlerContext, target_org: str, reason: str) -> dict[str, Any]:
    org = ctx.mediation_org(target_org)
    if org.id == ctx.mediation_org_id:
        raise HandlerError("申请报送的人民调解组织不能与原组织相同")
    ctx.notify(
        ctx.justice_org_id,
        Role.JUSTICE_OFFICER,
        "handover_requested",
        f"案件 {ctx.case_no} 人民调解员申请报送{org.name}，请决定",
    )
    return {"requested_at": ctx.now.isoformat(), "to": org.code, "to_name": org.name, "reason": reason}


@operation("decide_handover")
def decide_handover(
    ctx: HandlerContext, request: Mapping[str, Any], decision: str, opinion: str
) -> dict[str, Any]:
    """Returns the organisation that goes on with the case: the requested one when approved."""
    approved = decision == "approve"
    verdict = "已获同意" if approved else "未获同意，继续调解"
    message = f"案件 {ctx.case_no} 报送{request.get('to_name')}的申请{verdict}"
    ctx.notify(ctx.mediation_org_id, Role.MEDIATOR, "handover_decided", message)
    ctx.notify(ctx.petition_office_id, Role.PETITION_CLERK, "handover_decided", message)
    return {
        **request,
        "approved": approved,
        "opinion": opinion,
        "decided_at": ctx.now.isoformat(),
        "decided_by": ctx.actor_name,
    }
