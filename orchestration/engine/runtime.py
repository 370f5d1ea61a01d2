"""Starting cases, completing tasks, raising events and firing timers: each one transaction, under a lock."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import SignalEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import ScalarSelect, func, select, update
from sqlalchemy.orm import Session, lazyload, sessionmaker

from handlers.api import HandlerError
from handlers.eligibility import id_key, parties_key
from orchestration import logs
from orchestration.domain import organisations, petition_clock
from orchestration.domain.calendar import SHANGHAI, WorkingCalendar
from orchestration.domain.forms import FormRegistry, FormValidationError, Submission, Upload, validate
from orchestration.domain.privacy_notice import NOTICES_FOLDER, PrivacyNotices, stamp
from orchestration.domain.procedure import (
    RISK_FORM,
    START_FORM,
    DeployError,
    Finding,
    check_files,
    content_hash,
    read_directories,
)
from orchestration.engine import attachments, checks, documents, timer_builder
from orchestration.engine.clock import Clock, SystemClock
from orchestration.engine.compat import engine_clock
from orchestration.engine.derived import Derived, derive, waiting_timers, write_open_tasks, write_timers
from orchestration.engine.handler_context import CaseContext
from orchestration.engine.migration import Migration, MigrationRefused, Verdict, current_steps
from orchestration.engine.script_engine import FangtiaoScriptEngine
from orchestration.engine.specs import PROCESS_ID, ParsedVersion, SpecCache, latest_version, store_version
from orchestration.engine.state import StateCodec
from orchestration.engine.workflow_cache import WorkflowCache
from orchestration.errors import Conflict, Forbidden, Gone, InvalidData, NotFound, ProcedureError
from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.store import audit
from orchestration.store.db import WRITE_LOCK
from orchestration.store.models import (
    CalendarDay,
    Case,
    Counter,
    IdempotentRequest,
    Incident,
    Notification,
    OfficialYear,
    OpenTask,
    ProcessVersion,
    TaskSubmission,
    Timer,
)
from orchestration.store.numbering import case_number
from orchestration.vocabulary import AuditAction, CaseStatus, Role

RISK_SIGNAL = "risk_report"
RISK_TASK = "mediate"  # risk reports are taken while this task is open (the signal's boundary event)
CALENDAR_COUNTER = "calendar"
CALENDAR_IN_SESSION = "fangtiao_calendar"  # session.info key: the calendar this transaction reads
CALENDAR_REVISION = "fangtiao_calendar_revision"  # session.info key: its revision, if already read


def calendar_revision() -> ScalarSelect[int]:
    """How many times administrators changed the calendar (a counter bumped with every edit)."""
    return select(Counter.last).where(Counter.key == CALENDAR_COUNTER).scalar_subquery()


# What a caller passes as the expected revision when its request carried none it could read: the step is
# refused (after the access checks) rather than applied over whatever happened since the page was drawn.
UNKNOWN_REVISION = -1
# session.info key: workflows saved in the transaction, handed to the cache once it has committed
SAVED_WORKFLOWS = "fangtiao_saved_workflows"
# session.info key: the steps audited in the transaction, logged once it has committed
STEP_LOG = "fangtiao_step_log"

log = logging.getLogger("fangtiao.runtime")


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (role and organisation) or the system itself (timers)."""

    username: str
    role: str
    org_id: int | None = None
    user_id: int | None = None
    display_name: str = ""  # what documents print for the person (the leader who approved a letter)

    @classmethod
    def of(cls, user: Any) -> Actor:
        return cls(user.username, user.role, user.org_id, user.id, user.display_name)


SYSTEM = Actor("system", "system", display_name="系统")

MAX_TIMER_ATTEMPTS = 5
TIMER_BACKOFF = timedelta(seconds=30)


# Nearly every case is running, so the status index is the worst way in; SQLite, which keeps no
# statistics unless ANALYZE runs, would still take it and sort every running case. Wrapping the
# column keeps it off that index and lets the timers' due_at index lead (PostgreSQL plans the same).
_RUNNING = func.coalesce(Case.status, "") == CaseStatus.RUNNING


@dataclass(frozen=True)
class FireResult:
    case_id: int
    fired: list[str]
    lateness: float  # seconds between the earliest due time and the firing
    error: str | None = None


@dataclass(frozen=True)
class OpenTaskInfo:
    """An open task as a step leaves it: enough for the caller to say what comes next."""

    id: str
    task_name: str
    title: str
    role: str
    org_id: int | None
    due_at: datetime | None


@dataclass(frozen=True)
class StepResult:
    """What a step committed: the case's new revision and status, and its open tasks."""

    case_id: int
    case_no: str
    status: str
    revision: int
    open_tasks: list[OpenTaskInfo]
    task_title: str | None = None  # the task the step completed, if it completed one
    # True: this answers a retry of a completion committed before (same idempotency key); nothing ran now
    repeated: bool = False


def _mark_request(session: Session, request_id: int | None, case_id: int) -> None:
    """Ties a reserved API call to the step it made, committed with the step: a retry after a lost
    answer is then answered as done (see ApiTokenService.reserve), never run again."""
    if request_id is not None:
        session.execute(
            update(IdempotentRequest).where(IdempotentRequest.id == request_id).values(case_id=case_id)
        )


