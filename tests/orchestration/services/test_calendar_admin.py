"""The calendar as administrators keep it: each year's days and their source, a day's entry, a year's
notice loaded, and before either is saved, the pending deadlines it would move, computed without writing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from orchestration.engine.clock import SHANGHAI, FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.errors import Forbidden, InvalidData
from orchestration.services.calendar_admin import CalendarService, parse_schedule
from orchestration.store.models import AuditEvent, CalendarDay, Case, Counter, OfficialYear, Timer
from tests.helpers import advance_to, start, viewer

# The 2027 notice as the tests take it: 01-04 is a rest day too, Saturday 01-09 a make-up working day.
NOTICE = '{"holidays": {"2027-01-01": "元旦", "2027-01-04": "元旦"}, "workdays": {"2027-01-09": "元旦调休"}}'
DEADLINE = datetime(2027, 1, 4, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def calendar(runtime: Runtime) -> CalendarService:
    return CalendarService(runtime)


def stored(runtime: Runtime) -> dict[str, Any]:
    """Everything a calendar change writes."""
    with runtime.sessions() as session:
        return {
            "days": list(session.execute(select(CalendarDay.day, CalendarDay.is_working, CalendarDay.note))),
            "official": list(session.scalars(select(OfficialYear.year))),
            "counters": list(session.execute(select(Counter.key, Counter.last))),
            "timers": list(
                session.execute(select(Timer.case_id, Timer.name, Timer.due_at).order_by(Timer.id))
            ),
            "revisions": list(session.execute(select(Case.id, Case.revision, Case.state))),
            "audit": session.scalar(select(func.count()).select_from(AuditEvent)),
        }


@pytest.fixture
def mediating(runtime: Runtime, clock: FrozenClock) -> int:
    """A case accepted for mediation on 2026-12-17: 15 days end on 2027-01-01, a holiday, so the
    deadline is Monday 2027-01-04 (and its warning the working day before)."""
    clock.set(datetime(2026, 12, 17, 10, 0, tzinfo=SHANGHAI))
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    with runtime.sessions() as session:
        due = session.scalar(
            select(Timer.due_at).where(Timer.case_id == case_id, Timer.name == "调解期限届满")
        )
    assert due == DEADLINE
    return case_id


def test_a_year_lists_its_days_and_where_each_comes_from(
    runtime: Runtime, calendar: CalendarService, clock: FrozenClock
) -> None:
    official = calendar.year(2026)
    assert not official.estimated and official.loaded_at is None
    days = {row.day: row for row in official.days}
    assert (days[date(2026, 10, 1)].working, days[date(2026, 10, 1)].name) == (False, "国庆节")
    assert days[date(2026, 10, 1)].source == "official"
    assert (
        days[date(2026, 9, 20)].working and days[date(2026, 9, 20)].source == "official"
    )  # a make-up Sunday
    assert date(2026, 10, 12) not in days  # an ordinary Monday is not listed

    estimated = calendar.year(2027)
    assert estimated.estimated
    assert {row.source for row in estimated.days} == {"estimate"}
    assert any(row.name == "春节" for row in estimated.days)

    admin = viewer(runtime, "admin")
    calendar.set_day(admin, date(2027, 2, 20), True, "春节调休上班")
    row = next(r for r in calendar.year(2027).days if r.day == date(2027, 2, 20))
    assert (row.working, row.note, row.source) == (True, "春节调休上班", "admin")

    calendar.load_year(admin, 2027, parse_schedule(2027, NOTICE))
    loaded = calendar.year(2027)
    assert not loaded.estimated and loaded.loaded_at == clock.now()
    assert [(r.day, r.working, r.note) for r in loaded.days] == [
        (date(2027, 1, 1), False, "元旦"),
        (date(2027, 1, 4), False, "元旦"),
        (date(2027, 1, 9), True, "元旦调休"),
    ]


def test_loading_a_year_is_previewed_without_writing_then_moves_what_the_preview_said(
    runtime: Runtime, calendar: CalendarService, mediating: int
) -> None:
    admin = viewer(runtime, "admin")
    days = parse_schedule(2027, NOTICE)
    before = stored(runtime)
    preview = calendar.preview_year(admin, 2027, days)
    assert stored(runtime) == before  # nothing written, not even the calendar's revision

    changes = [(c.day, c.working, c.note) for c in preview.changes]
    assert changes[:2] == [(date(2027, 1, 4), False, "元旦"), (date(2027, 1, 9), True, "元旦调休")]
    # the weekday holidays the estimate assumed and this (short) notice does not list become working days
    estimated_rest = {
        r.day for r in calendar.year(2027).days if not r.working and r.day.month > 1 and r.day.weekday() < 5
    }
    assert len(estimated_rest) > 5
    assert {(day, working) for day, working, _ in changes[2:]} == {(day, True) for day in estimated_rest}
    moves = sorted((m.timer, m.before, m.after, m.days) for m in preview.moves)
    assert moves == [
        (
            "调解期限临近",
            datetime(2027, 1, 4, 0, 0, tzinfo=SHANGHAI),
            datetime(2027, 1, 5, 0, 0, tzinfo=SHANGHAI),
            1,
        ),
        ("调解期限届满", DEADLINE, datetime(2027, 1, 5, 23, 59, 59, tzinfo=SHANGHAI), 1),
    ]
    with runtime.sessions() as session:
        case_no = session.scalar(select(Case.case_no).where(Case.id == mediating))
    assert {m.case_no for m in preview.moves} == {case_no}

    result = calendar.load_year(admin, 2027, days)
    assert (result.cases, result.moved) == (1, 2)
    with runtime.sessions() as session:
        timers = sorted(session.execute(select(Timer.name, Timer.due_at).where(Timer.case_id == mediating)))
    assert [(name, due) for name, _, due, _ in moves] == [(name, due) for name, due in timers]
    assert calendar.preview_year(admin, 2027, days).moves == []  # saved: nothing left to move


def test_a_days_entry_is_previewed_then_saved(
    runtime: Runtime, calendar: CalendarService, mediating: int
) -> None:
    admin = viewer(runtime, "admin")
    before = stored(runtime)
    preview = calendar.preview_day(admin, date(2027, 1, 4), False, "元旦调休")
    assert stored(runtime) == before
    assert [(c.day, c.working) for c in preview.changes] == [(date(2027, 1, 4), False)]
    assert sorted(m.days for m in preview.moves) == [1, 1]
    # a day that changes nothing moves nothing
    assert calendar.preview_day(admin, date(2027, 1, 5), True, "").changes == []
    assert calendar.preview_day(admin, date(2027, 1, 5), True, "").moves == []

    assert calendar.set_day(admin, date(2027, 1, 4), False, "元旦调休").moved == 2
    with runtime.sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "calendar"))
        assert event is not None and event.actor == "admin"
        assert event.detail == {"day": "2027-01-04", "working": False, "note": "元旦调休"}


def test_the_notice_is_due_from_november_while_next_year_is_estimated(
    runtime: Runtime, calendar: CalendarService, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 10, 31, 23, 0, tzinfo=SHANGHAI))
    assert calendar.notice_due() is None
    clock.set(datetime(2026, 11, 1, 0, 30, tzinfo=SHANGHAI))
    assert calendar.notice_due() == 2027
    calendar.load_year(viewer(runtime, "admin"), 2027, parse_schedule(2027, NOTICE))
    assert calendar.notice_due() is None


def test_bad_entries_are_refused_in_chinese_and_nothing_is_written(
    runtime: Runtime, calendar: CalendarService
) -> None:
    admin = viewer(runtime, "admin")
    before = stored(runtime)
    with pytest.raises(InvalidData, match="说明不能超过200个字符"):
        calendar.set_day(admin, date(2027, 1, 4), False, "长" * 201)
    with pytest.raises(InvalidData, match="年份须在2000至2100之间"):
        calendar.preview_day(admin, date(1999, 1, 4), False, "")
    for text, message in (
        ("not json", "日历文件格式错误"),
        ('{"holidays": {"2027-13-01": "元旦"}}', "日历文件格式错误"),
        ('{"holidays": []}', "日历文件格式错误"),
        ('{"holidays": {"2026-10-01": "国庆节"}}', "不属于2027年"),
        ('{"holidays": {"2027-01-01": "元旦"}, "workdays": {"2027-01-01": "上班"}}', "同时列为放假和上班"),
        ('{"workdays": {"2027-01-09": "上班"}}', "没有列出任何放假日期"),
        ('{"holidays": {"2027-01-01": "' + "长" * 201 + '"}}', "说明不能超过200个字符"),
    ):
        with pytest.raises(InvalidData, match=message):
            parse_schedule(2027, text)
    assert stored(runtime) == before


def test_only_administrators_change_or_preview_the_calendar(
    runtime: Runtime, calendar: CalendarService
) -> None:
    days = parse_schedule(2027, NOTICE)
    before = stored(runtime)
    for username in ("clerk", "leader", "mediator", "justice", "policy"):
        someone = viewer(runtime, username)
        with pytest.raises(Forbidden, match="不是系统管理员"):
            calendar.preview_day(someone, date(2027, 1, 4), False, "")
        with pytest.raises(Forbidden, match="不是系统管理员"):
            calendar.set_day(someone, date(2027, 1, 4), False, "")
        with pytest.raises(Forbidden, match="不是系统管理员"):
            calendar.preview_year(someone, 2027, days)
        with pytest.raises(Forbidden, match="不是系统管理员"):
            calendar.load_year(someone, 2027, days)
    assert stored(runtime) == before
