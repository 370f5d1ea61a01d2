"""Deadline functions for timer expressions: ISO-8601 strings in and out, as SpiffWorkflow's timers need."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from handlers.api import WorkingCalendar


def _parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"期限起算时间缺少时区：{value}")
    return moment


def timer_functions(calendar: WorkingCalendar) -> dict[str, Callable[[str, int], str]]:
    """Names visible to timer expressions, gateway conditions and scripts in the diagrams."""

    def deadline_days(start: str, days: int) -> str:
        return calendar.add_days(_parse(start), days).isoformat()

    def deadline_working_days(start: str, days: int) -> str:
        return calendar.add_working_days(_parse(start), days).isoformat()

    def deadline_months(start: str, months: int) -> str:
        return calendar.add_months(_parse(start), months).isoformat()

    def warning_time(deadline: str, working_days: int) -> str:
        return calendar.warning_time(_parse(deadline), working_days).isoformat()

    return {
        "warning_time": warning_time,
        "deadline_days": deadline_days,
        "deadline_working_days": deadline_working_days,
        "deadline_months": deadline_months,
    }
