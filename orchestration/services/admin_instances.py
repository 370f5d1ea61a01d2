"""The administrators' instances: the list of every case with counts per status, a case's engine view
(steps, tasks, timers, incidents, audit log), and the repairs — suspend, resume, terminate, retry,
reassign, fire a timer now, move back to an earlier step, migrate — each with a reason, each audited,
each refused with a Chinese message where the case's state makes it meaningless; and bulk suspend,
resume and retry over a filtered selection, each case all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestration.domain.access import Viewer, mask_pii
from orchestration.engine import repair
from orchestration.engine.derived import event_time, waiting_timers
from orchestration.engine.documents import superseded_ids, withdrawn_ids
from orchestration.engine.migration import MigrationRefused
from orchestration.engine.repair import CompletedStep
from orchestration.engine.runtime import passed_steps
from orchestration.engine.specs import latest_version
from orchestration.errors import FangtiaoError, InvalidData, NotFound
from orchestration.read import case_view, instances, queries
from orchestration.read.case_view import History
from orchestration.read.instances import STATUSES, InstanceFilter, InstancePage, InstanceRow
from orchestration.services import claims
from orchestration.services.base import Service, actor_of, require_admin
from orchestration.store.models import (
    AuditEvent,
    Case,
    Document,
    Incident,
    OpenTask,
    ProcessVersion,
    Region,
    Timer,
    User,
)
from orchestration.vocabulary import AuditAction, CaseStatus

__all__ = [
    "STATUSES",
    "BulkOutcome",
    "InstanceDetail",
    "InstanceFilter",
    "InstancePage",
    "InstanceRow",
    "InstanceService",
]

BULK_ACTIONS = ("suspend", "resume", "retry")
BULK_LIMIT = 1000  # a bulk action over more cases than this is refused: narrow the filter first

# SpiffWorkflow's task states as an administrator reads them
TASK_STATES = {
    TaskState.READY: "待办理",
    TaskState.WAITING: "等待中",
    TaskState.STARTED: "进行中",
    TaskState.COMPLETED: "已完成",
    TaskState.ERROR: "出错",
    TaskState.CANCELLED: "已取消",
}


@dataclass(frozen=True)
class TaskLine:
    task_id: str
    name: str
    title: str
    state: str  # one of TASK_STATES' words
    manual: bool
    data: Mapping[str, Any]  # what was submitted with it, masked
    actor: str | None
    at: datetime | None
    claimed_by: str | None
    due_at: datetime | None


@dataclass(frozen=True)
class TimerLine:
    task_id: str
    name: str
    due_at: datetime
    estimated: bool  # counted on a holiday schedule not yet published
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class IncidentLine:
    id: int
    kind: str
    message: str
    step: str | None
    traceback: str | None
    attempts: int
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None


@dataclass(frozen=True)
class DocumentLine:
    id: int
    number: str
    title: str
    created_at: datetime
    state: str  # 有效 / 已更正 / 已撤回


@dataclass(frozen=True)
class InstanceDetail:
    case: Case  # detached
    process_id: str
    version: int
    locality: str
    diagram: tuple[str, str]  # (BPMN XML, process id)
    open_steps: set[str]
    passed_steps: set[str]
    tasks: list[TaskLine]
    timers: list[TimerLine]
    incidents: list[IncidentLine]
    documents: list[DocumentLine]
    history: History
    reset_targets: list[CompletedStep]  # where the case could be moved back to
    versions: list[tuple[int, int]]  # (id, number) of the other versions of its process
    assignees: Mapping[str, list[tuple[str, str]]]  # open task id -> (username, name) who could take it
    now: datetime


@dataclass(frozen=True)
class BulkOutcome:
    case_no: str
    ok: bool
    message: str


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidData("请填写操作原因", {"reason": "请填写操作原因"})
    if len(text) > 500:
        raise InvalidData("操作原因过长", {"reason": "操作原因请控制在500字以内"})
    return text


class InstanceService(Service):
    # ---- reading ----------------------------------------------------------------------------

    def search(self, viewer: Viewer, filters: InstanceFilter, counts: bool = True) -> InstancePage:
        require_admin(viewer)
        if filters.status is not None and filters.status not in STATUSES:
            raise InvalidData("请选择列表中的状态", {"status": "请选择列表中的状态"})
        with self.reading() as session:
            return instances.instance_page(session, viewer, filters, self.now(), counts)

    def choices(self, viewer: Viewer) -> dict[str, list[tuple[str, str]]]:
        """The values the list's filters offer: versions, steps, organisations and regions."""
        require_admin(viewer)
        with self.reading() as session:
            regions = [(r.code, r.name) for r in session.scalars(select(Region).order_by(Region.code))]
            return {
                "versions": [(f"{p}:{n}", f"{p} 第{n}版") for p, n in instances.processes(session)],
                "steps": self._user_steps(session),
                "orgs": regions,
            }

    def _user_steps(self, session: Session) -> list[tuple[str, str]]:
        """(BPMN id, name) of the user tasks of every process's latest version: the steps a case can be
        waiting at (read from the cached specs, not from the open tasks of every case)."""
        steps: dict[str, str] = {}
        for process_id in session.scalars(select(ProcessVersion.process_id).distinct()):
            version = latest_version(session, process_id)
            if version is None:
                continue
            parsed = self.runtime.specs.get(version)
            for spec in [parsed.spec, *parsed.subprocess_specs.values()]:
                for task_spec in spec.task_specs.values():
                    if task_spec.manual and task_spec.bpmn_id and task_spec.bpmn_name:
                        steps.setdefault(task_spec.bpmn_id, task_spec.bpmn_name)
        return sorted(steps.items(), key=lambda item: item[1])

    def detail(self, viewer: Viewer, case_no: str) -> InstanceDetail:
        require_admin(viewer)
        now = self.now()
        with self.reading() as session:
            case = self.visible_case(session, viewer, case_no)
            version = session.get(ProcessVersion, case.version_id)
            assert version is not None
            workflow = self.runtime.decode(session, case)
            calendar = self.calendar(session)
            open_rows = {t.id: t for t in queries.open_tasks_of(session, case.id)}
            completions = {
                (e.detail or {}).get("task_id"): e
                for e in session.scalars(
                    select(AuditEvent).where(
                        AuditEvent.case_id == case.id, AuditEvent.action == AuditAction.COMPLETE
                    )
                )
            }
            names = queries.user_names(session, usernames={e.actor for e in completions.values()})
            claimers = queries.user_names(
                session, ids={t.claimed_by for t in open_rows.values() if t.claimed_by}
            )
            tasks = []
            for task in workflow.get_tasks():
                if task.state not in TASK_STATES or not task.task_spec.bpmn_name:
                    continue
                event = completions.get(str(task.id)) if task.state == TaskState.COMPLETED else None
                row = open_rows.get(str(task.id))
                tasks.append(
                    TaskLine(
                        task_id=str(task.id),
                        name=task.task_spec.bpmn_id or "",
                        title=task.task_spec.bpmn_name,
                        state=TASK_STATES[task.state],
                        manual=bool(task.task_spec.manual),
                        data=mask_pii((event.detail or {}).get("data") or {}) if event else {},
                        actor=names.get(event.actor, event.actor) if event else None,
                        at=event.at if event else None,
                        claimed_by=claimers.get(row.claimed_by) if row and row.claimed_by else None,
                        due_at=row.due_at if row else None,
                    )
                )
            stored = {t.task_id: t for t in session.scalars(select(Timer).where(Timer.case_id == case.id))}
            timers = []
            for timer in waiting_timers(workflow):
                due = event_time(timer)
                row_t = stored.get(str(timer.id))
                timers.append(
                    TimerLine(
                        task_id=str(timer.id),
                        name=timer.task_spec.bpmn_name or timer.task_spec.bpmn_id or "",
                        due_at=due,
                        estimated=calendar.estimated_between(min(now, due), max(now, due)),
                        attempts=row_t.attempts if row_t else 0,
                        last_error=row_t.last_error if row_t else None,
                    )
                )
            timers.sort(key=lambda t: t.due_at)
            incidents = [
                IncidentLine(
                    i.id,
                    i.kind,
                    i.message,
                    i.task_name,
                    i.traceback,
                    i.attempts,
                    i.created_at,
                    i.resolved_at,
                    i.resolved_by,
                )
                for i in session.scalars(
                    select(Incident).where(Incident.case_id == case.id).order_by(Incident.id)
                )
            ]
            replaced, withdrawn = superseded_ids(session, case.id), withdrawn_ids(session, case.id)
            documents = [
                DocumentLine(
                    d.id,
                    d.number,
                    d.title,
                    d.created_at,
                    "已撤回" if d.id in withdrawn else "已更正" if d.id in replaced else "有效",
                )
                for d in session.scalars(
                    select(Document).where(Document.case_id == case.id).order_by(Document.id)
                )
            ]
            assignees = {
                t.id: [
                    (u.username, u.display_name)
                    for u in session.scalars(
                        select(User)
                        .where(User.role == t.role, User.org_id == t.org_id, User.active.is_(True))
                        .order_by(User.username)
                    )
                ]
                for t in open_rows.values()
            }
            versions = [
                (v.id, v.number)
                for v in session.execute(
                    select(ProcessVersion.id, ProcessVersion.number)
                    .where(ProcessVersion.process_id == version.process_id, ProcessVersion.id != version.id)
                    .order_by(ProcessVersion.number)
                )
            ]
            region = session.get(Region, case.locality_code)
            running = case.status == CaseStatus.RUNNING
            open_names = {t.task_name for t in open_rows.values()}
            detail = InstanceDetail(
                case=case,
                process_id=version.process_id,
                version=version.number,
                locality=region.name if region else case.locality_code,
                diagram=case_view.process_diagram(session, case),
                open_steps=open_names,
                passed_steps=passed_steps(workflow) - open_names,
                tasks=tasks,
                timers=timers,
                incidents=incidents,
                documents=documents,
                history=case_view.history(session, case.id),
                reset_targets=repair.completed_steps(workflow) if running else [],
                versions=versions,
                assignees=assignees,
                now=now,
            )
            session.expunge(case)
            return detail

    # ---- actions ----------------------------------------------------------------------------

    def _case_id(self, viewer: Viewer, case_no: str) -> int:
        require_admin(viewer)
        with self.reading() as session:
            return self.visible_case(session, viewer, case_no).id

    def suspend(self, viewer: Viewer, case_no: str, reason: str) -> None:
        text = _reason(reason)
        self.runtime.set_suspended(self._case_id(viewer, case_no), True, actor_of(viewer), text)

    def resume(self, viewer: Viewer, case_no: str, reason: str) -> None:
        text = _reason(reason)
        self.runtime.set_suspended(self._case_id(viewer, case_no), False, actor_of(viewer), text)

    def terminate(self, viewer: Viewer, case_no: str, reason: str) -> None:
        text = _reason(reason)
        repair.terminate(self.runtime, self._case_id(viewer, case_no), actor_of(viewer), text)

    def retry(self, viewer: Viewer, case_no: str, reason: str, incident_id: int | None = None) -> list[int]:
        text = _reason(reason)
        return repair.retry_incidents(
            self.runtime, self._case_id(viewer, case_no), actor_of(viewer), text, incident_id
        )

    def fire_timer(self, viewer: Viewer, case_no: str, timer_task_id: str, reason: str) -> list[str]:
        text = _reason(reason)
        return repair.fire_timer(
            self.runtime, self._case_id(viewer, case_no), timer_task_id, actor_of(viewer), text
        )

    def reset(self, viewer: Viewer, case_no: str, task_id: str, reason: str) -> list[str]:
        text = _reason(reason)
        return repair.reset_to(self.runtime, self._case_id(viewer, case_no), task_id, actor_of(viewer), text)

    def reassign(self, viewer: Viewer, case_no: str, task_id: str, username: str | None, reason: str) -> None:
        text = _reason(reason)
        case_id = self._case_id(viewer, case_no)
        with self.reading() as session:
            task = session.get(OpenTask, task_id)
            if task is None or task.case_id != case_id:
                raise NotFound("该任务已办理完毕或已不存在，请刷新页面")
        claims.admin_reassign(self.runtime, task_id, actor_of(viewer), username or None, text)

    def migrate(self, viewer: Viewer, case_no: str, version_id: int, reason: str) -> list[dict[str, str]]:
        text = _reason(reason)
        return self.runtime.migrate_case(self._case_id(viewer, case_no), version_id, actor_of(viewer), text)

    def bulk(self, viewer: Viewer, action: str, filters: InstanceFilter, reason: str) -> list[BulkOutcome]:
        """The action on every case the filters select, each case in its own transaction: what one case
        refuses is reported for it and changes nothing of it; the others go on."""
        require_admin(viewer)
        if action not in BULK_ACTIONS:
            raise InvalidData("请选择批量操作", {"action": "只能批量暂停、恢复或重试"})
        text = _reason(reason)
        with self.reading() as session:
            ids = instances.selection(session, viewer, filters, self.now(), BULK_LIMIT + 1)
            if len(ids) > BULK_LIMIT:
                raise InvalidData(f"所选案件超过{BULK_LIMIT}件，请缩小筛选范围")
            numbers = (
                dict(session.execute(select(Case.id, Case.case_no).where(Case.id.in_(ids))).all())
                if ids
                else {}
            )
        actor = actor_of(viewer)
        act: Callable[[int], object] = {
            "suspend": lambda case_id: self.runtime.set_suspended(case_id, True, actor, text),
            "resume": lambda case_id: self.runtime.set_suspended(case_id, False, actor, text),
            "retry": lambda case_id: repair.retry_incidents(self.runtime, case_id, actor, text),
        }[action]
        outcomes = []
        for case_id in ids:
            try:
                act(case_id)
            except (FangtiaoError, MigrationRefused) as exc:
                outcomes.append(BulkOutcome(numbers[case_id], False, exc.message))
            else:
                outcomes.append(BulkOutcome(numbers[case_id], True, "完成"))
        return outcomes
