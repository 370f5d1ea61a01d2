"""A case summary as the templates show it: the parties, the main facts and the organisations, each field
labelled as on the forms — shared by the case page, the task page and the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestration.domain.forms import FormRegistry
from orchestration.services.cases import CaseSummary
from webapp.forms_ui import Label, describe, labels

PETITIONER_FIELDS = (
    "petitioner_name",
    "petitioner_id_number",
    "petitioner_phone",
    "petitioner_address",
    "petitioner_count",
)
RESPONDENT_FIELDS = ("respondent_name", "respondent_type", "respondent_id_number", "respondent_phone")
# Each party's consent to mediation, as the consent steps record it (with the privacy notice given).
CONSENTS = (("petitioner_consent", "信访人"), ("respondent_consent", "对方当事人"))
BASIC_FIELDS = ("petition_channel", "received_on", "matter", "facts", "dispute_category")


@dataclass(frozen=True)
class Consent:
    party: str  # 信访人 | 对方当事人
    decision: str | None  # agree | refuse
    notice_given: bool
    notice_version: str | None
    informed_at: str | None


@dataclass(frozen=True)
class SummaryView:
    source: CaseSummary
    petitioner: list[tuple[str, str, str]]
    respondent: list[tuple[str, str, str]]
    basics: list[tuple[str, str, str]]
    known: Mapping[str, Label]
    scope_ground: str | None
    consents: list[Consent]

    def __getattr__(self, name: str) -> Any:
        # case, data, disclosure, revealed, can_reveal, respondent_withheld, organisations, locality,
        # open_tasks, attachment_names
        return getattr(self.source, name)


def build(summary: CaseSummary, forms: FormRegistry) -> SummaryView:
    known = labels(forms)
    data, files = summary.data, summary.attachment_names
    ground = data.get("scope_ground")
    return SummaryView(
        source=summary,
        petitioner=describe(data, PETITIONER_FIELDS, known, files),
        respondent=describe(data, RESPONDENT_FIELDS, known, files),
        basics=describe(data, BASIC_FIELDS, known, files),
        known=known,
        scope_ground=ground if isinstance(ground, str) else None,
        consents=consents(data),
    )


def consents(data: Mapping[str, Any]) -> list[Consent]:
    """The parties' recorded consents, and whether and which privacy notice each was given."""
    found = []
    for key, party in CONSENTS:
        record = data.get(key)
        if isinstance(record, Mapping):
            version = record.get("privacy_notice_version")
            informed = record.get("informed_at")
            found.append(
                Consent(
                    party=party,
                    decision=record.get("decision") if isinstance(record.get("decision"), str) else None,
                    notice_given=record.get("privacy_notice_given") is True,
                    notice_version=version if isinstance(version, str) else None,
                    informed_at=informed if isinstance(informed, str) else None,
                )
            )
    return found


def as_json(view: SummaryView) -> dict[str, Any]:
    case = view.case
    return {
        "case_no": case.case_no,
        "title": case.title,
        "status": case.status,
        "outcome": case.outcome,
        "revision": case.revision,
        "locality": view.locality,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "organisations": dict(view.organisations),
        "petitioner": {name: value for name, _, value in view.petitioner},
        "respondent": {name: value for name, _, value in view.respondent},
        "basics": {name: value for name, _, value in view.basics},
        "open_tasks": [
            {
                "id": t.id,
                "task_name": t.task_name,
                "title": t.title,
                "role": t.role,
                "due_at": t.due_at.isoformat() if t.due_at else None,
                "claimed": t.claimed_by is not None,
            }
            for t in view.open_tasks
        ],
    }
