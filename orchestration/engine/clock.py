"""The one source of "now" for the runtime, handlers and timers, so tests and scenarios can move time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as timer_module

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to; scenarios and tests use it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("时钟起点必须带时区")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("时钟时间必须带时区")
        self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class OffsetClock:
    """Real time, shifted: time passes as usual from a chosen moment (benchmarks, lateness tests)."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class _EngineDatetimeMeta(type):
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, datetime)


_SYSTEM_CLOCK = SystemClock()
_engine_clock: ContextVar[Clock] = ContextVar("engine_clock", default=_SYSTEM_CLOCK)


class _EngineDatetime(datetime, metaclass=_EngineDatetimeMeta):
    """SpiffWorkflow's timers call `datetime.now(timezone.utc)` with no hook; this stands in for the
    `datetime` name of that one module so timers fire by our clock."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        moment = _engine_clock.get().now()
        return moment.astimezone(tz) if tz is not None else moment


timer_module.datetime = _EngineDatetime  # type: ignore[attr-defined]


@contextmanager
def engine_clock(clock: Clock) -> Iterator[None]:
    token = _engine_clock.set(clock)
    try:
        yield
    finally:
        _engine_clock.reset(token)
