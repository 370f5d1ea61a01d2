"""Whether this process can work: the database answers, and how fresh the timer workers' heartbeats are."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from orchestration.services.base import Service
from orchestration.store.db import error_summary
from orchestration.store.models import WorkerHeartbeat

UNREACHABLE = "数据库无法连接"
NOT_MIGRATED = "数据库可以连接，但读取工作进程心跳失败（数据库是否已升级？请执行 fangtiao migrate）"

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
