"""会商 by the petition office and the justice administration (实施意见 六(二)).

Both sides record an opinion (`consultation_petition_opinion`, then `joint_consultation`). When they
propose the same outcome, that is the 会商's conclusion and a 会商纪要 is issued at once. When they do
not, neither side overrules the other: the question goes to the petition office and the justice
administration of the level above (township → county → city), whose decision the minutes record. The
case's justice organisation is the upper one while it decides (its officers get the task) and the local
one again afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers import dates, documents
from handlers.api import HandlerContext, HandlerError, Role, operation

OUTCOMES = {
    "mediation_accepts": "由原人民调解组织受理调解",
    "transfer": "改由其他或上级人民调解组织调解",
    "ordinary": "由信访部门按信访程序办理",
}


# each side's representative and the field holding its proposed outcome
SIDES = (("petition_representative", "petition_proposal"), ("justice_representative", "consultation_outcome"))


def _proposal(
    ctx: HandlerContext, outcome: Any, transfer_org: Any, deciding: bool = True
) -> tuple[str, str | None]:
    """A side's proposed outcome; the one of whoever submits the step must name another organisation
    for a transfer (the other side's earlier proposal is only compared with it)."""
    if outcome not in OUTCOMES:
        raise HandlerError(f"未知的会商意见：{outcome}")
    if outcome != "transfer":
        return str(outcome), None
    if deciding and ctx.mediation_org(str(transfer_org)).id == ctx.mediation_org_id:
        raise HandlerError("改派的人民调解组织不能与原组织相同")
    return str(outcome), str(transfer_org)


def _opinion(outcome: str, transfer_name: str | None, reasons: Any) -> str:
    label = OUTCOMES[outcome] + (f"（{transfer_name}）" if transfer_name else "")
    return f"{label}。{reasons}" if reasons else label


def _transfer_name(ctx: HandlerContext, code: str | None) -> str | None:
    return ctx.mediation_org(code).name if code else None


def _minutes(
    ctx: HandlerContext,
    *,
    held_on: Any,
    participants: Any,
    outcome: str,
    transfer_org: str | None,
    agreed_by: list[str],
    escalated_to: str | None,
) -> str:
    data = ctx.data
    petition = _proposal(ctx, data.get("petition_proposal"), data.get("petition_transfer_org"), False)
    justice = _proposal(ctx, data.get("consultation_outcome"), data.get("transfer_org"), False)
    return documents.issue(
        ctx,
        "consultation_minutes",
        {
            "held_on": held_on,
            "participants": participants,
            "reason": (data.get("consultation_request") or {}).get("reason"),
            "petition_opinion": _opinion(
                petition[0], _transfer_name(ctx, petition[1]), data.get("petition_opinion")
            ),
            "justice_opinion": _opinion(
                justice[0], _transfer_name(ctx, justice[1]), data.get("justice_opinion")
            ),
            "outcome": outcome,
            "transfer_org": transfer_org,
            "transfer_org_name": _transfer_name(ctx, transfer_org),
            "agreed_by": agreed_by,
            "escalated_to": escalated_to,
        },
    )


def _tell_both_sides(ctx: HandlerContext, message: str) -> None:
    ctx.notify(ctx.justice_org_id, Role.JUSTICE_OFFICER, "consultation", message)
    ctx.notify(ctx.petition_office_id, Role.PETITION_CLERK, "consultation", message)


@operation("conclude_consultation")
def conclude_consultation(ctx: HandlerContext) -> dict[str, Any]:
    """Compares the two sides' opinions: the same proposal is the conclusion; different ones go up."""
    data = ctx.data
    request = data.get("consultation_request") or {}
    dates.typed(ctx, data.get("consultation_date"), "会商日期", (request.get("requested_at"), "提请会商之日"))
    justice = _proposal(ctx, data.get("consultation_outcome"), data.get("transfer_org"))
    petition = _proposal(ctx, data.get("petition_proposal"), data.get("petition_transfer_org"), False)
    representatives = [str(data.get("petition_representative")), str(data.get("justice_representative"))]
    if petition == justice:
        outcome, transfer_org = justice
        number = _minutes(
            ctx,
            held_on=data.get("consultation_date"),
            participants=data.get("participants"),
            outcome=outcome,
            transfer_org=transfer_org,
            agreed_by=representatives,
            escalated_to=None,
        )
        _tell_both_sides(ctx, f"案件 {ctx.case_no} 会商意见一致：{OUTCOMES[outcome]}")
        return {
            "agreed": True,
            "escalated": False,
            "outcome": outcome,
            "transfer_org": transfer_org,
            "agreed_by": representatives,
            "document": number,
        }
    upper = ctx.organisations_above(ctx.justice_org_id)
    local_justice = ctx.justice_org_id
    ctx.assign_organisations(justice_org=upper.justice_org.id)
    message = f"案件 {ctx.case_no} 信访部门与司法行政部门会商意见不一致，提请上一级会商决定"
    ctx.notify(upper.justice_org.id, Role.JUSTICE_OFFICER, "consultation_escalated", message)
    ctx.notify(upper.petition_office.id, Role.PETITION_CLERK, "consultation_escalated", message)
    ctx.notify(local_justice, Role.JUSTICE_OFFICER, "consultation_escalated", message)
    ctx.notify(ctx.petition_office_id, Role.PETITION_CLERK, "consultation_escalated", message)
    return {
        "agreed": False,
        "escalated": True,
        "escalated_at": ctx.now.isoformat(),
        "escalated_to": f"{upper.petition_office.name}、{upper.justice_org.name}",
        "upper_justice_org": upper.justice_org.code,
        "local_justice_org_id": local_justice,
        "petition_proposal": petition[0],
        "justice_proposal": justice[0],
    }


@operation("record_escalated_consultation")
def record_escalated_consultation(ctx: HandlerContext, consultation: Mapping[str, Any]) -> dict[str, Any]:
    """The level above decided: the minutes record both local opinions, who agreed and the decision."""
    data = ctx.data
    outcome, transfer_org = _proposal(ctx, data.get("escalated_outcome"), data.get("escalated_transfer_org"))
    agreed_by = [str(data.get(rep)) for rep, side in SIDES if data.get(side) == outcome]
    agreed_by.append(f"上一级会商：{data.get('escalated_participants')}")
    escalated_to = str(consultation.get("escalated_to"))
    number = _minutes(
        ctx,
        held_on=data.get("escalated_date"),
        participants=f"{data.get('participants')}；上一级：{data.get('escalated_participants')}",
        outcome=outcome,
        transfer_org=transfer_org,
        agreed_by=agreed_by,
        escalated_to=escalated_to,
    )
    local_justice = consultation.get("local_justice_org_id")
    if isinstance(local_justice, int):
        ctx.assign_organisations(justice_org=local_justice)
    _tell_both_sides(ctx, f"案件 {ctx.case_no} 经上一级会商决定：{OUTCOMES[outcome]}")
    return {
        **consultation,
        "outcome": outcome,
        "transfer_org": transfer_org,
        "agreed_by": agreed_by,
        "decided_at": ctx.now.isoformat(),
        "document": number,
    }
