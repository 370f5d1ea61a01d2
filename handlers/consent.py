"""Both parties' consent to mediation (人民调解法第三条、第十七条; the 2025 guidance of 司法部 and
国家信访局: referral only with both parties' consent), each with the privacy notice they were given
(个人信息保护法第十七条、第三十五条).

The petition office records both before it drafts the referral letter, so that the letter goes out with both
consents (实施意见 六(二)). The respondent's ID number and phone reach the mediation side only once the
respondent has been told how their data is processed, that is once `respondent_consent.informed_at` exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.api import HandlerContext, HandlerError, operation

# party -> (the form's decision field, its refusal reason field, its consent documents field)
FIELDS: Mapping[str, tuple[str, str, str]] = {
    "petitioner": ("consent", "refusal_reason", "consent_documents"),
    "respondent": ("respondent_decision", "respondent_refusal_reason", "respondent_consent_documents"),
}


@operation("record_consent")
def record_consent(ctx: HandlerContext, party: str) -> dict[str, Any]:
    """The consent record the case page lists: the decision, who recorded it and when, and whether and which
    privacy notice the party was given (the version the runtime stamped on the step's data)."""
    if party not in FIELDS:
        raise HandlerError(f"未知的当事人：{party}")
    decision_field, reason_field, documents_field = FIELDS[party]
    given = ctx.data.get("privacy_notice_given") is True
    record: dict[str, Any] = {
        "decision": ctx.data.get(decision_field),
        "by": ctx.actor,
        "at": ctx.now.isoformat(),
        "privacy_notice_given": given,
        "privacy_notice_version": ctx.data.get("privacy_notice_version") if given else None,
        # the moment the party was told how their data is processed (个人信息保护法第十七条)
        "informed_at": ctx.now.isoformat() if given else None,
        "documents": list(ctx.data.get(documents_field) or []),
    }
    reason = str(ctx.data.get(reason_field) or "").strip()
    if reason:
        record["refusal_reason"] = reason
    return record
