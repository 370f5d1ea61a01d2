"""Deadline functions for timer expressions: ISO strings in and out, counted on the working-day calendar."""

from __future__ import annotations

import pytest

from handlers.api import WorkingCalendar
from handlers.deadlines import timer_functions

FUNCTIONS = timer_functions(WorkingCalendar())
MONDAY = "2026-11-02T09:00:00+08:00"


def test_the_functions_the_diagrams_may_call() -> None:
    assert set(FUNCTIONS) == {"deadline_days", "deadline_working_days", "deadline_months", "warning_time"}


@pytest.mark.parametrize(
    ("name", "start", "n", "expected"),
    [
        ("deadline_days", MONDAY, 3, "2026-11-05T23:59:59+08:00"),
        ("deadline_days", MONDAY, 5, "2026-11-09T23:59:59+08:00"),  # day 5 is a Saturday
        ("deadline_days", "2026-09-16T10:00:00+08:00", 15, "2026-10-08T23:59:59+08:00"),  # National Day
        ("deadline_working_days", MONDAY, 5, "2026-11-09T23:59:59+08:00"),
        ("deadline_working_days", "2026-09-30T10:00:00+08:00", 3, "2026-10-10T23:59:59+08:00"),  # 调休
        ("deadline_months", "2026-11-30T09:00:00+08:00", 1, "2026-12-30T23:59:59+08:00"),
        ("deadline_months", "2027-01-31T09:00:00+08:00", 1, "2027-03-01T23:59:59+08:00"),  # 28 Feb: Sunday
        ("warning_time", "2026-11-17T23:59:59+08:00", 1, "2026-11-17T00:00:00+08:00"),
        ("warning_time", "2026-11-16T23:59:59+08:00", 2, "2026-11-13T00:00:00+08:00"),  # back over a weekend
    ],
)
def test_deadline_functions(name: str, start: str, n: int, expected: str) -> None:
    assert FUNCTIONS[name](start, n) == expected


def test_the_start_day_is_read_in_china_whatever_the_offset() -> None:
    # 17:00 UTC on 1 November is already 2 November in China
    assert FUNCTIONS["deadline_days"]("2026-11-01T17:00:00+00:00", 3) == "2026-11-05T23:59:59+08:00"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_a_time_without_a_zone_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="期限起算时间缺少时区：2026-11-02T09:00:00"):
        FUNCTIONS[name]("2026-11-02T09:00:00", 1)
