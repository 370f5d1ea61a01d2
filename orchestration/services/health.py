"""Whether this process can work: the database answers, and how fresh the timer workers' heartbeats are;
and for administrators, the health panel: how late the due timers are, open incidents, overdue tasks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from orchestration.domain.access import Viewer, visible_cases
from orchestration.engine.runtime import MAX_TIMER_ATTEMPTS
from orchestration.services.base import Service, require_admin
from orchestration.store.db import error_summary
from orchestration.store.models import Case, Incident, OpenTask, Timer, WorkerHeartbeat
from orchestration.vocabulary import CaseStatus

UNREACHABLE = "数据库无法连接"
NOT_MIGRATED = "数据库可以连接，但读取工作进程心跳失败（数据库是否已升级？请执行 fangtiao migrate）"

# A worker beats every 5 s (engine/worker.py): six missed beats and it is taken for gone.
STALE_AFTER_SECONDS = 30.0

log = logging.getLogger("fangtiao.health")


@dataclass(frozen=True)
class WorkerStatus:
    id: str
    host: str
    pid: int
    started_at: datetime
    last_beat: datetime
    age_seconds: float
    last_error: str | None
    last_error_at: datetime | None


@dataclass(frozen=True)
class Health:
    error: str | None  # None: the database answers
    workers: list[WorkerStatus]  # the freshest heartbeat first

    @property
    def freshest_age(self) -> float | None:
        return self.workers[0].age_seconds if self.workers else None


@dataclass(frozen=True)
class HealthPanel:
    """What an administrator checks first. The counts are of the administrator's region, and None when
    the database could not answer."""

    health: Health
    due_timers: int | None  # due now and not fired (running cases, retries left)
    oldest_due: datetime | None  # the earliest due time among them
    lateness_seconds: float | None  # how late that one is, by the case clock
    incidents: int | None  # open incidents: timers that failed past their retries
    overdue_tasks: int | None

    @property
    def workers_stale(self) -> bool:
        age = self.health.freshest_age
        return age is None or age > STALE_AFTER_SECONDS


def database_outage(exc: BaseException) -> bool:
    """The database cannot be reached (or dropped the connection): a 503 to retry, not a fault."""
    return isinstance(exc, OperationalError | InterfaceError) or bool(
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


class HealthService(Service):
    def check(self, now: datetime | None = None) -> Health:
        """`SELECT 1`, then the heartbeats; a database error becomes a reason, never an exception."""
        now = now or datetime.now(UTC)  # heartbeats are real time, whatever clock the runtime keeps
        try:
            with self.reading() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.warning("健康检查：%s（%s）", UNREACHABLE, error_summary(exc))
            return Health(UNREACHABLE, [])
        try:
            with self.reading() as session:
                rows = list(
                    session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.last_beat.desc()))
                )
        except SQLAlchemyError as exc:
            log.warning("健康检查：%s（%s）", NOT_MIGRATED, error_summary(exc))
            return Health(NOT_MIGRATED, [])
        return _health(rows, now)

    def panel(self, viewer: Viewer) -> HealthPanel:
        require_admin(viewer)
        health = self.check()
        if health.error is not None:
            return HealthPanel(health, None, None, None, None, None)
        now = self.now()  # timers and tasks are due by the case clock
        with self.reading() as session:
            mine = select(Case.id).where(visible_cases(session, viewer))
            due, oldest = session.execute(
                select(func.count(), func.min(Timer.due_at))
                .join(Case, Case.id == Timer.case_id)
                .where(
                    Timer.due_at <= now,
                    Timer.attempts < MAX_TIMER_ATTEMPTS,
                    Case.status == CaseStatus.RUNNING,
                    Timer.case_id.in_(mine),
                )
            ).one()
            incidents = session.scalar(
                select(func.count())
                .select_from(Incident)
                .where(Incident.resolved_at.is_(None), Incident.case_id.in_(mine))
            )
            overdue = session.scalar(
                select(func.count())
                .select_from(OpenTask)
                .where(OpenTask.due_at < now, OpenTask.case_id.in_(mine))
            )
        lateness = round((now - oldest).total_seconds(), 1) if oldest is not None else None
        return HealthPanel(health, due or 0, oldest, lateness, incidents or 0, overdue or 0)


def _health(rows: list[WorkerHeartbeat], now: datetime) -> Health:
    return Health(
        None,
        [
            WorkerStatus(
                row.id,
                row.host,
                row.pid,
                row.started_at,
                row.last_beat,
                round((now - row.last_beat).total_seconds(), 1),
                row.last_error,
                row.last_error_at,
            )
            for row in rows
        ],
    )
