"""Documents the procedure creates, numbered per kind and year and kept with the case."""

from __future__ import annotations

from typing import Any

from handlers.api import HandlerContext

# kind -> (title, number pattern); the engine numbers them, counting per kind and year
KINDS: dict[str, tuple[str, str]] = {
    "referral_letter": ("访调对接移送函", "({year})访调移字第{n}号"),
    "acceptance_receipt": ("受理回执", "({year})访调受字第{n}号"),
    "return_letter": ("退回函", "({year})访调退字第{n}号"),
    "agreement": ("人民调解协议书", "({year})人调字第{n}号"),
    "oral_agreement_record": ("口头调解协议记录", "({year})人调口字第{n}号"),
    "termination_notice": ("调解终止告知书", "({year})人调终字第{n}号"),
    "feedback_receipt": ("结果反馈回执", "({year})访调回字第{n}号"),
    "follow_up_record": ("回访记录", "({year})访调访字第{n}号"),
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


def parties(ctx: HandlerContext) -> dict[str, Any]:
    return {key: ctx.data.get(key) for key in PARTY_FIELDS}


def issue(ctx: HandlerContext, kind: str, content: dict[str, Any]) -> str:
    """Every document names its case and matter; returns the document's number."""
    return ctx.issue_document(kind, {"case_no": ctx.case_no, "matter": ctx.data.get("matter"), **content})
