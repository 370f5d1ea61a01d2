"""The timer worker: fires due timers, on time, exactly once, beside any number of other workers."""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from types import FrameType

from orchestration.engine.runtime import Runtime

log = logging.getLogger("fangtiao.worker")

# Longest sleep between looks at the timer table: a timer written by another process while this
# one sleeps is picked up within this time, which bounds the lateness of firing.
POLL_SECONDS = 0.5
BUSY_RETRY_SECONDS = 0.02
# Petition time limits are days long; looking once a minute is plenty.
SWEEP_SECONDS = 60.0


@dataclass
class WorkerStats:
    fired: int = 0
    failed: int = 0
    lateness: list[float] = field(default_factory=list)


class TimerWorker:
    def __init__(self, runtime: Runtime, poll_seconds: float = POLL_SECONDS) -> None:
        self.runtime = runtime
        self.poll_seconds = poll_seconds
        self.stop = threading.Event()
        self.stats = WorkerStats()

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
        """Until stopped: fire what is due, then sleep until the next due time or the poll interval."""
        last_sweep: float | None = None
        while not self.stop.is_set():
            self.drain()
            if last_sweep is None or time.monotonic() - last_sweep >= SWEEP_SECONDS:
                self.runtime.warn_petition_deadlines()
                last_sweep = time.monotonic()
            next_due = self.runtime.next_due()
            wait = self.poll_seconds
            if next_due is not None:
                # A due timer left behind is on a case another transaction holds: look again soon.
                wait = min(
                    wait, max((next_due - self.runtime.clock.now()).total_seconds(), BUSY_RETRY_SECONDS)
                )
            self.stop.wait(wait)

    def stop_on_signals(self) -> None:
        """SIGTERM/SIGINT finish the current transaction, then stop."""

        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info("收到信号 %s，完成当前事务后停止", signum)
            self.stop.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)
