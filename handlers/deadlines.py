"""Deadline functions for timer expressions: ISO-8601 strings in and out, as SpiffWorkflow's timers need."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from handlers.api import Period, WorkingCalendar


def _parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"期限起算时间缺少时区：{value}")
    return moment


def timer_functions(
    calendar: WorkingCalendar, counted: list[Period] | None = None
) -> dict[str, Callable[[str, int], str]]:
    """Names visible to timer expressions, gateway conditions and scripts in the diagrams. Each period a
    deadline function counts is appended to `counted` when given: how a document learns the period an
    expression states."""

    def count(days: int, unit: str) -> None:
        if counted is not None:
            counted.append(Period(days, unit))

    def deadline_days(start: str, days: int) -> str:
        count(days, "日")
        return calendar.add_days(_parse(start), days).isoformat()

    def deadline_working_days(start: str, days: int) -> str:
        count(days, "个工作日")
        return calendar.add_working_days(_parse(start), days).isoformat()

    def deadline_months(start: str, months: int) -> str:
        count(months, "个月")
        return calendar.add_months(_parse(start), months).isoformat()

    def warning_time(deadline: str, working_days: int) -> str:
        return calendar.warning_time(_parse(deadline), working_days).isoformat()

    return {
        "warning_time": warning_time,
        "deadline_days": deadline_days,
        "deadline_working_days": deadline_working_days,
        "deadline_months": deadline_months,
    }
