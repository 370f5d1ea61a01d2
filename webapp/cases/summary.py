"""What a case looks like to a reader: parties (masked unless revealed), the main facts, the
organisations, the open tasks, and the names of the procedure's steps — shared by the case page, the
task page and the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from orchestration.domain.access import Viewer, handles_case, mask_pii
from orchestration.engine.runtime import Runtime
from orchestration.read import queries
from orchestration.store.models import (
    Attachment,
    Case,
    Document,
    OpenTask,
    Organisation,
    ProcessVersion,
    Region,
)
from webapp.forms_ui import Label, describe, labels

PETITIONER_FIELDS = (
    "petitioner_name",
    "petitioner_id_number",
    "petitioner_phone",
    "petitioner_address",
    "petitioner_count",
)
RESPONDENT_FIELDS = ("respondent_name", "respondent_type", "respondent_id_number", "respondent_phone")
BASIC_FIELDS = ("petition_channel", "received_on", "matter", "facts", "dispute_category")


@dataclass(frozen=True)
class CaseSummary:
    case: Case
    data: Mapping[str, Any]  # masked unless revealed
    petitioner: list[tuple[str, str, str]]
    respondent: list[tuple[str, str, str]]
    basics: list[tuple[str, str, str]]
    organisations: list[tuple[str, str]]
    locality: str
    open_tasks: list[OpenTask]
    revealed: bool
    can_reveal: bool
    attachment_names: Mapping[str, str]
    known: Mapping[str, Label]
    scope_ground: str | None


def step_titles(runtime: Runtime, session: Session, version_id: int) -> dict[str, str]:
    """BPMN id -> the step's Chinese name in that version of the procedure."""
    version = session.get(ProcessVersion, version_id)
    if version is None:
        return {}
    parsed = runtime.specs.get(version)
    titles: dict[str, str] = {}
    for spec in [parsed.spec, *parsed.subprocess_specs.values()]:
        for name, task_spec in spec.task_specs.items():
            bpmn_name = getattr(task_spec, "bpmn_name", None)
            if bpmn_name:
                titles[getattr(task_spec, "bpmn_id", None) or name] = bpmn_name
    return titles


def attachment_names(session: Session, case_id: int) -> dict[str, str]:
    rows = session.execute(select(Attachment.id, Attachment.filename).where(Attachment.case_id == case_id))
    return {str(row_id): filename for row_id, filename in rows}


def documents_of(session: Session, case_id: int) -> list[Document]:
    return list(
        session.scalars(
            select(Document).where(Document.case_id == case_id).order_by(Document.created_at, Document.id)
        )
    )


def attachments_of(session: Session, case_id: int) -> list[Attachment]:
    # Without the content column: a list of files must not load every file into memory.
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.case_id == case_id)
            .options(defer(Attachment.content))
            .order_by(Attachment.uploaded_at, Attachment.id)
        )
    )


def build(
    session: Session,
    runtime: Runtime,
    case: Case,
    viewer: Viewer,
    reveal: bool = False,
    raw: Mapping[str, Any] | None = None,
) -> CaseSummary:
    """The summary; `reveal` is honoured only for a viewer whose organisation handles the case (the
    caller writes the audit event). `raw` is the case data if the caller has already loaded it."""
    can_reveal = handles_case(viewer, case)
    revealed = reveal and can_reveal
    raw = raw if raw is not None else runtime.case_data(session, case)
    data = raw if revealed else mask_pii(raw)
    known = labels(runtime.forms)
    files = attachment_names(session, case.id)
    orgs = []
    for label, org_id in (
        ("信访部门", case.petition_office_id),
        ("人民调解组织", case.mediation_org_id),
        ("司法行政部门", case.justice_org_id),
    ):
        org = session.get(Organisation, org_id) if org_id else None
        orgs.append((label, org.name if org else "—"))
    region = session.get(Region, case.locality_code)
    return CaseSummary(
        case=case,
        data=data,
        petitioner=describe(data, PETITIONER_FIELDS, known, files),
        respondent=describe(data, RESPONDENT_FIELDS, known, files),
        basics=describe(data, BASIC_FIELDS, known, files),
        organisations=orgs,
        locality=region.name if region else case.locality_code,
        open_tasks=queries.open_tasks_of(session, case.id),
        revealed=revealed,
        can_reveal=can_reveal,
        attachment_names=files,
        known=known,
        scope_ground=data.get("scope_ground") if isinstance(data.get("scope_ground"), str) else None,
    )


def as_json(summary: CaseSummary) -> dict[str, Any]:
    case = summary.case
    return {
        "case_no": case.case_no,
        "title": case.title,
        "status": case.status,
        "outcome": case.outcome,
        "revision": case.revision,
        "locality": summary.locality,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "organisations": dict(summary.organisations),
        "petitioner": {name: value for name, _, value in summary.petitioner},
        "respondent": {name: value for name, _, value in summary.respondent},
        "basics": {name: value for name, _, value in summary.basics},
        "open_tasks": [
            {
                "id": t.id,
                "task_name": t.task_name,
                "title": t.title,
                "role": t.role,
                "due_at": t.due_at.isoformat() if t.due_at else None,
                "claimed": t.claimed_by is not None,
            }
            for t in summary.open_tasks
        ],
    }
