"""对接移交 and 受理: referral letter, acceptance or return, transfer after 会商 (实施意见 六(二))."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from handlers import documents
from handlers.api import SHANGHAI, HandlerContext, HandlerError, Period, Role, operation

MAX_MEDIATION_DAYS = (
    30  # 确有必要延长的，最长不得超过30日 (实施意见六(三)): the law's, whatever the diagram says
)
# The diagram's timer that ends mediation. Its expression is the one statement of the period (受理之日起15日
# as shipped) that a policy officer edits: the handlers name the days and the deadline it gives.
MEDIATION_TIMER = "mediation_deadline_reached"
# The diagram's other timers whose periods the referral letter states: the receiving organisation's 3日 to
# return a case, and the 5 and 3 working days to report the outcome (实施意见 六(二)、(四)).
REVIEW_TIMER = "review_timeout"
SUCCESS_FEEDBACK_TIMER = "success_feedback_late"
FAILURE_FEEDBACK_TIMER = "failure_feedback_late"


def mediation_period(timer_due: Callable[..., datetime], acceptance: Mapping[str, Any]) -> tuple[int, str]:
    """The days mediation lasts and its deadline, as the diagram's timer counts them for `acceptance`
    (its `accepted_at` and `extension_days`): the days the expression names, and the moment the timer
    fires (a last day on a rest day moved to the next working day). `timer_due` is the context's."""
    data = {"acceptance": acceptance}
    named = timer_due(MEDIATION_TIMER, data, rest_days=False).astimezone(SHANGHAI).date()
    accepted = datetime.fromisoformat(acceptance["accepted_at"]).astimezone(SHANGHAI).date()
    return (named - accepted).days, timer_due(MEDIATION_TIMER, data).isoformat()


def letter_periods(timer_period: Callable[[str, Mapping[str, Any]], Period], at: str) -> dict[str, str]:
    """The periods the referral letter states, as the diagram's timers count them (`timer_period` is the
    context's) for a case referred, accepted and ended at `at`: stand-in data, since nothing they count
    from has happened when the letter is issued."""
    return {
        "review": str(timer_period(REVIEW_TIMER, {"referral": {"referred_at": at}})),
        "mediation": str(
            timer_period(MEDIATION_TIMER, {"acceptance": {"accepted_at": at, "extension_days": 0}})
        ),
        "success_feedback": str(
            timer_period(SUCCESS_FEEDBACK_TIMER, {"agreement": {"mediation_ended_at": at}})
        ),
        "failure_feedback": str(timer_period(FAILURE_FEEDBACK_TIMER, {"termination": {"terminated_at": at}})),
    }


@operation("issue_referral")
def issue_referral(ctx: HandlerContext, mediation_org: str) -> dict[str, Any]:
    org = ctx.mediation_org(mediation_org)
    ctx.assign_organisations(mediation_org=org.id)
    earlier = ctx.data.get("referral") or {}
    # After 会商 the letter to the new organisation rests on the leader's first approval.
    approved_by = earlier.get("approved_by") or ctx.actor_name
    approved_on = earlier.get("approved_on") or ctx.now.astimezone(SHANGHAI).date().isoformat()
    periods = letter_periods(ctx.timer_period, ctx.now.isoformat())
    number = documents.issue(
        ctx,
        "referral_letter",
        documents.referral_letter_content(ctx.data, org.name, approved_by, approved_on, periods),
    )
    # the case number only: the matter is free text and may name more than the parties
    ctx.notify(
        org.id,
        Role.MEDIATOR,
        "referral",
        f"收到访调对接移送案件 {ctx.case_no}，请在{periods['review']}内决定受理或者退回",
    )
    return {
        "referred_at": ctx.now.isoformat(),
        "mediation_org": org.code,
        "mediation_org_name": org.name,
        "approved_by": approved_by,
        "approved_on": approved_on,
        "document": number,
    }


@operation("issue_return")
def issue_return(ctx: HandlerContext, reason: str) -> dict[str, Any]:
    number = documents.issue(ctx, "return_letter", {"reason": reason, "from": ctx.data.get("mediator_name")})
    ctx.notify(
        ctx.petition_office_id,
        Role.PETITION_CLERK,
        "return",
        f"案件 {ctx.case_no} 被人民调解组织退回：{reason}",
    )
    return {"returned_at": ctx.now.isoformat(), "reason": reason, "document": number}


@operation("transfer_case")
def transfer_case(ctx: HandlerContext, target_org: str) -> str:
    """Returns the new organisation's code, which becomes the case's `mediation_org` for the next referral."""
    org = ctx.mediation_org(target_org)
    if org.id == ctx.mediation_org_id:
        raise HandlerError("改派的人民调解组织不能与原组织相同")
    return org.code


@operation("request_consultation")
def request_consultation(ctx: HandlerContext, reason: str) -> dict[str, Any]:
    """会商 by the petition office and the justice administration (实施意见 六(二))."""
    message = f"案件 {ctx.case_no} 提请会商：{reason}"
    ctx.notify(ctx.justice_org_id, Role.JUSTICE_OFFICER, "consultation", message)
    for role in (Role.PETITION_CLERK, Role.PETITION_LEADER):
        ctx.notify(ctx.petition_office_id, role, "consultation", message)
    return {"requested_at": ctx.now.isoformat(), "reason": reason}


@operation("accept_case")
def accept_case(ctx: HandlerContext, mediation_org: str) -> dict[str, Any]:
    org = ctx.mediation_org(mediation_org)
    ctx.assign_organisations(mediation_org=org.id)
    # a case handed up during mediation is accepted a second time while its clock is still paused
    if not ctx.petition_clock_paused():
        ctx.pause_petition_clock()
    days, deadline = mediation_period(
        ctx.timer_due, {"accepted_at": ctx.now.isoformat(), "extension_days": 0}
    )
    number = documents.issue(
        ctx,
        "acceptance_receipt",
        {
            "mediator": ctx.data.get("mediator_name"),
            "accepted_at": ctx.now.isoformat(),
            "accepted_on": ctx.now.astimezone(SHANGHAI).date().isoformat(),
            # the period as the diagram's timer counts it, told to the petition office (实施意见 六(三))
            "mediation_days": days,
            "mediation_deadline": deadline,
        },
    )
    # 人民调解法第二十三条: each party is told their rights and duties once mediation is accepted
    rights_notice = documents.issue(
        ctx,
        "rights_notice",
        {
            "parties": [party.get("name") for party in documents.party_list(ctx.data)],
            "given_on": ctx.now.astimezone(SHANGHAI).date().isoformat(),
            "method": "受理时当面告知并送达，当事人签收",
        },
    )
    ctx.notify(
        ctx.petition_office_id,
        Role.PETITION_CLERK,
        "accepted",
        f"案件 {ctx.case_no} 已由{org.name}受理调解",
    )
    return {
        "accepted_at": ctx.now.isoformat(),
        "mediation_org": org.code,
        "mediation_days": days,
        "mediation_deadline": deadline,
        "latest_deadline": ctx.calendar.add_days(ctx.now, MAX_MEDIATION_DAYS).isoformat(),
        "extension_days": 0,
        "extensions": [],
        "document": number,
        "rights_notice": rights_notice,
    }
