"""Claiming, releasing and reassigning open tasks: each one transaction with the case row locked and an
audit event, so it serialises with task completion (which locks the same row first)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestration.domain.access import LEADER_ROLES
from orchestration.engine.runtime import Actor, Runtime
from orchestration.errors import Conflict, Forbidden, Gone, NotFound
from orchestration.store import audit
from orchestration.store.models import Case, OpenTask, User
from orchestration.vocabulary import AuditAction, Role


@dataclass(frozen=True)
class ClaimResult:
    task_id: str
    case_no: str
    title: str
    claimed_by: int | None
    claimed_by_name: str | None


@contextmanager
def _locked_task(runtime: Runtime, task_id: str) -> Iterator[tuple[Session, Case, OpenTask]]:
    with runtime.transaction() as session:
        # Lock order matches Runtime.complete_task (case row, then its tasks) so the two never deadlock.
        case_id = select(OpenTask.case_id).where(OpenTask.id == task_id).scalar_subquery()
        case = session.scalar(select(Case).where(Case.id == case_id).with_for_update())
        if case is None:
            raise Gone()
        task = session.scalar(
            select(OpenTask)
            .where(OpenTask.id == task_id)
            .with_for_update(of=OpenTask)
            .execution_options(populate_existing=True)
        )
        if task is None or task.case_id != case.id:
            raise Gone()
        yield session, case, task


def _audit(
    session: Session,
    runtime: Runtime,
    case: Case,
    task: OpenTask,
    actor: Actor,
    action: AuditAction,
    **detail: object,
) -> None:
    audit.record(
        session,
        runtime.clock.now(),
        actor.username,
        action,
        case.id,
        task.task_name,
        task_id=task.id,
        title=task.title,
        **detail,
    )


def _name(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return user.display_name if user else None


def _result(session: Session, case: Case, task: OpenTask) -> ClaimResult:
    return ClaimResult(task.id, case.case_no, task.title, task.claimed_by, _name(session, task.claimed_by))


def _check_holder(task: OpenTask, actor: Actor) -> None:
    if actor.role != task.role or actor.org_id != task.org_id:
        raise Forbidden("您无权办理该任务")


def claim(runtime: Runtime, task_id: str, actor: Actor) -> ClaimResult:
    """The actor takes the task: colleagues of the same role see it as taken and cannot complete it."""
    with _locked_task(runtime, task_id) as (session, case, task):
        _check_holder(task, actor)
        if task.claimed_by == actor.user_id:
            return _result(session, case, task)
        if task.claimed_by is not None:
            raise Conflict(f"该任务已由{_name(session, task.claimed_by) or '他人'}认领")
        task.claimed_by = actor.user_id
        _audit(session, runtime, case, task, actor, AuditAction.CLAIM)
        return _result(session, case, task)


def release(runtime: Runtime, task_id: str, actor: Actor) -> ClaimResult:
    """The claimer gives the task back to the pool; a leader of the organisation may do so for them."""
    with _locked_task(runtime, task_id) as (session, case, task):
        is_leader = actor.role in LEADER_ROLES and actor.org_id == task.org_id
        if not is_leader:
            _check_holder(task, actor)
        if task.claimed_by is None:
            return _result(session, case, task)
        if task.claimed_by != actor.user_id and not is_leader:
            raise Forbidden("只能释放自己认领的任务")
        previous = task.claimed_by
        task.claimed_by = None
        _audit(session, runtime, case, task, actor, AuditAction.RELEASE, previous=_name(session, previous))
        return _result(session, case, task)


def reassign(runtime: Runtime, task_id: str, actor: Actor, username: str) -> ClaimResult:
    """A leader hands the task to a named colleague holding the task's role in the same organisation."""
    with _locked_task(runtime, task_id) as (session, case, task):
        if actor.role not in LEADER_ROLES or actor.org_id != task.org_id:
            raise Forbidden("只有本机构的分管领导可以改派任务")
        target = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        if target is None:
            raise NotFound(f"用户不存在：{username}")
        if target.org_id != task.org_id or target.role != task.role:
            raise Forbidden(f"{target.display_name}不是本机构负责该任务的人员，不能改派")
        if task.claimed_by == target.id:
            return _result(session, case, task)
        previous = task.claimed_by
        task.claimed_by = target.id
        _audit(
            session,
            runtime,
            case,
            task,
            actor,
            AuditAction.REASSIGN,
            to=target.username,
            to_name=target.display_name,
            previous=_name(session, previous),
        )
        return _result(session, case, task)


def admin_reassign(
    runtime: Runtime, task_id: str, actor: Actor, username: str | None, reason: str
) -> ClaimResult:
    """An administrator hands the task to a named user holding the task's role in its organisation, or
    (no username) back to that organisation's pool, whatever the case's state; with the reason given."""
    with _locked_task(runtime, task_id) as (session, case, task):
        if actor.role != Role.ADMIN:
            raise Forbidden("只有系统管理员可以这样改派任务")
        previous = task.claimed_by
        if username is None:
            if previous is None:
                raise Conflict("该任务未被认领，已在待认领任务中")
            task.claimed_by = None
            _audit(
                session,
                runtime,
                case,
                task,
                actor,
                AuditAction.RELEASE,
                previous=_name(session, previous),
                reason=reason,
            )
            return _result(session, case, task)
        target = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        if target is None:
            raise NotFound(f"用户不存在或已停用：{username}")
        if target.org_id != task.org_id or target.role != task.role:
            raise Conflict(f"{target.display_name}不是该任务所属机构中负责该环节的人员，不能改派")
        if previous == target.id:
            raise Conflict(f"该任务已由{target.display_name}认领")
        task.claimed_by = target.id
        _audit(
            session,
            runtime,
            case,
            task,
            actor,
            AuditAction.REASSIGN,
            to=target.username,
            to_name=target.display_name,
            previous=_name(session, previous),
            reason=reason,
        )
        return _result(session, case, task)