def _result(case: Case, rows: Derived, task_title: str | None = None) -> StepResult:
    tasks = [
        OpenTaskInfo(task_id, row.task_name, row.title, row.role, row.org_id, row.due_at)
        for task_id, row in rows.tasks.items()
    ]
    return StepResult(case.id, case.case_no, case.status, case.revision, tasks, task_title)


@dataclass
class _Step:
    """The open transaction of one step and the case it locked."""

    session: Session = field(init=False)
    case: Case | None = None
    case_id: int | None = None  # kept apart: the row is expired once the transaction rolls back

    def lock_task(self, task_id: str) -> tuple[Case, OpenTask]:
        """The task and its case in one statement. Both rows are locked, the case's first as every step
        and claim locks it: a statement that waited on the lock then sees the task as the transaction
        before it left it (completed and gone, or claimed), not as it was when the statement began."""
        row = self.session.execute(
            select(Case, OpenTask, calendar_revision())
            .join(OpenTask, OpenTask.case_id == Case.id)
            .where(OpenTask.id == task_id)
            .with_for_update(of=(Case, OpenTask))
            .options(lazyload(OpenTask.case))
        ).first()
        if row is None:
            raise Gone()
        # read in the same round trip: the calendar this step counts deadlines with
        self.session.info[CALENDAR_REVISION] = row[2] or 0
        self.case, self.case_id = row[0], row[0].id
        logs.case_no.set(row[0].case_no)
        return row[0], row[1]

    @property
    def locked(self) -> Case:
        if self.case is None:
            raise NotFound("案件不存在")
        return self.case


