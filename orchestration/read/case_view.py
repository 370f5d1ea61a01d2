"""What a case looks like to one reader: its data masked unless revealed, its organisations and locality,
open tasks, attachments and documents, history and the procedure version's diagram — read in one session
from the rows and the case data the caller decoded once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, defer

from orchestration.domain.access import (
    Disclosure,
    Viewer,
    disclosure,
    handles_case,
    mask_pii,
    respondent_pii_withheld,
    visible_cases,
)
from orchestration.domain.parties import same_parties
from orchestration.read import queries
from orchestration.store.models import (
    Attachment,
    AuditEvent,
    Case,
    Document,
    OpenTask,
    Organisation,
    ProcessVersion,
    Region,
)
from orchestration.vocabulary import CaseStatus


@dataclass(frozen=True)
class CaseSummary:
    case: Case
    data: Mapping[str, Any]  # masked as `disclosure` says
    disclosure: Disclosure
    can_reveal: bool  # the viewer's organisation handles the case
    respondent_withheld: bool  # the respondent's ID number and phone stay masked for this viewer
    organisations: list[tuple[str, str]]  # (side, organisation name)
    locality: str
    open_tasks: list[OpenTask]
    attachment_names: Mapping[str, str]  # attachment id -> file name

    @property
    def revealed(self) -> bool:
        return self.disclosure != Disclosure.MASKED


def summarise(
    session: Session, case: Case, viewer: Viewer, data: Mapping[str, Any], reveal: bool = False
) -> CaseSummary:
    """`reveal` is honoured only for a viewer whose organisation handles the case (the caller audits it),
    and never for the respondent's particulars the viewer may not have yet."""
    shown = disclosure(viewer, case, data, reveal)
    ids = [i for i in (case.petition_office_id, case.mediation_org_id, case.justice_org_id) if i]
    rows = session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))
    names = {org_id: name for org_id, name in rows}
    organisations = [
        (side, names.get(org_id, "—") if org_id else "—")
        for side, org_id in (
            ("信访部门", case.petition_office_id),
            ("人民调解组织", case.mediation_org_id),
            ("司法行政部门", case.justice_org_id),
        )
    ]
    region = session.get(Region, case.locality_code)
    return CaseSummary(
        case=case,
        data=mask_pii(data, shown),
        disclosure=shown,
        can_reveal=handles_case(viewer, case),
        respondent_withheld=respondent_pii_withheld(viewer, data),
        organisations=organisations,
        locality=region.name if region else case.locality_code,
        open_tasks=queries.open_tasks_of(session, case.id),
        attachment_names=attachment_names(session, case.id),
    )


@dataclass(frozen=True)
class RelatedCase:
    case_no: str
    registered_at: datetime
    matter: str | None  # None for a case the viewer may not see: its number says it exists, nothing more


def running_same_parties(session: Session, case: Case, viewer: Viewer) -> list[RelatedCase]:
    """The other cases of the same parties still being handled, oldest first, matched as the
    earlier-mediation check matches them (names, or both ID numbers): what screening must weigh before
    that check runs on submission."""
    running = and_(same_parties(case), Case.status == CaseStatus.RUNNING)
    seen = set(session.scalars(select(Case.id).where(running, visible_cases(session, viewer))))
    rows = session.execute(
        select(Case.id, Case.case_no, Case.created_at, Case.title).where(running).order_by(Case.id)
    )
    return [RelatedCase(no, at, title if case_id in seen else None) for case_id, no, at, title in rows]


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


@dataclass(frozen=True)
class History:
    events: list[AuditEvent]  # oldest first
    names: Mapping[str, str]  # username -> display name


def history(session: Session, case_id: int) -> History:
    events = queries.audit_trail(session, case_id)
    return History(events, queries.user_names(session, usernames={e.actor for e in events}))


def process_diagram(session: Session, case: Case) -> tuple[str, str]:
    """(BPMN XML holding the case's process, process id) of the version the case runs on."""
    version = session.get(ProcessVersion, case.version_id)
    assert version is not None
    marker = f'id="{version.process_id}"'
    for name, text in sorted(version.files.items()):
        if name.endswith(".bpmn") and marker in text:
            return text, version.process_id
    raise LookupError(f"版本 {version.id} 中没有流程 {version.process_id}")
