"""对接移交 and 受理: referral letter, acceptance or return, transfer after 会商 (实施意见 六(二))."""

from __future__ import annotations

from typing import Any

from handlers import documents
from handlers.context import HandlerContext
from handlers.notifications import notify
from handlers.registry import HandlerError, operation
from orchestration.domain import petition_clock
from orchestration.domain.organisations import MEDIATION_KINDS, OrganisationError, by_code

MEDIATION_DAYS = 15  # 受理之日起15日内完成
MAX_MEDIATION_DAYS = 30  # 确有必要延长的，最长不得超过30日


def _mediation_org(ctx: HandlerContext, code: str) -> Any:
    try:
        return by_code(ctx.session, code, MEDIATION_KINDS)
    except OrganisationError as exc:
        raise HandlerError(str(exc)) from exc


@operation("issue_referral")
def issue_referral(ctx: HandlerContext, mediation_org: str) -> dict[str, Any]:
    org = _mediation_org(ctx, mediation_org)
    ctx.case.mediation_org_id = org.id
    letter = documents.create(
        ctx,
        "referral_letter",
        {
            **documents.parties(ctx),
            "facts": ctx.data.get("facts"),
            "summary": ctx.data.get("referral_summary"),
            "request": ctx.data.get("referral_request"),
            "to": org.name,
            "consent_documents": ctx.data.get("consent_documents", []),
            "legal_documents": ctx.data.get("legal_documents", []),
            "contact_person": ctx.data.get("contact_person"),
            "contact_phone": ctx.data.get("contact_phone"),
            "approved_comments": ctx.data.get("approval_comments", ""),
        },
    )
    notify(ctx, org.id, "mediator", "referral", f"收到访调对接移送案件 {ctx.case.case_no}：{ctx.case.title}")
    return {
        "referred_at": ctx.now.isoformat(),
        "mediation_org": org.code,
        "mediation_org_name": org.name,
        "document": letter.number,
    }


@operation("issue_return")
def issue_return(ctx: HandlerContext, reason: str) -> dict[str, Any]:
    letter = documents.create(ctx, "return_letter", {"reason": reason, "from": ctx.data.get("mediator_name")})
    notify(
        ctx,
        ctx.case.petition_office_id,
        "petition_clerk",
        "return",
        f"案件 {ctx.case.case_no} 被人民调解组织退回：{reason}",
    )
    return {"returned_at": ctx.now.isoformat(), "reason": reason, "document": letter.number}


@operation("transfer_case")
def transfer_case(ctx: HandlerContext, target_org: str) -> str:
    """Returns the new organisation's code, which becomes the case's `mediation_org` for the next referral."""
    org = _mediation_org(ctx, target_org)
    if org.id == ctx.case.mediation_org_id:
        raise HandlerError("改派的人民调解组织不能与原组织相同")
    return org.code


@operation("request_consultation")
def request_consultation(ctx: HandlerContext, reason: str) -> dict[str, Any]:
    """会商 by the petition office and the justice administration (实施意见 六(二))."""
    message = f"案件 {ctx.case.case_no} 提请会商：{reason}"
    notify(ctx, ctx.case.justice_org_id, "justice_officer", "consultation", message)
    for role in ("petition_clerk", "petition_leader"):
        notify(ctx, ctx.case.petition_office_id, role, "consultation", message)
    return {"requested_at": ctx.now.isoformat(), "reason": reason}


@operation("accept_case")
def accept_case(ctx: HandlerContext, mediation_org: str) -> dict[str, Any]:
    org = _mediation_org(ctx, mediation_org)
    ctx.case.mediation_org_id = org.id
    petition_clock.record(ctx.session, ctx.case.id, "pause", ctx.now)
    receipt = documents.create(
        ctx,
        "acceptance_receipt",
        {"by": org.name, "mediator": ctx.data.get("mediator_name"), "accepted_at": ctx.now.isoformat()},
    )
    notify(
        ctx,
        ctx.case.petition_office_id,
        "petition_clerk",
        "accepted",
        f"案件 {ctx.case.case_no} 已由{org.name}受理调解",
    )
    return {
        "accepted_at": ctx.now.isoformat(),
        "mediation_org": org.code,
        "mediation_days": MEDIATION_DAYS,
        "mediation_deadline": ctx.calendar.add_days(ctx.now, MEDIATION_DAYS).isoformat(),
        "latest_deadline": ctx.calendar.add_days(ctx.now, MAX_MEDIATION_DAYS).isoformat(),
        "extension_days": 0,
        "extensions": [],
        "document": receipt.number,
    }
