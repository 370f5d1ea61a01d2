"""Cases: registering a petition, finding cases, the case page, revealing personal data, reporting a risk,
reading a document and downloading an attachment — each access-checked, each audited where it must be."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestration.domain import petition_clock
from orchestration.domain.access import (
    CASE_ROLES,
    Viewer,
    can_view_case,
    handles_case,
    may_register,
    registration_localities,
)
from orchestration.domain.calendar import SHANGHAI
from orchestration.domain.forms import FormDefinition, FormRegistry, initial_values
from orchestration.engine.runtime import RISK_FORM, RISK_TASK, START_FORM, StepResult, case_data, passed_steps
from orchestration.errors import Forbidden, InvalidData, NotFound
from orchestration.read import case_view, queries
from orchestration.read.case_view import CaseSummary, History
from orchestration.read.queries import Deadline, Page, PetitionClockView
from orchestration.services.base import FormPage, Service, actor_of
from orchestration.store import audit
from orchestration.store.models import Attachment, AuditEvent, Case, Document, OpenTask
from orchestration.vocabulary import AuditAction, Role

__all__ = [
    "AttachmentFile",
    "AuditEvent",
    "CaseFiles",
    "CasePage",
    "CaseService",
    "CaseSummary",
    "History",
]


@dataclass(frozen=True)
class CasePage:
    summary: CaseSummary
    deadlines: list[Deadline]
    clock: PetitionClockView | None
    history: History
    step_titles: Mapping[str, str]
    passed_steps: set[str]
    diagram: tuple[str, str]  # (BPMN XML, process id) of the case's version
    attachments: list[Attachment]
    documents: list[Document]
    task_states: Mapping[str, str | None]
    claimers: Mapping[int, str]
    risk_form: FormPage | None  # offered while the handling mediation organisation may report a risk
    forms: FormRegistry  # the forms of the case's version: they label its data
    now: datetime
    # The petition office's leader may extend the limit; when it cannot be extended now, why not.
    may_extend: bool = False
    extension_refusal: str | None = None


@dataclass(frozen=True)
class CaseFiles:
    """A case's documents and attachments as lists (their contents are read one at a time)."""

    case_no: str
    documents: list[Document]
    attachments: list[Attachment]


@dataclass(frozen=True)
class AttachmentFile:
    filename: str
    content_type: str
    content: bytes


