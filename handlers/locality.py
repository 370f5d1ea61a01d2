"""属地管理: the case's locality picks its petition office, mediation organisation and justice office."""

from __future__ import annotations

from typing import Any

from handlers import dates
from handlers.api import HandlerContext, operation
from handlers.eligibility import same_matter


@operation("assign_locality")
def assign_locality(ctx: HandlerContext, locality: str) -> dict[str, Any]:
    # the 15 days to decide on acceptance count from the day the petition was received: never a day
    # in the future (nor 9999-12-31) reaches that deadline
    if ctx.data.get("received_on") is not None:
        dates.typed(ctx, ctx.data["received_on"], "信访日期")
    local = ctx.organisations_for(locality)
    ctx.assign_organisations(
        petition_office=local.petition_office.id,
        mediation_org=local.mediation_org.id,
        justice_org=local.justice_org.id,
    )
    headcount = ctx.data.get("petitioner_count")
    matter = str(ctx.data.get("matter") or "")
    # 重复访: the same person (by ID number) on the same matter again
    repeat = [case.case_no for case in ctx.petitioner_cases() if same_matter(case.title, matter)]
    return {
        # 集体访: registered as such, so that the case page and the office see it at once
        "collective": isinstance(headcount, int) and headcount >= ctx.collective_headcount,
        "repeat_of": repeat,
        # 越级访: registered by a petition office other than the locality's own, which registration
        # allows only to the offices above it (the county's, the city's)
        "skipped_level": ctx.actor_org_id is not None and ctx.actor_org_id != local.petition_office.id,
        "petition_office": local.petition_office.code,
        "petition_office_name": local.petition_office.name,
        "mediation_org": local.mediation_org.code,
        "mediation_org_name": local.mediation_org.name,
        "justice_org": local.justice_org.code,
        "justice_org_name": local.justice_org.name,
    }
