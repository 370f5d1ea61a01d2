"""Documents: reading one as issued (masked unless shown in full), the draft referral letter the leader
approves, correcting a document by a new one that supersedes it, and the case file (卷宗) for the archive."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestration.domain.access import Disclosure, Viewer, can_view_case, disclosure, handles_case, mask_pii
from orchestration.domain.forms import FormRegistry
from orchestration.engine import documents as issuing
from orchestration.engine.runtime import case_data, procedure_of
from orchestration.engine.script_engine import Timers, date_timers
from orchestration.errors import Forbidden, InvalidData, NotFound
from orchestration.read import case_view
from orchestration.services.base import Service
from orchestration.services.cases import audit_pii_view
from orchestration.store import audit
from orchestration.store.models import Attachment, Case, Document, DocumentAct, OpenTask, Organisation, User
from orchestration.vocabulary import AuditAction

__all__ = ["ActView", "Document", "DocumentService", "DocumentView", "Dossier", "DossierFile"]

REFERRAL_APPROVAL_TASK = "approve_referral"


@dataclass(frozen=True)
class ActView:
    act: str  # received | signed
    content: Mapping[str, Any]
    at: datetime
    actor_name: str


@dataclass(frozen=True)
class DocumentView:
    document: Document  # detached; its content masked unless shown in full
    acts: list[ActView]
    supersedes: str | None  # the number of the document this one corrects
    superseded_by: str | None  # the number of the document that corrects this one
    intact: bool  # the stored document still matches the digest taken when it was issued
    forms: FormRegistry  # labels the codes a document holds
    draft: bool = False  # a preview of a document not yet issued


@dataclass(frozen=True)
class DossierFile:
    id: int
    filename: str
    content_type: str
    uploaded_at: datetime
    content: bytes


@dataclass(frozen=True)
class Dossier:
    """Everything the 卷宗 holds, in order: the documents as issued (unmasked: it is the archive's
    copy) and the attachments, with what the cover prints."""

    case: Case
    locality: str
    organisations: Mapping[str, str | None]  # side -> name
    data: Mapping[str, Any]
    documents: list[DocumentView]
    files: list[DossierFile]
    compiled_by: str
    compiled_at: datetime


class DocumentService(Service):
    # ---- reading ----------------------------------------------------------------------------

    def document(self, viewer: Viewer, document_id: int, full: bool = False) -> DocumentView:
        """A document, masked unless a handler of the case asks for the full text (which is audited)."""
        # Only a full view writes (its audit event); a masked view reads without taking the write lock.
        opened = self.runtime.transaction() if full else self.reading()
        with opened as session:
            row = session.get(Document, document_id)
            case = session.get(Case, row.case_id) if row is not None else None
            if row is None or case is None:
                raise NotFound("文书不存在")
            if not can_view_case(session, viewer, case):
                raise Forbidden("您无权查看该文书")
            shown = Disclosure.MASKED
            if full:
                if not handles_case(viewer, case):
                    raise Forbidden("只有承办机构可以查看完整文书")
                audit_pii_view(session, viewer, case, self.now(), f"document:{row.id}")
                # whether the respondent was told is in the case data, decoded only for a full view
                shown = disclosure(viewer, case, self.runtime.case_data(session, case), full)
            return self._view(session, row, shown)

    def _view(self, session: Session, row: Document, shown: Disclosure) -> DocumentView:
        supersedes = session.get(Document, row.supersedes_id) if row.supersedes_id else None
        successor = session.scalar(
            select(Document.number).where(Document.supersedes_id == row.id).order_by(Document.id)
        )
        acts = [
            ActView(a.act, mask_pii(a.content, shown), a.at, a.actor_name)
            for a in session.scalars(
                select(DocumentAct).where(DocumentAct.document_id == row.id).order_by(DocumentAct.id)
            )
        ]
        return DocumentView(
            document=_detached(row, mask_pii(row.content, shown)),
            acts=acts,
            supersedes=supersedes.number if supersedes is not None else None,
            superseded_by=successor,
            intact=issuing.intact(session, row),
            forms=self._forms_of_case(session, row.case_id),
        )

    def _forms_of_case(self, session: Session, case_id: int) -> FormRegistry:
        """The forms of the case's own version: they label the codes its documents hold."""
        version_id = session.scalar(select(Case.version_id).where(Case.id == case_id))
        assert version_id is not None
        return self.runtime.forms_of(session, version_id)

    def referral_draft(self, viewer: Viewer, task_id: str) -> DocumentView:
        """The referral letter as it will print once the leader approves it (实施意见 六(二)): the leader
        reads what goes out, unmasked, because approving it is their task."""
        with self.runtime.transaction() as session:
            task = session.get(OpenTask, task_id)
            if task is None or task.task_name != REFERRAL_APPROVAL_TASK:
                raise NotFound("没有待审签的移送函")
            case = task.case
            if viewer.role != task.role or viewer.org_id != task.org_id:
                raise Forbidden("只有审签人可以查看移送函草稿")
            audit_pii_view(session, viewer, case, self.now(), "draft:referral_letter")
            workflow = self.runtime.decode(session, case)
            data = case_data(workflow)
            timers = Timers(date_timers(procedure_of(workflow)), self.runtime.calendar(session), data)
            draft = issuing.referral_draft(session, case, data, timers, self.now(), viewer.username)
            return DocumentView(
                document=draft,
                acts=[],
                supersedes=None,
                superseded_by=None,
                intact=True,
                forms=self.runtime.forms_of(session, case.version_id),
                draft=True,
            )

    # ---- correcting -------------------------------------------------------------------------

    def may_correct(self, viewer: Viewer, document: Document) -> bool:
        """The issuing body corrects its own documents, while it handles the case."""
        return viewer.org_id is not None and viewer.org_id == document.issuer_org_id

    def correct(self, viewer: Viewer, document_id: int, changes: Mapping[str, Any], reason: str) -> Document:
        """Issues a corrected copy of a document in force — its content with `changes` — that supersedes
        it; the old one is kept and shown as superseded."""
        reason = (reason or "").strip()
        if not reason:
            raise InvalidData("提交的内容有误，请按提示修改", {"correction_reason": "请填写更正原因"})
        with self.runtime.transaction() as session:
            old = session.get(Document, document_id)
            if old is None:
                raise NotFound("文书不存在")
            case = session.scalar(select(Case).where(Case.id == old.case_id).with_for_update())
            assert case is not None
            if not can_view_case(session, viewer, case) or not handles_case(viewer, case):
                raise Forbidden("您无权更正该文书")
            if not self.may_correct(viewer, old):
                raise Forbidden("只有出具文书的单位可以更正该文书")
            if old.id in issuing.superseded_ids(session, case.id):
                raise InvalidData("该文书已被更正，请更正最新的文书")
            unknown = sorted(set(changes) - set(old.content))
            if unknown:
                raise InvalidData(f"文书中没有这些内容，不能更正：{'、'.join(unknown)}")
            content = {**old.content, **changes}
            if content == old.content:
                raise InvalidData("更正后的内容与原文书相同")
            now = self.now()
            new = issuing.issue(
                session, case, old.kind, content, now, viewer.username, supersedes=old, reason=reason
            )
            audit.record(
                session,
                now,
                viewer.username,
                AuditAction.CORRECT_DOCUMENT,
                case.id,
                document=new.number,
                supersedes=old.number,
                reason=reason,
            )
            session.flush()
            return _detached(new, new.content)

    # ---- the case file ----------------------------------------------------------------------

    def dossier(self, viewer: Viewer, case_no: str) -> Dossier:
        """The 卷宗 of a case for its archive (人民调解法第二十七条): only its handling organisations
        compile it, unmasked, and each compilation is audited."""
        now = self.now()
        with self.runtime.transaction() as session:
            case = self.visible_case(session, viewer, case_no)
            if not handles_case(viewer, case):
                raise Forbidden("只有承办机构可以导出卷宗")
            audit_pii_view(session, viewer, case, now, "dossier")
            # the archive's copy is complete, but the mediation side sees no respondent's particulars
            # the respondent was not yet told of (个人信息保护法; the privacy notice)
            shown = disclosure(viewer, case, self.runtime.case_data(session, case), True)
            views = [self._view(session, row, shown) for row in case_view.documents_of(session, case.id)]
            files = [
                DossierFile(a.id, a.filename, a.content_type, a.uploaded_at, a.content)
                for a in session.scalars(
                    select(Attachment)
                    .where(Attachment.case_id == case.id)
                    .order_by(Attachment.uploaded_at, Attachment.id)
                )
            ]
            ids = {
                "petition_office": case.petition_office_id,
                "mediation_org": case.mediation_org_id,
                "justice_org": case.justice_org_id,
            }
            names = {
                org_id: name for org_id, name in session.execute(select(Organisation.id, Organisation.name))
            }
            summary = case_view.summarise(session, case, viewer, {}, reveal=False)
            compiler = session.scalar(select(User.display_name).where(User.username == viewer.username))
            return Dossier(
                case=case,
                locality=summary.locality,
                organisations={side: names.get(i) if i else None for side, i in ids.items()},
                data=case_data(self.runtime.decode(session, case)),
                documents=views,
                files=files,
                compiled_by=compiler or viewer.username,
                compiled_at=now,
            )


def _detached(row: Document, content: Mapping[str, Any]) -> Document:
    """A copy outside the session: what is shown is never written back."""
    return Document(
        id=row.id,
        case_id=row.case_id,
        kind=row.kind,
        title=row.title,
        number=row.number,
        created_at=row.created_at,
        content=dict(content),
        issuer_org_id=row.issuer_org_id,
        snapshot=dict(row.snapshot or {}),
        digest=row.digest,
        issued_by=row.issued_by,
        supersedes_id=row.supersedes_id,
        correction_reason=row.correction_reason,
    )
