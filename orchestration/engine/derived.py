"""The rows a workflow state implies: open user tasks (who may act, due when) and waiting timers.

They are derived from the state before and after a step, and only the difference is written, so a
step never reads these rows back from the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from orchestration.domain.assignment import assignee
from orchestration.store.models import Case, OpenTask, Timer


@dataclass(frozen=True)
class TaskRow:
    task_name: str
    title: str
    form_name: str | None
    role: str
    org_id: int | None
    due_at: datetime | None


@dataclass(frozen=True)
class Derived:
    tasks: dict[str, TaskRow]
    timers: dict[str, tuple[str, datetime]]  # task id -> (name, due)


def derive(workflow: BpmnWorkflow, case: Case) -> Derived:
    tasks = {}
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        spec = task.task_spec
        role, org_id = assignee(spec.lane, case)
        tasks[str(task.id)] = TaskRow(
            task_name=spec.bpmn_id,
            title=spec.bpmn_name or spec.bpmn_id,
            form_name=spec.extensions.get("properties", {}).get("formName"),
            role=role,
            org_id=org_id,
            due_at=_due_at(task),
        )
    timers = {
        str(t.id): (t.task_spec.bpmn_name or t.task_spec.bpmn_id, event_time(t))
        for t in waiting_timers(workflow)
    }
    return Derived(tasks, timers)


def write_open_tasks(session: Session, case: Case, before: Derived, after: Derived, now: datetime) -> None:
    gone = before.tasks.keys() - after.tasks.keys()
    if gone:
        session.execute(delete(OpenTask).where(OpenTask.id.in_(gone)))
    new = [
        {"id": task_id, "case_id": case.id, "created_at": now, **row.__dict__}
        for task_id, row in after.tasks.items()
        if task_id not in before.tasks
    ]
    if new:
        session.execute(insert(OpenTask), new)
    for task_id in before.tasks.keys() & after.tasks.keys():
        old, current = before.tasks[task_id], after.tasks[task_id]
        if old != current:
            # a step moves a deadline or the organisation; a migration may change anything of the task
            changed = {k: v for k, v in current.__dict__.items() if getattr(old, k) != v}
            session.execute(
                update(OpenTask)
                .where(OpenTask.id == task_id)
                .values(**changed)
                .execution_options(synchronize_session=False)
            )


def write_timers(session: Session, case: Case, before: Derived, after: Derived) -> None:
    gone = before.timers.keys() - after.timers.keys()
    if gone:
        session.execute(delete(Timer).where(Timer.case_id == case.id, Timer.task_id.in_(gone)))
    new = [
        {"case_id": case.id, "task_id": task_id, "name": name, "due_at": due}
        for task_id, (name, due) in after.timers.items()
        if task_id not in before.timers
    ]
    if new:
        session.execute(insert(Timer), new)
    for task_id in before.timers.keys() & after.timers.keys():
        if before.timers[task_id][1] != after.timers[task_id][1]:
            # a timer in retry backoff keeps its own next attempt time
            session.execute(
                update(Timer)
                .where(Timer.case_id == case.id, Timer.task_id == task_id, Timer.attempts == 0)
                .values(due_at=after.timers[task_id][1])
                .execution_options(synchronize_session=False)
            )


def event_time(task: Task) -> datetime:
    return TimerEventDefinition.get_datetime(task.internal_data["event_value"])


def _is_timer(task: Task) -> bool:
    return (
        isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)
        and "event_value" in task.internal_data
    )


def waiting_timers(workflow: BpmnWorkflow) -> list[Task]:
    return [t for t in workflow.get_tasks(state=TaskState.WAITING) if _is_timer(t)]


def _due_at(task: Task) -> datetime | None:
    """A user task is due when the latest timer on its boundary is: earlier ones are warnings
    (a deadline near), and a deadline stays the deadline after its warning has fired."""
    times = [event_time(sibling) for sibling in task.parent.children if _is_timer(sibling)]
    return max(times) if times else None
