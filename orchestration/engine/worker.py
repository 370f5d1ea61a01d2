"""The timer worker: fires due timers, on time, exactly once, beside any number of other workers.

It outlives the database: an error (the server restarting, the network gone) is logged and the worker
tries again after a pause that doubles up to half a minute, so timers fire again once the database is
back, without anyone restarting it. Every few seconds it writes a heartbeat row, which /healthz reads.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import FrameType

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError

from orchestration import logs
from orchestration.engine.runtime import Runtime
from orchestration.store.db import error_summary
from orchestration.store.models import WorkerHeartbeat

log = logging.getLogger("fangtiao.worker")

# Longest sleep between looks at the timer table: a timer written by another process while this
# one sleeps is picked up within this time, which bounds the lateness of firing.
POLL_SECONDS = 0.5
BUSY_RETRY_SECONDS = 0.02
# Petition time limits are days long; looking once a minute is plenty.
SWEEP_SECONDS = 60.0
HEARTBEAT_SECONDS = 5.0
# After an error: the first retry soon (a dropped connection is often back at once), then doubling up to
# a bound, so a database back after a long outage is used again within half a minute.
BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0
# A heartbeat this old is of a worker long gone; a starting worker removes it.
FORGET_AFTER = timedelta(days=1)


@dataclass
class WorkerStats:
    fired: int = 0
    failed: int = 0
    lateness: list[float] = field(default_factory=list)
    errors: int = 0  # errors the loop survived (database unreachable, …)
    last_error: str | None = None


class TimerWorker:
    def __init__(
        self,
        runtime: Runtime,
        poll_seconds: float = POLL_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.runtime = runtime
        self.poll_seconds = poll_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.stop = threading.Event()
        self.stats = WorkerStats()
        self.id = uuid.uuid4().hex[:12]
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.started_at = datetime.now(UTC)
        self._last_error_at: datetime | None = None
        self._last_beat: float | None = None
        self._last_sweep: float | None = None

    def drain(self) -> int:
        """Fires everything due now; returns the number of timers fired."""
        fired = 0
        while not self.stop.is_set():
            result = self.runtime.fire_next()
            if result is None:
                break
            if result.error:
                self.stats.failed += 1
                log.warning("案件 %s 定时器触发失败：%s", result.case_id, result.error)
                continue
            if result.fired:
                fired += len(result.fired)
                self.stats.fired += len(result.fired)
                self.stats.lateness.append(result.lateness)
        return fired

    def run(self) -> None:
        """Until stopped: fire what is due, then sleep until the next due time or the poll interval;
        after an error, log it and pause (backing off) instead of ending."""
        with logs.bound(logs.worker_id, self.id):
            log.info("定时器工作进程启动：主机 %s，进程 %s", self.host, self.pid)
            backoff = 0.0
            while not self.stop.is_set():
                try:
                    wait = self._round()
                except Exception as exc:
                    first = not backoff
                    backoff = BACKOFF_FIRST_SECONDS if first else min(backoff * 2, BACKOFF_MAX_SECONDS)
                    self._survive(exc, backoff, first)
                    self.stop.wait(backoff)
                    continue
                if backoff:
                    log.info("已恢复，继续触发定时器")
                    backoff = 0.0
                self.stop.wait(wait)
            self._sign_off()
            log.info("定时器工作进程停止：触发 %s 个，失败 %s 次", self.stats.fired, self.stats.failed)

    def _round(self) -> float:
        """One look at the database: the heartbeat and the deadline sweep when due, the due timers;
        returns how long to sleep."""
        if self._last_beat is None or time.monotonic() - self._last_beat >= self.heartbeat_seconds:
            self.beat()
            self._last_beat = time.monotonic()
        self.drain()
        if self._last_sweep is None or time.monotonic() - self._last_sweep >= SWEEP_SECONDS:
            self.runtime.warn_petition_deadlines()
            self._last_sweep = time.monotonic()
        next_due = self.runtime.next_due()
        wait = self.poll_seconds
        if next_due is not None:
            # A due timer left behind is on a case another transaction holds: look again soon.
            wait = min(wait, max((next_due - self.runtime.clock.now()).total_seconds(), BUSY_RETRY_SECONDS))
        return wait

    def beat(self) -> None:
        """Writes this worker's heartbeat (real time, whatever clock the runtime keeps)."""
        now = datetime.now(UTC)
        with self.runtime.transaction() as session:
            row = session.get(WorkerHeartbeat, self.id)
            if row is None:
                session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.last_beat < now - FORGET_AFTER))
                row = WorkerHeartbeat(
                    id=self.id, host=self.host[:255], pid=self.pid, started_at=self.started_at
                )
                session.add(row)
            row.last_beat = now
            row.last_error, row.last_error_at = self.stats.last_error, self._last_error_at

    def _survive(self, exc: Exception, backoff: float, first: bool) -> None:
        self.stats.errors += 1
        self.stats.last_error = error_summary(exc)
        self._last_error_at = datetime.now(UTC)
        self._last_beat = None  # the first round that works records the error in the heartbeat
        what = "数据库错误" if isinstance(exc, SQLAlchemyError) else "定时器工作进程出错"
        if first:
            log.error("%s，%.1f 秒后重试：%s", what, backoff, self.stats.last_error, exc_info=exc)
        else:
            log.warning("%s仍未解除，%.1f 秒后重试：%s", what, backoff, self.stats.last_error)

    def _sign_off(self) -> None:
        """A worker that stops cleanly takes its heartbeat away, so /healthz lists only those that run
        (or died: their heartbeat ages)."""
        try:
            with self.runtime.transaction() as session:
                session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.id == self.id))
        except SQLAlchemyError as exc:
            log.warning("无法删除心跳记录：%s", error_summary(exc))

    def stop_on_signals(self) -> None:
        """SIGTERM/SIGINT finish the current transaction, then stop."""

        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info("收到信号 %s，完成当前事务后停止", signum)
            self.stop.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)
