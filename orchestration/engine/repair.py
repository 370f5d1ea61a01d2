"""What an administrator does to repair a case, each in one locked transaction with its audit event:
terminate it, fire a pending timer now, or move it back to an earlier completed step.

Moving back is SpiffWorkflow's reset to a completed task: the steps after it are dropped, the task is
ready again with the data it was given when it became ready, and the documents issued since are
withdrawn (a `withdrawn` act beside each; documents are frozen and never deleted)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestration.domain import petition_clock
from orchestration.engine.derived import waiting_timers
from orchestration.engine.documents import superseded_ids, withdrawn_ids
from orchestration.engine.runtime import MAX_TIMER_ATTEMPTS, Actor, Runtime, case_data
from orchestration.errors import Conflict, NotFound
from orchestration.store.models import AuditEvent, Case, Document, DocumentAct, Incident, Timer
from orchestration.vocabulary import AuditAction, CaseStatus

WITHDRAWN = "withdrawn"  # the act written beside a document a reset withdrew


@dataclass(frozen=True)
class CompletedStep:
    """A user task the case has completed and could go back to."""

    task_id: str
    name: str  # BPMN id
    title: str


def completed_steps(workflow: BpmnWorkflow) -> list[CompletedStep]:
    """The completed user tasks, in the order they were completed (the latest last)."""
    done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED, manual=True) if t.task_spec.bpmn_id]
    done.sort(key=lambda t: t.last_state_change)
    return [CompletedStep(str(t.id), t.task_spec.bpmn_id or "", t.task_spec.bpmn_name or "") for t in done]


def _require(case: Case, doing: str) -> None:
    if case.status == CaseStatus.SUSPENDED:
        raise Conflict(f"案件已被暂停，请先恢复再{doing}")
    if case.status == CaseStatus.COMPLETED:
        raise Conflict(f"案件已办结，不能{doing}")
    if case.status == CaseStatus.TERMINATED:
        raise Conflict(f"案件已被终止，不能{doing}")


def terminate(runtime: Runtime, case_id: int, actor: Actor, reason: str) -> None:
    """Ends a running or suspended case for good: its open tasks and timers go, nothing of it runs again."""
    now = runtime.clock.now()
    with runtime._step(case_id) as step:
        session, case = step.session, step.locked
        if case.status in (CaseStatus.COMPLETED, CaseStatus.TERMINATED):
            raise Conflict("案件已办结，不能终止" if case.status == CaseStatus.COMPLETED else "案件已被终止")
        workflow, before = runtime._load(session, case, now, actor)
        previous = case.status
        workflow.cancel()
        runtime._save(session, case, workflow, now, before)
        case.status, case.completed_at = CaseStatus.TERMINATED, now
        case.petition_deadline = None  # nothing is handled any more: no warnings of its time limit
        runtime._audit(session, case, actor, AuditAction.TERMINATE, None, {"reason": reason, "was": previous})


def fire_timer(runtime: Runtime, case_id: int, timer_task_id: str, actor: Actor, reason: str) -> list[str]:
    """Fires a pending timer of a running case now, as if its due time had come; returns the automatic
    steps that followed."""
    now = runtime.clock.now()
    with runtime._step(case_id) as step:
        session, case = step.session, step.locked
        _require(case, "触发定时器")
        workflow, before = runtime._load(session, case, now, actor)
        timer = next((t for t in waiting_timers(workflow) if str(t.id) == timer_task_id), None)
        if timer is None:
            raise Conflict("该定时器已触发或已不存在，请刷新页面")
        name = timer.task_spec.bpmn_name or timer.task_spec.bpmn_id or ""
        due = timer.internal_data["event_value"]

        def fire() -> None:
            # the engine fires a timer once its time is strictly past
            timer.internal_data["event_value"] = (now - timedelta(microseconds=1)).isoformat()

        steps = runtime._run(workflow, fire)
        runtime._save(session, case, workflow, now, before)
        detail = {"reason": reason, "fired": [name], "was_due": str(due), "steps": steps}
        runtime._audit(session, case, actor, AuditAction.FIRE_TIMER, None, detail)
    return steps


def reset_to(runtime: Runtime, case_id: int, task_id: str, actor: Actor, reason: str) -> list[str]:
    """Moves a running case back to a user task it completed: that task is open again with the data it
    had then, the steps after it are undone, and the documents issued since are withdrawn. Returns the
    numbers of the documents withdrawn."""
    now = runtime.clock.now()
    with runtime._step(case_id) as step:
        session, case = step.session, step.locked
        _require(case, "退回")
        workflow, before = runtime._load(session, case, now, actor)
        try:
            target = workflow.get_task_from_id(UUID(task_id))
        except (TaskNotFoundException, ValueError) as exc:
            raise NotFound("案件中没有该环节，请刷新页面") from exc
        if target.state != TaskState.COMPLETED or not target.task_spec.manual:
            raise Conflict("只能退回到已办理完毕的人工环节")
        title = target.task_spec.bpmn_name or target.task_spec.bpmn_id or ""
        referenced_before = _strings(case_data(workflow))
        steps = runtime._run(workflow, lambda: _reset(workflow, target))
        since, revision = _completed_at(session, case.id, task_id)
        # the clock's pauses, resumptions, extensions and conclusion recorded since are undone with the
        # steps (completions audited before revisions were kept give no revision: nothing is undone)
        clock_undone = [] if revision is None else petition_clock.undo_since(session, case.id, revision)
        runtime._save(session, case, workflow, now, before)
        withdrawn = _withdraw(
            session,
            case,
            referenced_before - _strings(case_data(workflow)),
            since,
            now,
            actor,
            f"案件退回到“{title}”：{reason}",
        )
        detail = {
            "reason": reason,
            "to_task_id": task_id,
            "to": title,
            "withdrawn": [d.number for d in withdrawn],
            "clock_undone": clock_undone,
            "steps": steps,
        }
        runtime._audit(session, case, actor, AuditAction.RESET, target.task_spec.bpmn_id, detail)
        for document in withdrawn:
            runtime._audit(
                session,
                case,
                actor,
                AuditAction.WITHDRAW_DOCUMENT,
                None,
                {"document": document.id, "number": document.number, "reason": reason},
            )
        return [d.number for d in withdrawn]


def _reset(workflow: BpmnWorkflow, target: Task) -> None:
    # SpiffWorkflow 3.2 drops the undone tasks from the tree but leaves the events among them (a boundary
    # timer) registered with its event manager, which would then update a task without a parent
    for removed in workflow.reset_from_task_id(target.id):
        workflow.event_manager.remove_task(removed)


def _completed_at(session: Session, case_id: int, task_id: str) -> tuple[datetime | None, int | None]:
    """When the task was last completed (its audit event), the moment after which documents are later,
    and the revision that completion committed."""
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.case_id == case_id, AuditEvent.action == AuditAction.COMPLETE)
        .order_by(AuditEvent.id.desc())
    )
    event = next((e for e in events if (e.detail or {}).get("task_id") == task_id), None)
    if event is None:
        return None, None
    revision = (event.detail or {}).get("revision")
    return event.at, revision if isinstance(revision, int) else None


def _withdraw(
    session: Session,
    case: Case,
    forgotten: set[str],
    since: datetime | None,
    now: datetime,
    actor: Actor,
    why: str,
) -> list[Document]:
    """The documents in force that the case's data no longer names since the reset (issued by the steps
    undone), or that were issued after the task gone back to was completed, each marked withdrawn."""
    gone = superseded_ids(session, case.id) | withdrawn_ids(session, case.id)
    documents = session.scalars(select(Document).where(Document.case_id == case.id).order_by(Document.id))
    chosen = [
        d
        for d in documents
        if d.id not in gone and (d.number in forgotten or (since is not None and d.created_at > since))
    ]
    for document in chosen:
        session.add(
            DocumentAct(
                document_id=document.id,
                act=WITHDRAWN,
                content={"reason": why},
                at=now,
                actor=actor.username,
                actor_name=actor.display_name,
            )
        )
    return chosen


def _strings(value: Any) -> set[str]:
    found: set[str] = set()

    def walk(item: Any) -> None:
        if isinstance(item, str):
            found.add(item)
        elif isinstance(item, dict):
            for inner in item.values():
                walk(inner)
        elif isinstance(item, Iterable) and not isinstance(item, bytes):
            for inner in item:
                walk(inner)

    walk(value)
    return found


def retry_incidents(
    runtime: Runtime, case_id: int, actor: Actor, reason: str, incident_id: int | None = None
) -> list[int]:
    """Resolves the case's open incidents (or the one named) and makes its exhausted timers due now, so
    the worker tries them again; all of them or none. Returns the incidents retried."""
    now = runtime.clock.now()
    with runtime._step(case_id) as step:
        session, case = step.session, step.locked
        if case.status in (CaseStatus.COMPLETED, CaseStatus.TERMINATED):
            raise Conflict("案件已办结或已终止，无需重试")
        query = select(Incident).where(Incident.case_id == case_id, Incident.resolved_at.is_(None))
        if incident_id is not None:
            query = query.where(Incident.id == incident_id)
        incidents = list(session.scalars(query.order_by(Incident.id)))
        if not incidents:
            raise Conflict(
                "该案件没有待处理的故障事件" if incident_id is None else "该故障事件已处理或不存在"
            )
        for incident in incidents:
            incident.resolved_at, incident.resolved_by = now, actor.username
        for timer in session.scalars(select(Timer).where(Timer.case_id == case_id)):
            if timer.attempts >= MAX_TIMER_ATTEMPTS:
                timer.attempts, timer.due_at = 0, now
        retried = [i.id for i in incidents]
        runtime._audit(
            session, case, actor, AuditAction.RETRY, None, {"reason": reason, "incidents": retried}
        )
    return retried
