"""Retention of closed cases (个人信息保护法 art 47): which cases are past the period, and anonymising or
purging them, each case in its own transaction, audited, and safe to run again.

The period runs from the day a case closed; its length is the setting FANGTIAO_RETENTION_YEARS (see the
README for its source). Anonymising keeps the case, its procedure and its documents for statistics and the
record, with the parties as 当事人甲, 当事人乙 and no identifier left (`personal_data.Anonymiser`); its
attachments (identity proofs, signed copies) are deleted. Purging deletes the case and every row of it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, select, true
from sqlalchemy.orm import Session

from orchestration.domain.access import Viewer, visible_cases
from orchestration.domain.personal_data import Anonymiser
from orchestration.engine.documents import digest_of
from orchestration.errors import Forbidden
from orchestration.services.base import Service
from orchestration.store import audit
from orchestration.store.models import (
    Attachment,
    AuditEvent,
    Case,
    Document,
    DocumentAct,
    Incident,
    Notification,
)
from orchestration.vocabulary import AuditAction, CaseStatus, Role

__all__ = ["RetentionMode", "RetentionOutcome", "RetentionReport", "RetentionService", "retention_cutoff"]


class RetentionMode(StrEnum):
    ANONYMISE = "anonymise"
    PURGE = "purge"


@dataclass(frozen=True)
class RetentionReport:
    years: int
    cutoff: datetime  # cases closed at or before it are past the period
    count: int
    oldest_case_no: str | None
    oldest_closed_at: datetime | None


@dataclass(frozen=True)
class RetentionOutcome:
    case_no: str
    done: bool  # False: the case failed and is left as it was (`error` says why)
    error: str | None = None


def retention_cutoff(now: datetime, years: int) -> datetime:
    """The same moment `years` calendar years earlier (29 February: the 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def _anonymised() -> ColumnElement[bool]:
    return exists().where(AuditEvent.case_id == Case.id, AuditEvent.action == AuditAction.ANONYMISE)


def _past(cutoff: datetime) -> ColumnElement[bool]:
    return (
        Case.status.in_((CaseStatus.COMPLETED, CaseStatus.TERMINATED))
        & Case.completed_at.is_not(None)
        & (Case.completed_at <= cutoff)
        & ~_anonymised()
    )


class RetentionService(Service):
    def report(self, years: int, viewer: Viewer | None = None) -> RetentionReport:
        """Cases past the period and not yet anonymised (those of the administrator's region, if given)."""
        cutoff = retention_cutoff(self.now(), years)
        with self.reading() as session:
            scope = self._scope(session, viewer)
            count = session.scalar(select(func.count()).select_from(Case).where(_past(cutoff), scope)) or 0
            oldest = session.execute(
                select(Case.case_no, Case.completed_at)
                .where(_past(cutoff), scope)
                .order_by(Case.completed_at, Case.id)
                .limit(1)
            ).first()
        return RetentionReport(
            years, cutoff, count, oldest[0] if oldest else None, oldest[1] if oldest else None
        )

    def apply(self, viewer: Viewer, years: int, mode: RetentionMode) -> list[RetentionOutcome]:
        """Anonymises or purges every case of the administrator's region past the period, one transaction
        per case: a case that fails is left as it was and the others go on."""
        if viewer.role != Role.ADMIN:
            raise Forbidden(f"用户 {viewer.username} 不是系统管理员")
        cutoff = retention_cutoff(self.now(), years)
        with self.reading() as session:
            cases = list(
                session.execute(
                    select(Case.id, Case.case_no)
                    .where(_past(cutoff), self._scope(session, viewer))
                    .order_by(Case.completed_at, Case.id)
                )
            )
        outcomes = []
        for case_id, case_no in cases:
            try:
                self._apply_one(viewer, case_id, cutoff, years, mode)
            except Exception as exc:  # one case's failure must not stop the others
                outcomes.append(RetentionOutcome(case_no, False, f"{type(exc).__name__}: {exc}"))
            else:
                outcomes.append(RetentionOutcome(case_no, True))
        return outcomes

    def _scope(self, session: Session, viewer: Viewer | None) -> ColumnElement[bool]:
        return visible_cases(session, viewer) if viewer is not None else true()

    def _apply_one(
        self, viewer: Viewer, case_id: int, cutoff: datetime, years: int, mode: RetentionMode
    ) -> None:
        with self.runtime.transaction() as session:
            # Locked and checked again: another run may have handled it since the list was read.
            case = session.scalar(select(Case).where(Case.id == case_id, _past(cutoff)).with_for_update())
            if case is None:
                return
            detail: dict[str, Any] = {
                "case_no": case.case_no,
                "closed_at": case.completed_at.isoformat() if case.completed_at else None,
                "retention_years": years,
            }
            now = self.now()
            if mode == RetentionMode.PURGE:
                # every row of the case goes with it (ON DELETE CASCADE); the event keeps its number
                session.execute(delete(Case).where(Case.id == case.id))
                audit.record(session, now, viewer.username, AuditAction.PURGE, None, **detail)
                return
            deleted = self._anonymise(session, case, now)
            audit.record(
                session, now, viewer.username, AuditAction.ANONYMISE, case.id, **detail, attachments=deleted
            )

    def _anonymise(self, session: Session, case: Case, now: datetime) -> int:
        """Rewrites every row of the case without its personal data; returns the attachments deleted."""
        documents = list(session.scalars(select(Document).where(Document.case_id == case.id)))
        acts = list(
            session.scalars(
                select(DocumentAct)
                .join(Document, Document.id == DocumentAct.document_id)
                .where(Document.case_id == case.id)
            )
        )
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)))
        notices = list(session.scalars(select(Notification).where(Notification.case_id == case.id)))
        incidents = list(session.scalars(select(Incident).where(Incident.case_id == case.id)))
        sources = [
            json.loads(case.state),
            *(d.content for d in documents),
            *(d.snapshot for d in documents),
            *(a.content for a in acts),
            *(e.detail for e in events),
        ]
        anonymiser = Anonymiser(sources)

        case.state = self.runtime.codec.rewrite(case.state, anonymiser.value)
        self.runtime.decode(session, case)  # the state must still restore; if not, nothing is written
        case.title = anonymiser.text(case.title)
        # the digest of the names finds earlier mediations of the same parties; it must find none now
        case.parties_key = hashlib.sha256(f"anonymised:{case.case_no}".encode()).hexdigest()
        case.petitioner_id_key = case.respondent_id_key = None
        case.last_error = anonymiser.text(case.last_error) if case.last_error else None
        case.revision += 1
        case.updated_at = now
        for document in documents:
            document.content = anonymiser.value(document.content)
            document.snapshot = anonymiser.value(document.snapshot)
        # what a document prints changed on purpose: its digest is the anonymised version's, and the
        # anonymisation itself is in the audit log
        numbers = {d.id: d.number for d in documents}
        for document in documents:
            document.digest = digest_of(document, numbers.get(document.supersedes_id or 0))
        for act in acts:
            act.content = anonymiser.value(act.content)
        for event in events:
            event.detail = anonymiser.value(event.detail)
        for notice in notices:
            notice.message = anonymiser.text(notice.message)
        for incident in incidents:
            incident.message = anonymiser.text(incident.message)
        attachments = session.scalar(select(func.count()).where(Attachment.case_id == case.id)) or 0
        session.execute(delete(Attachment).where(Attachment.case_id == case.id))
        return attachments
