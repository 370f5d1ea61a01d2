"""属地管理: the case's locality picks its petition office, mediation organisation and justice office."""

from __future__ import annotations

from typing import Any

from handlers.context import HandlerContext
from handlers.registry import HandlerError, operation
from orchestration.domain.organisations import OrganisationError, for_locality


@operation("assign_locality")
def assign_locality(ctx: HandlerContext, locality: str) -> dict[str, Any]:
    try:
        local = for_locality(ctx.session, locality)
    except OrganisationError as exc:
        raise HandlerError(str(exc)) from exc
    ctx.case.petition_office_id = local.petition_office.id
    ctx.case.mediation_org_id = local.mediation_org.id
    ctx.case.justice_org_id = local.justice_org.id
    return {
        "petition_office": local.petition_office.code,
        "petition_office_name": local.petition_office.name,
        "mediation_org": local.mediation_org.code,
        "mediation_org_name": local.mediation_org.name,
        "justice_org": local.justice_org.code,
        "justice_org_name": local.justice_org.name,
    }
