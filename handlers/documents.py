"""The documents the procedure issues: each kind's title, issuing body, number word and page format.

The engine numbers a document per issuing body, kind and year — ``(2026)城八人调字第3号`` is the third
agreement of the body whose prefix is 城八 — and freezes its content and issuer when it is issued.
Later acts written on a paper document (the petition office's receipt, the parties' signatures) are
recorded beside it when the task that performs them completes (`ACTS`), never by changing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handlers.api import HandlerContext

PETITION_OFFICE = "petition_office"
MEDIATION_ORG = "mediation_org"
JUSTICE_ORG = "justice_org"


@dataclass(frozen=True)
class Kind:
    title: str
    issuer: str  # which of the case's organisations issues it: PETITION_OFFICE, MEDIATION_ORG, JUSTICE_ORG
    word: str  # the 字 of its number: (2026)城八{word}字第N号
    one_page: bool  # the format fits one A4 page (a register or a record may run longer)


KINDS: dict[str, Kind] = {
    "referral_letter": Kind("访调对接移送函", PETITION_OFFICE, "访调移", True),
    "acceptance_receipt": Kind("受理回执", MEDIATION_ORG, "访调受", True),
    "return_letter": Kind("退回函", MEDIATION_ORG, "访调退", True),
    "intake_register": Kind("人民调解受理登记表", MEDIATION_ORG, "人调登", False),
    "rights_notice": Kind("人民调解当事人权利义务告知书", MEDIATION_ORG, "人调告", True),
    "session_record": Kind("人民调解笔录", MEDIATION_ORG, "人调录", False),
    "agreement": Kind("人民调解协议书", MEDIATION_ORG, "人调", False),
    "oral_agreement_record": Kind("口头调解协议记录", MEDIATION_ORG, "人调口", False),
    "termination_notice": Kind("调解终止告知书", MEDIATION_ORG, "人调终", True),
    "risk_report": Kind("矛盾纠纷风险报告", MEDIATION_ORG, "访调险", True),
    "success_feedback": Kind("调解结果反馈函（调解成功）", MEDIATION_ORG, "访调馈", True),
    "feedback_receipt": Kind("结果反馈回执", MEDIATION_ORG, "访调回", True),
    "follow_up_record": Kind("回访记录", MEDIATION_ORG, "访调访", True),
    "extension_notice": Kind("信访事项延期办理告知书", PETITION_OFFICE, "信延", True),
    "conclusion_notice": Kind("信访事项办结告知书", PETITION_OFFICE, "信结", True),
    "consultation_minutes": Kind("“访调对接”会商纪要", JUSTICE_ORG, "访调商", True),
}


@dataclass(frozen=True)
class Act:
    """A later act a task records on the latest document of one of `kinds` in force in the case."""

    kinds: tuple[str, ...]
    act: str  # received | signed
    keys: tuple[str, ...]  # the task's data kept with the act


# The user task whose completion is the act -> what it records.
ACTS: Mapping[str, Act] = {
    "receive_failure": Act(("feedback_receipt",), "received", ("received_by", "received_on", "next_steps")),
    "receive_success": Act(
        ("success_feedback",), "received", ("received_by", "received_on", "receipt_notes")
    ),
    "feedback_success": Act(
        ("agreement", "oral_agreement_record"), "signed", ("agreement_copy", "fed_back_on")
    ),
}

PARTY_FIELDS = (
    "petitioner_name",
    "petitioner_id_number",
    "petitioner_phone",
    "petitioner_address",
    "respondent_name",
    "respondent_type",
    "respondent_id_number",
    "respondent_phone",
)


def party_list(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The parties as the agreement lists them (人民调解法第二十九条): those recorded in the case (the
    form's repeated group ``parties``), else the petitioner and the respondent as registered."""
    recorded = data.get("parties")
    if isinstance(recorded, list) and recorded:
        return [dict(party) for party in recorded]
    organisation = data.get("respondent_type") not in (None, "citizen")
    return [
        {
            "role": "petitioner",
            "kind": "citizen",
            "name": data.get("petitioner_name"),
            "id_number": data.get("petitioner_id_number"),
            "phone": data.get("petitioner_phone"),
            "address": data.get("petitioner_address"),
        },
        {
            "role": "respondent",
            "kind": "organisation" if organisation else "citizen",
            "name": data.get("respondent_name"),
            "id_number": None if organisation else data.get("respondent_id_number"),
            "phone": data.get("respondent_phone"),
        },
    ]


def referral_letter_content(
    data: Mapping[str, Any],
    to: str,
    approved_by: str | None,
    approved_on: str | None,
    periods: Mapping[str, str],
) -> dict[str, Any]:
    """The 移送函 (实施意见 六(二)) from the case data: what the leader reads as a draft and what is issued
    once they approve it, with their name and the date, and the periods it states as the diagram's timers
    count them (referral.letter_periods)."""
    earlier = data.get("referral")
    handover = data.get("handover")
    handed_up = (
        isinstance(handover, Mapping) and handover.get("approved") is True and handover.get("to_name") == to
    )
    return {
        **{key: data.get(key) for key in PARTY_FIELDS},
        "facts": data.get("facts"),
        "summary": data.get("referral_summary"),
        "request": data.get("referral_request"),
        "to": to,
        # both parties' consent goes with the letter (实施意见 六(二))
        "consent_documents": [
            *(data.get("consent_documents") or []),
            *(data.get("respondent_consent_documents") or []),
        ],
        "legal_documents": data.get("legal_documents", []),
        "contact_person": data.get("contact_person"),
        "contact_phone": data.get("contact_phone"),
        "approved_comments": data.get("approval_comments", ""),
        "approved_by": approved_by,
        "approved_on": approved_on,
        "periods": dict(periods),
        # a second letter after 会商 sends the case to another organisation (六(二)), or after the justice
        # side agreed to hand a hard case up during mediation (七(三))
        "after_consultation": isinstance(earlier, Mapping)
        and bool(earlier.get("document"))
        and not handed_up,
        "after_handover": handed_up,
    }


def issue(ctx: HandlerContext, kind: str, content: dict[str, Any]) -> str:
    """Every document names its case and matter; returns the document's number."""
    return ctx.issue_document(kind, {"case_no": ctx.case_no, "matter": ctx.data.get("matter"), **content})