class CaseService(Service):
    RISK_FORM = RISK_FORM
    # ---- registering ------------------------------------------------------------------------

    def registration_form(self, viewer: Viewer) -> FormPage:
        if not may_register(viewer):
            raise Forbidden("只有信访部门经办人可以登记信访事项")
        form = self.runtime.current_forms().get(START_FORM)
        with self.reading() as session:
            options = self._registration_options(session, viewer, form)
        values = initial_values(form, {}, options)
        allowed = {code for code, _ in options.get("townships", [])}
        if viewer.region_code in allowed:
            values["locality"] = viewer.region_code
        values["received_on"] = self.now().astimezone(SHANGHAI).date().isoformat()
        return FormPage(form, options, values)

    def _registration_options(
        self, session: Any, viewer: Viewer, form: FormDefinition
    ) -> dict[str, list[tuple[str, str]]]:
        # A clerk registers petitions for the townships of their own office's region.
        allowed = registration_localities(session, viewer)
        options = self.form_options(session, form)
        options["townships"] = [o for o in options.get("townships", []) if o[0] in allowed]
        return options

    def register(
        self, viewer: Viewer, data: Mapping[str, Any], idempotent_request: int | None = None
    ) -> StepResult:
        """`idempotent_request`: the API call's reservation, marked in the step's transaction."""
        if not may_register(viewer):
            raise Forbidden("只有信访部门经办人可以登记信访事项")
        with self.reading() as session:
            allowed = registration_localities(session, viewer)
        if data.get("locality") and data["locality"] not in allowed:
            raise InvalidData(
                "提交的内容有误，请按提示修改", {"locality": "请选择本单位辖区内的乡镇（街道）"}
            )
        return self.runtime.start_case(data, actor_of(viewer), idempotent_request)

    # ---- reading ----------------------------------------------------------------------------

    def search(self, viewer: Viewer, text: str | None, status: str | None, page: int = 1) -> Page[Case]:
        if viewer.role not in CASE_ROLES:
            raise Forbidden("您无权查看案件")
        with self.reading() as session:
            return queries.search_cases(session, viewer, text, status, page)

    def open_tasks(self, case_no: str) -> list[OpenTask]:
        with self.reading() as session:
            case = queries.case_by_number(session, case_no)
            if case is None:
                raise NotFound(f"未知案件：{case_no}")
            return queries.open_tasks_of(session, case.id)

    def summary(self, viewer: Viewer, case_no: str) -> CaseSummary:
        """Always masked: for lists and the API, which offer no reveal."""
        if viewer.role not in CASE_ROLES:
            raise Forbidden("您无权查看案件")
        with self.reading() as session:
            case = self.visible_case(session, viewer, case_no)
            return case_view.summarise(session, case, viewer, self.runtime.case_data(session, case))

    def files(self, viewer: Viewer, case_no: str) -> CaseFiles:
        """The documents and attachments of a case the viewer may see (contents not loaded)."""
        if viewer.role not in CASE_ROLES:
            raise Forbidden("您无权查看案件")
        with self.reading() as session:
            case = self.visible_case(session, viewer, case_no)
            return CaseFiles(
                case.case_no,
                case_view.documents_of(session, case.id),
                case_view.attachments_of(session, case.id),
            )

    def page(self, viewer: Viewer, case_no: str, reveal: bool = False) -> CasePage:
        """The case page; a reveal is written to the audit log before anything is shown."""
        if reveal:
            self._audit_reveal(viewer, case_no)
        now = self.now()
        with self.reading() as session:
            case = self.visible_case(session, viewer, case_no)
            workflow = self.runtime.decode(session, case)
            data = case_data(workflow)
            summary = case_view.summarise(session, case, viewer, data, reveal)
            calendar = self.calendar(session)
            deadlines, clock = queries.case_deadlines(session, case, data, calendar, now)
            open_tasks = summary.open_tasks
            claimed = {t.claimed_by for t in open_tasks if t.claimed_by}
            risk_form = None
            forms = self.runtime.forms_of(session, case.version_id)
            if may_report_risk(viewer, case, open_tasks):
                form = forms.get(RISK_FORM)
                options = self.form_options(session, form)
                risk_form = FormPage(form, options, initial_values(form, {}, options))
            may_extend = (
                viewer.role == Role.PETITION_LEADER
                and viewer.org_id == case.petition_office_id
                and handles_case(viewer, case)
            )
            return CasePage(
                summary=summary,
                deadlines=deadlines,
                clock=clock,
                history=case_view.history(session, case.id),
                step_titles=self.runtime.step_titles(session, case.version_id),
                passed_steps=passed_steps(workflow) - {t.task_name for t in open_tasks},
                diagram=case_view.process_diagram(session, case),
                attachments=case_view.attachments_of(session, case.id),
                documents=case_view.documents_of(session, case.id),
                task_states={t.id: queries.due_state(t.due_at, now, calendar) for t in open_tasks},
                claimers=queries.user_names(session, ids=claimed) if claimed else {},
                risk_form=risk_form,
                forms=forms,
                now=now,
                may_extend=may_extend,
                extension_refusal=petition_clock.extension(clock.clock if clock else None, now)
                if may_extend
                else None,
            )

    def diagram(self, viewer: Viewer, case_no: str) -> str:
        """The BPMN XML of the version the case runs on, for whoever may see the case."""
        if viewer.role not in CASE_ROLES:
            raise Forbidden("您无权查看案件")
        with self.reading() as session:
            return case_view.process_diagram(session, self.visible_case(session, viewer, case_no))[0]

    def _audit_reveal(self, viewer: Viewer, case_no: str) -> None:
        with self.runtime.transaction() as session:
            case = self.visible_case(session, viewer, case_no)
            if not handles_case(viewer, case):
                raise Forbidden("只有承办机构可以查看完整个人信息")
            audit_pii_view(session, viewer, case, self.now(), "case")

    # ---- acting on the case -----------------------------------------------------------------

    def report_risk(self, viewer: Viewer, case_no: str, data: Mapping[str, Any]) -> StepResult:
        """The runtime lets only the handling mediation organisation report, and only during mediation."""
        with self.reading() as session:
            case = queries.case_by_number(session, case_no)
            if case is None:
                raise NotFound(f"未知案件：{case_no}")
            case_id = case.id
        return self.runtime.report_risk(case_id, data, actor_of(viewer))

    # ---- attachments ------------------------------------------------------------------------

    def attachment(self, viewer: Viewer, attachment_id: int) -> AttachmentFile:
        """Uploaded files often are identity proofs: only the handling organisations download them, and
        every download is in the audit log."""
        with self.runtime.transaction() as session:
            row = session.get(Attachment, attachment_id)
            case = session.get(Case, row.case_id) if row is not None and row.case_id is not None else None
            if row is None or case is None:
                raise NotFound("附件不存在")
            if not can_view_case(session, viewer, case) or not handles_case(viewer, case):
                raise Forbidden("只有承办机构可以下载附件")
            audit.record(
                session,
                self.now(),
                viewer.username,
                AuditAction.DOWNLOAD,
                case.id,
                attachment=row.id,
                filename=row.filename,
            )
            return AttachmentFile(row.filename, row.content_type, row.content)


def may_report_risk(viewer: Viewer, case: Case, open_tasks: Sequence[OpenTask]) -> bool:
    """The handling mediation organisation's mediators, while the case is in mediation."""
    return (
        viewer.role == Role.MEDIATOR
        and viewer.org_id == case.mediation_org_id
        and any(t.task_name == RISK_TASK for t in open_tasks)
    )


def audit_pii_view(session: Any, viewer: Viewer, case: Case, now: datetime, what: str) -> None:
    """Every unmasked view is accountable: who saw whose data, when and where (PIPL art 51)."""
    audit.record(
        session, now, viewer.username, AuditAction.VIEW_PII, case.id, what=what, org_id=viewer.org_id
    )