class Runtime:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock | None = None,
        processes_dir: Path = PROJECT_ROOT / "processes",
        forms_dir: Path = PROJECT_ROOT / "forms",
        specs: SpecCache | None = None,
    ) -> None:
        self.sessions = session_factory
        self.clock = clock or SystemClock()
        self.processes_dir = processes_dir
        self.forms_dir = forms_dir
        # from the settings (FANGTIAO_COLLECTIVE_HEADCOUNT) when the services are opened
        self.collective_headcount = Settings.collective_headcount
        self.notices = PrivacyNotices(forms_dir / NOTICES_FOLDER)
        self.specs = specs or SpecCache()
        self.codec = StateCodec()
        self.workflows = WorkflowCache()
        self._migrations: dict[tuple[int, int], Migration] = {}
        self._calendar: tuple[int, WorkingCalendar] | None = None

    # ---- deployment -------------------------------------------------------------------------

    def deploy(self, actor: Actor = SYSTEM) -> tuple[ProcessVersion, bool]:
        """Deploys the files of the processes and forms folders (`fangtiao deploy`)."""
        return self.deploy_files(read_directories(self.processes_dir, self.forms_dir), actor)

    def deploy_files(
        self, files: Mapping[str, str], actor: Actor = SYSTEM, process_id: str = PROCESS_ID
    ) -> tuple[ProcessVersion, bool]:
        """A new version of the process from these files, in a transaction of its own (see `deploy_in`)."""
        check_files(files)
        with self.transaction() as session:
            return self.deploy_in(session, files, actor, process_id)

    def deploy_in(
        self,
        session: Session,
        files: Mapping[str, str],
        actor: Actor = SYSTEM,
        process_id: str = PROCESS_ID,
        **detail: Any,
    ) -> tuple[ProcessVersion, bool]:
        """A new version of the process from these files, unless they are the latest version's (then that
        version, created False), in the caller's transaction. The files go through every check first; any
        error refuses the deployment with the findings. Audited, with `detail`."""
        check_files(files)
        latest = latest_version(session, process_id)
        if latest is None or latest.content_hash != content_hash(files):
            findings = checks.check(files, process_id, self.calendar(session), self.clock.now())
            errors = [f for f in findings if f.severity == "error"]
            if errors:
                summary = "；".join(f.line() for f in errors[:3])
                raise DeployError(f"流程检查发现 {len(errors)} 处错误，未部署：{summary}", findings)
        version, created = store_version(session, files, process_id, actor.username, self.clock.now())
        if created:
            audit.record(
                session,
                self.clock.now(),
                actor.username,
                AuditAction.DEPLOY,
                version=version.id,
                number=version.number,
                hash=version.content_hash,
                files=sorted(files),
                **detail,
            )
        return version, created

    def check(self, files: Mapping[str, str], process_id: str = PROCESS_ID) -> list[Finding]:
        """What the deployment of these files would find (see engine/checks.py)."""
        with self.sessions() as session:
            return checks.check(files, process_id, self.calendar(session), self.clock.now())

    def timer_preview(self, files: Mapping[str, str], expression: str) -> timer_builder.TimerPreview:
        """The side panel's timer builder on an expression, with the check's sample data for these files."""
        with self.sessions() as session:
            return timer_builder.preview(files, expression, self.calendar(session), self.clock.now())

    def forms_of(self, session: Session, version_id: int) -> FormRegistry:
        """The forms a version was deployed with: its cases' tasks are validated and drawn with them."""
        return self._parsed(session, version_id).forms

    def current_forms(self) -> FormRegistry:
        """The forms of the latest version (new cases start on it); before any deployment, the folder's."""
        with self.sessions() as session:
            version = latest_version(session)
            if version is None:
                return FormRegistry.load(self.forms_dir)
            return self.specs.get(version).forms

    # ---- calendar ---------------------------------------------------------------------------

    def calendar(self, session: Session) -> WorkingCalendar:
        """The administrator's table over the libraries; rebuilt only when an edit bumped its counter,
        which is read once per transaction (an edit in another process is seen by the next one)."""
        known = session.info.get(CALENDAR_IN_SESSION)
        if known is not None:
            return cast(WorkingCalendar, known)
        revision = session.info.get(CALENDAR_REVISION)
        if revision is None:
            revision = session.scalar(select(calendar_revision())) or 0
        if self._calendar is None or self._calendar[0] != revision:
            overrides = {row.day: row.is_working for row in session.scalars(select(CalendarDay))}
            official = list(session.scalars(select(OfficialYear.year)))
            self._calendar = (revision, WorkingCalendar(overrides, official))
        session.info[CALENDAR_IN_SESSION] = self._calendar[1]
        return self._calendar[1]

    # ---- form options -----------------------------------------------------------------------

    def options(self, session: Session) -> Callable[[str], list[tuple[str, str]]]:
        providers = {
            "mediation_orgs": organisations.mediation_org_options,
            "townships": organisations.township_options,
        }

        def provide(name: str) -> list[tuple[str, str]]:
            if name not in providers:
                raise KeyError(f"未知的选项来源：{name}")
            return providers[name](session)

        return provide

    def _validate(
        self, session: Session, forms: FormRegistry, form_name: str, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        try:
            return validate(forms.get(form_name), data, self.options(session))
        except FormValidationError as exc:
            raise InvalidData("提交的内容有误，请按提示修改", exc.errors) from exc

    # ---- the transaction every change goes through -----------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed at the end, rolled back on any error; on SQLite it takes
        the write lock at its start so read-modify-write cannot interleave. Its steps are logged
        (with the time taken) only once they are committed."""
        started = time.perf_counter()
        with self.sessions() as session, logs.case_scope():
            with session.begin():
                session.connection(execution_options={WRITE_LOCK: True})
                yield session
            for case_id, revision, workflow, derived in session.info.get(SAVED_WORKFLOWS, ()):
                self.workflows.put(case_id, revision, workflow, derived)
            for case_no, action, step in session.info.get(STEP_LOG, ()):
                extra = {"case_no": case_no, "step": step, "ms": logs.elapsed_ms(started)}
                log.info("已提交：%s", action, extra=extra)

    @contextmanager
    def _step(self, case_id: int | None = None) -> Iterator[_Step]:
        """One transaction with the case row locked (by id here, or by the caller through
        `_Step.lock_task`); on any error nothing of it is stored and the error is recorded against the
        case in a transaction of its own."""
        step = _Step()
        try:
            with self.transaction() as session:
                step.session = session
                if case_id is not None:
                    step.case = session.scalar(select(Case).where(Case.id == case_id).with_for_update())
                    if step.case is None:
                        raise NotFound("案件不存在")
                    step.case_id = case_id
                    logs.case_no.set(step.case.case_no)
                yield step
        except ProcedureError as exc:
            if step.case_id is not None:
                self._record_error(step.case_id, exc.message)
            raise

    def _record_error(self, case_id: int, message: str) -> None:
        with self.transaction() as session:
            case = session.get(Case, case_id)
            if case is not None:
                case.last_error = message
                audit.record(
                    session, self.clock.now(), SYSTEM.username, AuditAction.ERROR, case_id, message=message
                )

    def _engine(self, session: Session, case: Case, now: datetime, actor: Actor) -> FangtiaoScriptEngine:
        calendar = self.calendar(session)

        def context(task: Task) -> CaseContext:
            top = task.workflow.top_workflow
            return CaseContext(
                session,
                case,
                now,
                calendar,
                task.data,
                actor.username,
                task.task_spec.name,
                actor.display_name,
                self.collective_headcount,
                actor.org_id,
                procedure_of(top),
            )

        return FangtiaoScriptEngine(calendar, context)

    def _parsed(self, session: Session, version_id: int) -> ParsedVersion:
        parsed = self.specs.cached(version_id)
        if parsed is None:
            version = session.get(ProcessVersion, version_id)
            assert version is not None
            parsed = self.specs.get(version)
        return parsed

    def _load(
        self, session: Session, case: Case, now: datetime, actor: Actor
    ) -> tuple[BpmnWorkflow, Derived]:
        """The case's workflow ready to run, and the rows its current state implies (the rows as stored)."""
        cached = self.workflows.take(case.id, case.revision)
        if cached is None:
            parsed = self._parsed(session, case.version_id)
            workflow = self.codec.load(case.state, parsed.spec, parsed.subprocess_specs)
            cached = (workflow, derive(workflow, case))
        cached[0].script_engine = self._engine(session, case, now, actor)
        return cached

    def _run(self, workflow: BpmnWorkflow, action: Callable[[], None]) -> list[str]:
        """Runs an action and the engine steps after it; returns the automatic steps taken."""
        steps: list[str] = []

        def did_complete(task: Task) -> None:
            if task.task_spec.bpmn_id and not task.task_spec.manual:
                steps.append(task.task_spec.bpmn_name or task.task_spec.bpmn_id)

        try:
            with engine_clock(self.clock):
                action()
                workflow.refresh_timers()
                workflow.do_engine_steps(did_complete_task=did_complete)
        except WorkflowException as exc:
            _log_engine_error(exc)
            raise ProcedureError(_engine_message(exc)) from exc
        return steps

    def _save(
        self, session: Session, case: Case, workflow: BpmnWorkflow, now: datetime, before: Derived
    ) -> Derived:
        """Stores the state and brings the open-task and timer rows from `before` (what they hold)
        to what the new state implies, writing only the differences."""
        case.state = self.codec.dump(workflow)
        case.revision += 1
        case.updated_at = now
        case.last_error = None
        if workflow.completed:
            case.status = CaseStatus.COMPLETED
            case.completed_at = now
        after = derive(workflow, case)
        case.task_open = bool(after.tasks)
        with session.no_autoflush:
            write_open_tasks(session, case, before, after, now)
            write_timers(session, case, before, after)
        self._notify_notes(session, case, workflow, before, after, now)
        if case.id in session.info.get(petition_clock.CHANGED, ()):
            clock = petition_clock.compute(petition_clock.events(session, case.id), self.calendar(session))
            # a concluded petition (办结) has no limit left to warn about
            case.petition_deadline = clock.deadline if clock and clock.concluded_at is None else None
            case.petition_warning = 0
        session.info.setdefault(SAVED_WORKFLOWS, []).append((case.id, case.revision, workflow, after))
        return after

    def _notify_notes(
        self,
        session: Session,
        case: Case,
        workflow: BpmnWorkflow,
        before: Derived,
        after: Derived,
        now: datetime,
    ) -> None:
        """Whoever a new task is for hears what its form's notes ask them to read first (a leader's
        reason for sending the letter back), so that they need not open the case to learn why."""
        forms = self.forms_of(session, case.version_id)
        for task_id, row in after.tasks.items():
            if task_id in before.tasks or row.form_name not in forms:
                continue
            data = workflow.get_task_from_id(UUID(task_id)).data
            for note, text in forms.get(row.form_name or "").notes_for(data):
                if note.notify:
                    session.add(
                        Notification(
                            case_id=case.id,
                            org_id=row.org_id,
                            role=row.role,
                            kind="note",
                            message=f"案件 {case.case_no}“{row.title}”：{note.title}：{text}",
                            created_at=now,
                        )
                    )

    def _audit(
        self,
        session: Session,
        case: Case,
        actor: Actor,
        action: AuditAction,
        task_name: str | None,
        detail: dict[str, Any],
    ) -> None:
        # a timer event's step is the timers it fired
        step = task_name or "、".join(detail.get("fired", ())) or None
        session.info.setdefault(STEP_LOG, []).append((case.case_no, action, step))
        audit.record(session, self.clock.now(), actor.username, action, case.id, task_name, **detail)

    # ---- what users do ----------------------------------------------------------------------

    def start_case(
        self, data: Mapping[str, Any], actor: Actor, idempotent_request: int | None = None
    ) -> StepResult:
        """Registers a new case; `idempotent_request` (a reserved API call, see models.IdempotentRequest)
        is marked with the case in the same transaction."""
        if actor.role != Role.PETITION_CLERK:
            raise Forbidden("只有信访部门经办人可以登记信访事项")
        now = self.clock.now()
        with self._step() as step:
            session = step.session
            version = latest_version(session)
            if version is None:
                raise ProcedureError("流程尚未部署，请先执行 fangtiao deploy")
            parsed = self.specs.get(version)
            cleaned = self._validate(session, parsed.forms, START_FORM, data)
            case = Case(
                case_no=case_number(session, now.astimezone(SHANGHAI).year),
                version_id=version.id,
                status=CaseStatus.RUNNING,
                state="",
                revision=0,
                title=cleaned["matter"],
                parties_key=parties_key([cleaned["petitioner_name"], cleaned["respondent_name"]]),
                petitioner_id_key=id_key(cleaned.get("petitioner_id_number")),
                respondent_id_key=id_key(cleaned.get("respondent_id_number")),
                locality_code=cleaned["locality"],
                created_at=now,
                updated_at=now,
            )
            session.add(case)
            logs.case_no.set(case.case_no)
            session.flush()
            workflow = BpmnWorkflow(parsed.spec, dict(parsed.subprocess_specs))
            workflow.script_engine = self._engine(session, case, now, actor)
            before = Derived({}, {})
            workflow.task_tree.data.update(cleaned, case_no=case.case_no, registered_at=now.isoformat())
            steps = self._run(workflow, lambda: None)
            after = self._save(session, case, workflow, now, before)
            self._audit(
                session, case, actor, AuditAction.START, START_FORM, {"data": cleaned, "steps": steps}
            )
            _mark_request(session, idempotent_request, case.id)
        return _result(case, after)

    def complete_task(
        self,
        task_id: str,
        data: Mapping[str, Any] | Submission,
        actor: Actor,
        expected_revision: int | None = None,
        files: Mapping[str, Sequence[Upload]] | None = None,
        submission_key: str | None = None,
        idempotent_request: int | None = None,
    ) -> StepResult:
        """Completes a user task with its data, or with what a browser sent for its form; `files` are
        uploads for file fields, stored in the same transaction, and so are `submission_key` (an
        idempotency key, see models.TaskSubmission) and the mark on `idempotent_request` (a reserved
        API call, see models.IdempotentRequest)."""
        now = self.clock.now()
        with self._step() as step:
            case, open_task = step.lock_task(task_id)
            session = step.session
            _require_running(case)
            _authorise(open_task, actor)
            if expected_revision == UNKNOWN_REVISION:
                raise InvalidData(
                    "页面缺少有效的案件版本号，无法确认案件在您填写期间未被他人更新，本次提交未保存。"
                    "请核对案件最新情况后重新提交"
                )
            if expected_revision is not None and expected_revision != case.revision:
                raise Conflict("案件已被他人更新，请刷新后重新提交")
            forms = self.forms_of(session, case.version_id)
            if isinstance(data, Submission):
                data, files = data.interpret(forms.get(open_task.form_name or ""))
            if files:
                stored = attachments.store(session, case.id, files, actor.username, now)
                data = attachments.merge(data, stored)
            cleaned = self._validate(session, forms, open_task.form_name or "", data)
            attachments.check_references(session, case.id, forms.get(open_task.form_name or ""), cleaned)
            # a consent given with the privacy notice records which text the party was shown
            cleaned = stamp(cleaned, self.notices.current(now.astimezone(SHANGHAI).date()))
            workflow, before = self._load(session, case, now, actor)
            task = workflow.get_task_from_id(UUID(task_id))

            def run() -> None:
                task.data.update(cleaned)
                task.run()

            steps = self._run(workflow, run)
            documents.record_acts(
                session, case, open_task.task_name, cleaned, now, actor.username, actor.display_name
            )
            after = self._save(session, case, workflow, now, before)
            self._audit(
                session,
                case,
                actor,
                AuditAction.COMPLETE,
                open_task.task_name,
                # the revision: what a reset to this task undoes of the petition clock starts there
                {
                    "data": cleaned,
                    "steps": steps,
                    "task_id": task_id,
                    "title": open_task.title,
                    "revision": case.revision,
                },
            )
            if submission_key is not None:
                session.add(
                    TaskSubmission(
                        key=submission_key,
                        task_id=task_id,
                        case_id=case.id,
                        task_title=open_task.title[:200],
                        actor=actor.username,
                        at=now,
                    )
                )
            _mark_request(session, idempotent_request, case.id)
        return _result(case, after, open_task.title)

    def report_risk(self, case_id: int, data: Mapping[str, Any], actor: Actor) -> StepResult:
        now = self.clock.now()
        with self._step(case_id) as step:
            session, case = step.session, step.locked
            _require_running(case)
            if actor.role != Role.MEDIATOR or actor.org_id != case.mediation_org_id:
                raise Forbidden("只有承办案件的人民调解组织可以报告风险")
            cleaned = self._validate(session, self.forms_of(session, case.version_id), RISK_FORM, data)
            workflow, before = self._load(session, case, now, actor)
            if not any(e.name == RISK_SIGNAL for e in workflow.waiting_events()):
                raise Conflict("案件当前不在调解阶段，不能报告风险")
            event = BpmnEvent(SignalEventDefinition(RISK_SIGNAL), payload=cleaned)
            steps = self._run(workflow, lambda: workflow.send_event(event))
            after = self._save(session, case, workflow, now, before)
            self._audit(
                session, case, actor, AuditAction.RISK_REPORT, None, {"data": cleaned, "steps": steps}
            )
        return _result(case, after)

    # ---- timers -------------------------------------------------------------------------------

    def fire_next(self) -> FireResult | None:
        """Fires the due timers of the case whose timer is due first, in one transaction.

        The case row is locked before anything else, as a user's step locks it, so a worker and a
        clerk never wait on each other crosswise; on PostgreSQL `SKIP LOCKED` lets several workers
        take different cases at once, and a case whose transaction dies stays due for the next one.
        Returns None when nothing is due."""
        now = self.clock.now()
        try:
            with self.transaction() as session:
                # The timer row is locked with its case: a row another worker has fired (and deleted)
                # since this statement began is skipped, not fired again.
                query = (
                    select(Case, calendar_revision())
                    .join(Timer, Timer.case_id == Case.id)
                    .where(Timer.due_at <= now, Timer.attempts < MAX_TIMER_ATTEMPTS, _RUNNING)
                    .order_by(Timer.due_at)
                    .limit(1)
                    .with_for_update(of=(Case, Timer), skip_locked=True)
                )
                row = session.execute(query).first()
                if row is None:
                    return None
                case = row[0]
                session.info[CALENDAR_REVISION] = row[1] or 0
                case_id = case.id
                logs.case_no.set(case.case_no)
                workflow, before = self._load(session, case, now, SYSTEM)
                due = [(name, at) for name, at in before.timers.values() if at <= now]
                if not due:
                    # another worker fired them between our look at the timers and taking the lock
                    return FireResult(case_id, [], 0.0)
                lateness = max((now - at).total_seconds() for _, at in due)
                names = [name for name, _ in due]
                steps = self._run(workflow, lambda: None)
                self._save(session, case, workflow, now, before)
                self._audit(session, case, SYSTEM, AuditAction.TIMER, None, {"fired": names, "steps": steps})
                return FireResult(case_id, names, lateness)
        except ProcedureError as exc:
            self._timer_failed(case_id, exc.message, now, exc)
            return FireResult(case_id, [], 0.0, error=exc.message)

    def _timer_failed(
        self, case_id: int, message: str, now: datetime, exc: BaseException | None = None
    ) -> None:
        """Retries with exponential backoff; past the last attempt the case gets an incident, naming the
        step whose handler failed and keeping the traceback for administrators."""
        step_name, trace = _failure_of(exc)
        with self.transaction() as session:
            case = session.scalar(select(Case).where(Case.id == case_id).with_for_update())
            assert case is not None
            case.last_error = message
            audit.record(session, now, SYSTEM.username, AuditAction.ERROR, case_id, message=message)
            for timer in session.scalars(select(Timer).where(Timer.case_id == case_id, Timer.due_at <= now)):
                timer.attempts += 1
                timer.last_error = message
                if timer.attempts >= MAX_TIMER_ATTEMPTS:
                    session.add(
                        Incident(
                            case_id=case_id,
                            kind="timer",
                            message=f"定时器“{timer.name}”重试{timer.attempts}次仍失败：{message}",
                            task_name=step_name,
                            traceback=trace,
                            attempts=timer.attempts,
                            created_at=now,
                        )
                    )
                else:
                    timer.due_at = now + TIMER_BACKOFF * 2 ** (timer.attempts - 1)

    def run_due_timers(self, limit: int = 10_000) -> int:
        """Fires everything due now (one case per transaction); returns the number of timers fired."""
        fired = 0
        for _ in range(limit):
            result = self.fire_next()
            if result is None:
                break
            fired += len(result.fired)
        return fired

    def next_due(self) -> datetime | None:
        with self.sessions() as session:
            # ORDER BY … LIMIT 1, not min(): PostgreSQL's index shortcut for min() stops at the join
            return session.scalar(
                select(Timer.due_at)
                .join(Case, Timer.case_id == Case.id)
                .where(Timer.attempts < MAX_TIMER_ATTEMPTS, _RUNNING)
                .order_by(Timer.due_at)
                .limit(1)
            )

    def warn_petition_deadlines(self) -> int:
        """Tells the petition office when a petition's own time limit is a working day away or past
        (信访工作条例 art 34; mediation time excluded); each warning once per deadline."""
        now = self.clock.now()
        sent = 0
        with self.transaction() as session:
            calendar = self.calendar(session)
            horizon = now + timedelta(days=10)  # no working-day gap in the calendar is longer
            cases = session.scalars(
                select(Case)
                .where(
                    Case.petition_deadline.is_not(None),
                    Case.petition_deadline <= horizon,
                    Case.petition_warning < 2,
                )
                .with_for_update(skip_locked=True)
            )
            for case in cases:
                deadline = case.petition_deadline
                assert deadline is not None
                level = 2 if now > deadline else 1 if now >= calendar.warning_time(deadline, 1) else 0
                if level <= case.petition_warning:
                    continue
                local = deadline.astimezone(SHANGHAI)
                when = f"{local.year}年{local.month}月{local.day}日"
                message = (
                    f"案件 {case.case_no} 信访事项办理期限（{when}）已届满，请依法办理或按规定延长"
                    if level == 2
                    else f"案件 {case.case_no} 信访事项办理期限将于{when}届满"
                )
                for role in (Role.PETITION_CLERK, Role.PETITION_LEADER):
                    session.add(
                        Notification(
                            case_id=case.id,
                            org_id=case.petition_office_id,
                            role=role,
                            kind="petition_overdue" if level == 2 else "petition_near",
                            message=message,
                            created_at=now,
                        )
                    )
                case.petition_warning = level
                sent += 1
        return sent

    def retry_incident(self, incident_id: int, actor: Actor, reason: str | None = None) -> None:
        now = self.clock.now()
        with self.transaction() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                raise NotFound("事件不存在")
            if incident.resolved_at is not None:
                raise Conflict("该事件已处理")
            incident.resolved_at, incident.resolved_by = now, actor.username
            for timer in session.scalars(select(Timer).where(Timer.case_id == incident.case_id)):
                if timer.attempts >= MAX_TIMER_ATTEMPTS:
                    timer.attempts, timer.due_at = 0, now
            audit.record(
                session,
                now,
                actor.username,
                AuditAction.RETRY,
                incident.case_id,
                incident=incident_id,
                **_reason(reason),
            )

    def set_suspended(self, case_id: int, suspended: bool, actor: Actor, reason: str | None = None) -> Case:
        """An administrator pauses a case (its timers wait too: the worker takes running cases only) or
        lets it go on (timers that fell due meanwhile are due now, and the worker fires them)."""
        now = self.clock.now()
        with self._step(case_id) as step:
            session, case = step.session, step.locked
            running, paused = CaseStatus.RUNNING, CaseStatus.SUSPENDED
            wanted, current = (paused, running) if suspended else (running, paused)
            if case.status != current:
                if case.status in (CaseStatus.COMPLETED, CaseStatus.TERMINATED):
                    raise Conflict(f"案件{_STATUS_WORDS[case.status]}，不能暂停或恢复")
                raise Conflict("案件已处于暂停状态" if suspended else "案件未处于暂停状态，无需恢复")
            case.status, case.updated_at = wanted, now
            action = AuditAction.SUSPEND if suspended else AuditAction.RESUME
            self._audit(session, case, actor, action, None, _reason(reason))
        return case

    def recompute_deadlines(self, case_id: int, actor: Actor = SYSTEM) -> list[dict[str, str]]:
        """Evaluates every waiting timer's expression again with the current calendar (after an
        administrator changed it) and moves the timers whose due time changed."""
        now = self.clock.now()
        with self._step(case_id) as step:
            session, case = step.session, step.locked
            workflow, before = self._load(session, case, now, actor)
            moved = []
            for task, old_value, new_value in _moved_timers(workflow):
                task.internal_data["event_value"] = new_value
                moved.append({"timer": task.task_spec.bpmn_name or "", "from": old_value, "to": new_value})
            if moved:
                self._save(session, case, workflow, now, before)
                self._audit(session, case, actor, AuditAction.RECOMPUTE, None, {"moved": moved})
        return moved

    # ---- migrating cases to another version -------------------------------------------------------

    def migration(self, session: Session, source_id: int, target_id: int) -> Migration:
        """The comparison of two versions' specs, made once per pair (versions never change)."""
        migration = self._migrations.get((source_id, target_id))
        if migration is None:
            source, target = self._parsed(session, source_id), self._parsed(session, target_id)
            migration = Migration(self.codec.registry, source, target)
            self._migrations[source_id, target_id] = migration
        return migration

    def preview_migration(self, session: Session, case: Case, target_id: int) -> MovePreview:
        """Whether the case could move to the version now, and how its deadlines would move: the migration
        done on a copy decoded from its state, nothing stored and no service task run."""
        workflow = self.decode(session, case)
        steps = current_steps(workflow)
        if case.status == CaseStatus.SUSPENDED:
            return MovePreview(steps, Verdict(False, SUSPENDED_NOT_MOVED), [])
        migration = self.migration(session, case.version_id, target_id)
        verdict = migration.verdict(workflow)
        if not verdict.movable:
            return MovePreview(steps, verdict, [])
        before = derive(workflow, case)
        workflow.script_engine = FangtiaoScriptEngine(self.calendar(session), _no_services)
        with engine_clock(self.clock):
            migration.apply(workflow)
        stray = migration.stray_steps(workflow)
        if stray:
            return MovePreview(steps, Verdict(False, _stray_message(stray)), [])
        return MovePreview(steps, verdict, due_changes(before, derive(workflow, case)))

    def migrate_case(
        self, case_id: int, target_id: int, actor: Actor, reason: str | None = None
    ) -> list[dict[str, str]]:
        """Moves a running case to another version of its process in one locked transaction: SpiffWorkflow's
        migration resets its current tasks onto the new spec (timers evaluated again), the engine steps run,
        and its open tasks, timers and deadlines are written as the new state implies, audited. A case that
        cannot move raises MigrationRefused and is left exactly as it was. Returns the deadlines moved."""
        now = self.clock.now()
        with self._step(case_id) as step:
            session, case = step.session, step.locked
            if case.status in (CaseStatus.COMPLETED, CaseStatus.TERMINATED):
                raise MigrationRefused(f"案件{_STATUS_WORDS[case.status]}，无需迁移")
            if case.status == CaseStatus.SUSPENDED:
                # its engine steps would fire a deadline the migration brought forward, while it is paused
                raise MigrationRefused(SUSPENDED_NOT_MOVED)
            source_id = case.version_id
            if source_id == target_id:
                raise MigrationRefused("案件已在该版本上")
            # the two versions' process and number, not their files (hundreds of kilobytes of JSON)
            versions = {
                row.id: row
                for row in session.execute(
                    select(ProcessVersion.id, ProcessVersion.process_id, ProcessVersion.number).where(
                        ProcessVersion.id.in_((source_id, target_id))
                    )
                )
            }
            source, target = versions.get(source_id), versions.get(target_id)
            if target is None or source is None or target.process_id != source.process_id:
                raise MigrationRefused("目标版本不存在或不是同一流程的版本")
            migration = self.migration(session, source_id, target_id)
            workflow, before = self._load(session, case, now, actor)
            verdict = migration.verdict(workflow)
            if not verdict.movable:
                raise MigrationRefused(verdict.reason)
            try:
                steps = self._run(workflow, lambda: migration.apply(workflow))
            except ProcedureError as exc:
                raise MigrationRefused(f"迁移后继续办理时出错：{exc.message}") from exc
            stray = migration.stray_steps(workflow)
            if stray:
                raise MigrationRefused(_stray_message(stray))
            case.version_id = target_id
            after = self._save(session, case, workflow, now, before)
            moved = due_changes(before, after)
            detail = {"from": source.number, "to": target.number, "moved": moved, "steps": steps}
            detail.update(_reason(reason))
            self._audit(session, case, actor, AuditAction.MIGRATE, None, detail)
        return moved

    def preview_deadlines(
        self, case_ids: Sequence[int], calendar: WorkingCalendar
    ) -> list[tuple[str, str, datetime, datetime]]:
        """What `recompute_deadlines` would move if the calendar were `calendar`, written nowhere:
        (case number, timer, due now, due then) for each timer that would move."""
        now = self.clock.now()
        moves = []
        with self.sessions() as session:
            # every calendar lookup of this session, the timer functions' too, sees the would-be calendar
            session.info[CALENDAR_IN_SESSION] = calendar
            for case in session.scalars(select(Case).where(Case.id.in_(case_ids)).order_by(Case.id)):
                workflow = self.decode(session, case)
                workflow.script_engine = self._engine(session, case, now, SYSTEM)
                for task, old_value, new_value in _moved_timers(workflow):
                    moves.append(
                        (
                            case.case_no,
                            task.task_spec.bpmn_name or "",
                            TimerEventDefinition.get_datetime(old_value),
                            TimerEventDefinition.get_datetime(new_value),
                        )
                    )
        return moves

    # ---- reading ----------------------------------------------------------------------------

    def decode(self, session: Session, case: Case) -> BpmnWorkflow:
        """The case's workflow from its stored state, to read (never the live one a step may hold)."""
        parsed = self._parsed(session, case.version_id)
        return self.codec.load(case.state, parsed.spec, parsed.subprocess_specs)

    def case_data(self, session: Session, case: Case) -> dict[str, Any]:
        return case_data(self.decode(session, case))

    def step_titles(self, session: Session, version_id: int) -> dict[str, str]:
        """BPMN id -> the step's Chinese name in that version of the procedure."""
        parsed = self._parsed(session, version_id)
        titles: dict[str, str] = {}
        for spec in [parsed.spec, *parsed.subprocess_specs.values()]:
            for name, task_spec in spec.task_specs.items():
                if task_spec.bpmn_name:
                    titles[task_spec.bpmn_id or name] = task_spec.bpmn_name
        return titles


@dataclass(frozen=True)
class MovePreview:
    current_steps: list[str]
    verdict: Verdict
    moved: list[dict[str, str]]  # the deadlines the migration would move


def due_changes(before: Derived, after: Derived) -> list[dict[str, str]]:
    """Timers whose due time differs between two derivations of a case ("" for none), in Beijing time, as
    the audit trail records them."""

    def local(timers: Mapping[str, tuple[str, datetime]], task_id: str) -> str:
        return timers[task_id][1].astimezone(SHANGHAI).isoformat() if task_id in timers else ""

    moved = []
    for task_id in [*before.timers, *(t for t in after.timers if t not in before.timers)]:
        old, new = local(before.timers, task_id), local(after.timers, task_id)
        if old != new:
            name = (before.timers.get(task_id) or after.timers[task_id])[0]
            moved.append({"timer": name, "from": old, "to": new})
    return moved


SUSPENDED_NOT_MOVED = "案件已被管理员暂停，恢复后才能迁移"


def _stray_message(stray: list[str]) -> str:
    return f"迁移后仍有步骤无法对应新版本：{'、'.join(stray)}"


def _no_services(task: Task) -> Any:
    raise AssertionError("a migration preview runs no service task")


def procedure_of(workflow: BpmnWorkflow) -> tuple[BpmnProcessSpec, ...]:
    """The case's running process and its subprocesses: whose timers its handlers evaluate."""
    return (workflow.spec, *workflow.subprocess_specs.values())


def case_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The data of the case as the process holds it (the last completed task's view)."""
    data: dict[str, Any] = dict(workflow.last_task.data) if workflow.last_task else {}
    for task in workflow.get_tasks(state=TaskState.READY):
        data.update(task.data)
    return data


def passed_steps(workflow: BpmnWorkflow) -> set[str]:
    """BPMN ids of every element the instance has passed (tasks, events, gateways)."""
    return {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id}


def _moved_timers(workflow: BpmnWorkflow) -> list[tuple[Task, Any, Any]]:
    """The waiting timers whose expression, evaluated again with the workflow's script engine (and so
    its calendar), gives another due time: (task, value now, value then)."""
    moved = []
    for task in waiting_timers(workflow):
        new_value = workflow.script_engine.evaluate(task, task.task_spec.event_definition.expression)
        old_value = task.internal_data["event_value"]
        if TimerEventDefinition.get_datetime(new_value) != TimerEventDefinition.get_datetime(old_value):
            moved.append((task, old_value, new_value))
    return moved


_STATUS_WORDS: dict[str, str] = {CaseStatus.COMPLETED: "已办结", CaseStatus.TERMINATED: "已被管理员终止"}


def _reason(reason: str | None) -> dict[str, str]:
    return {"reason": reason} if reason else {}


def _failure_of(exc: BaseException | None) -> tuple[str | None, str | None]:
    """The step whose handler raised (SpiffWorkflow's exception carries the task) and the traceback of
    the handler's own exception, for an incident."""
    if exc is None:
        return None, None
    engine_error = exc.__cause__
    task = getattr(engine_error, "task", None)
    step_name = (task.task_spec.bpmn_name or task.task_spec.bpmn_id) if task is not None else None
    cause = (engine_error.__cause__ if engine_error is not None else None) or engine_error or exc
    return step_name, "".join(traceback.format_exception(cause))


def _require_running(case: Case) -> None:
    if case.status == CaseStatus.SUSPENDED:
        raise Conflict("案件已被管理员暂停，暂不能办理")
    if case.status != CaseStatus.RUNNING:
        raise Conflict(f"案件{_STATUS_WORDS.get(case.status, '已办结')}")


def _authorise(task: OpenTask, actor: Actor) -> None:
    if actor.role != task.role or actor.org_id != task.org_id:
        raise Forbidden("您无权办理该任务")
    if task.claimed_by is not None and task.claimed_by != actor.user_id:
        raise Forbidden("该任务已由他人认领")


def _engine_message(exc: WorkflowException) -> str:
    return str(exc.args[0]) if exc.args else str(exc)


def _log_engine_error(exc: WorkflowException) -> None:
    """A handler's refusal is part of the procedure (the user is told, the audit trail has it); anything
    else is a fault, logged with the traceback of the handler's own exception, which the user never sees."""
    cause = exc.__cause__ or exc
    task = getattr(exc, "task", None)
    extra = {"step": task.task_spec.name if task is not None else None}
    if isinstance(cause, HandlerError):
        log.info("处理程序拒绝：%s", cause, extra=extra)
    else:
        log.error("流程步骤出错：%s", _engine_message(exc), extra=extra, exc_info=cause)
