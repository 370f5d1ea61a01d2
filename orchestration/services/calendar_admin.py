"""The administrator's working-day calendar: each year's rest and make-up working days and where each
answer comes from, single days, whole official years from the State Council's notice, which pending
deadlines a change would move (before it is saved), and moving them once it is."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from orchestration.domain.access import Viewer
from orchestration.domain.calendar import SHANGHAI, SOURCE_ADMIN, WorkingCalendar
from orchestration.engine.runtime import CALENDAR_COUNTER, SYSTEM, Actor, Runtime
from orchestration.errors import InvalidData
from orchestration.services.base import Service, actor_of, require_admin
from orchestration.store.models import AuditEvent, CalendarDay, OfficialYear, Timer
from orchestration.store.numbering import next_value

MAX_NOTE = 200  # CalendarDay.note
FIRST_YEAR, LAST_YEAR = 2000, 2100
# From this month on, next year's notice is due (it usually appears in November or December).
NOTICE_MONTH = 11


@dataclass(frozen=True)
class Recomputed:
    cases: int
    moved: int


@dataclass(frozen=True)
class DayRow:
    day: date
    working: bool
    name: str | None  # the holiday as the libraries name it (a make-up day: the holiday it pays for)
    note: str  # the administrator's note, if the day is their entry
    source: str  # admin | official | estimate (orchestration.domain.calendar)


@dataclass(frozen=True)
class YearView:
    year: int
    estimated: bool
    loaded_at: datetime | None  # when an administrator loaded the year's official notice
    days: list[DayRow]  # the days off the weekly rhythm, or named, or noted


@dataclass(frozen=True)
class DayChange:
    day: date
    working: bool  # what it becomes
    note: str


@dataclass(frozen=True)
class DeadlineMove:
    case_no: str
    timer: str
    before: datetime
    after: datetime

    @property
    def days(self) -> int:
        """By how many calendar days (negative: earlier)."""
        return (self.after.astimezone(SHANGHAI).date() - self.before.astimezone(SHANGHAI).date()).days


@dataclass(frozen=True)
class Preview:
    """What saving would do: the days whose status changes, and the pending deadlines that move."""

    changes: list[DayChange]
    moves: list[DeadlineMove]


def parse_schedule(year: int, text: str) -> dict[date, tuple[bool, str]]:
    """The State Council's notice for a year as JSON: {"holidays": {"2027-01-01": "元旦", …},
    "workdays": {"2027-02-20": "春节调休上班", …}}; returns every day of the year → (working, note)."""
    check_year(year)
    try:
        document = json.loads(text)
        holidays = {date.fromisoformat(k): str(v) for k, v in document.get("holidays", {}).items()}
        workdays = {date.fromisoformat(k): str(v) for k, v in document.get("workdays", {}).items()}
    except (json.JSONDecodeError, AttributeError, TypeError, ValueError) as exc:
        raise InvalidData(f"日历文件格式错误：{exc}") from exc
    outside = sorted(d.isoformat() for d in [*holidays, *workdays] if d.year != year)
    if outside:
        raise InvalidData(f"日历文件含有不属于{year}年的日期：{'、'.join(outside)}")
    both = sorted(d.isoformat() for d in holidays.keys() & workdays.keys())
    if both:
        raise InvalidData(f"以下日期同时列为放假和上班：{'、'.join(both)}")
    if not holidays:
        raise InvalidData("日历文件没有列出任何放假日期")
    for note in [*holidays.values(), *workdays.values()]:
        check_note(note)
    days: dict[date, tuple[bool, str]] = {}
    day = date(year, 1, 1)
    while day.year == year:
        if day in holidays:
            days[day] = (False, holidays[day])
        elif day in workdays:
            days[day] = (True, workdays[day])
        else:
            days[day] = (day.weekday() < 5, "")
        day += timedelta(days=1)
    return days


def check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidData(f"年份须在{FIRST_YEAR}至{LAST_YEAR}之间")


def check_note(note: str) -> None:
    if len(note) > MAX_NOTE:
        raise InvalidData(f"说明不能超过{MAX_NOTE}个字符：{note[:20]}…")


def _changed(session: Session) -> None:
    """Tells every runtime (in every process) to rebuild its calendar."""
    next_value(session, CALENDAR_COUNTER)


def set_day(runtime: Runtime, day: date, working: bool, note: str, actor: Actor) -> Recomputed:
    with runtime.transaction() as session:
        row = session.get(CalendarDay, day)
        if row is None:
            session.add(CalendarDay(day=day, is_working=working, note=note))
        else:
            row.is_working, row.note = working, note
        _changed(session)
        session.add(
            AuditEvent(
                at=runtime.clock.now(),
                actor=actor.username,
                action="calendar",
                detail={"day": day.isoformat(), "working": working, "note": note},
            )
        )
    return recompute_from(runtime, day, actor)


def load_year(runtime: Runtime, year: int, days: Mapping[date, tuple[bool, str]], actor: Actor) -> Recomputed:
    """Replaces the year's entries with the official schedule, marks the year as no longer
    estimated, and moves every pending deadline that may depend on it."""
    now = runtime.clock.now()
    with runtime.transaction() as session:
        session.execute(
            delete(CalendarDay).where(
                CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
            )
        )
        session.add_all(CalendarDay(day=d, is_working=w, note=n) for d, (w, n) in days.items())
        if session.get(OfficialYear, year) is None:
            session.add(OfficialYear(year=year, loaded_at=now))
        _changed(session)
        session.add(
            AuditEvent(
                at=now, actor=actor.username, action="calendar", detail={"year": year, "official": True}
            )
        )
    return recompute_from(runtime, date(year, 1, 1), actor)


def recompute_from(runtime: Runtime, day: date, actor: Actor = SYSTEM) -> Recomputed:
    """A deadline counted forward depends only on the days up to it, so only timers due on or after
    the changed day can move."""
    since = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    with runtime.sessions() as session:
        case_ids = list(session.scalars(select(Timer.case_id).where(Timer.due_at >= since).distinct()))
    moved = sum(len(runtime.recompute_deadlines(case_id, actor)) for case_id in case_ids)
    return Recomputed(len(case_ids), moved)


def year_view(runtime: Runtime, year: int) -> YearView:
    """The days of a year that are not ordinary weekdays and weekends, named or noted, with where each
    answer comes from."""
    check_year(year)
    with runtime.sessions() as session:
        calendar = runtime.calendar(session)
        rows = session.execute(
            select(CalendarDay.day, CalendarDay.note).where(
                CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
            )
        )
        notes = {day: note for day, note in rows}
        loaded = session.get(OfficialYear, year)
        loaded_at = loaded.loaded_at if loaded else None
    listed = []
    for day in _days_of(year):
        info = calendar.day_info(day)
        note = notes.get(day) or ""
        # an administrator's day is described by their note, not by the libraries' guess of a name
        name = None if info.source == SOURCE_ADMIN else info.name
        if info.is_working != (day.weekday() < 5) or name or note:
            listed.append(DayRow(day, info.is_working, name, note, info.source))
    return YearView(year, calendar.is_estimated(year), loaded_at, listed)


def _days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def preview(
    runtime: Runtime, days: Mapping[date, tuple[bool, str]], official_year: int | None = None
) -> Preview:
    """What saving these days (and, for a loaded notice, marking the year official) would change,
    computed with the would-be calendar and written nowhere."""
    since = datetime.combine(min(days), time(0), tzinfo=SHANGHAI)
    with runtime.sessions() as session:
        current = runtime.calendar(session)
        overrides = {row.day: row.is_working for row in session.scalars(select(CalendarDay))}
        official = set(session.scalars(select(OfficialYear.year)))
        case_ids = list(session.scalars(select(Timer.case_id).where(Timer.due_at >= since).distinct()))
    if official_year is not None:
        # a loaded notice replaces the year's entries, as load_year does
        overrides = {day: working for day, working in overrides.items() if day.year != official_year}
        official.add(official_year)
    overrides.update({day: working for day, (working, _) in days.items()})
    would_be = WorkingCalendar(overrides, official)
    changes = [
        DayChange(day, working, note)
        for day, (working, note) in sorted(days.items())
        if current.is_working_day(day) != working
    ]
    moves = [DeadlineMove(*move) for move in runtime.preview_deadlines(case_ids, would_be)]
    return Preview(changes, moves)


class CalendarService(Service):
    """The calendar as administrators keep it (reading it is open to all: it is the public schedule)."""

    def year(self, year: int) -> YearView:
        return year_view(self.runtime, year)

    def notice_due(self) -> int | None:
        """The next year, when its official schedule is due (from November on) and still estimated."""
        today = self.now().astimezone(SHANGHAI).date()
        if today.month < NOTICE_MONTH:
            return None
        with self.reading() as session:
            estimated = self.calendar(session).is_estimated(today.year + 1)
        return today.year + 1 if estimated else None

    def preview_day(self, viewer: Viewer, day: date, working: bool, note: str) -> Preview:
        require_admin(viewer)
        check_year(day.year)
        check_note(note)
        return preview(self.runtime, {day: (working, note)})

    def set_day(self, viewer: Viewer, day: date, working: bool, note: str) -> Recomputed:
        require_admin(viewer)
        check_year(day.year)
        check_note(note)
        return set_day(self.runtime, day, working, note, actor_of(viewer))

    def preview_year(self, viewer: Viewer, year: int, days: Mapping[date, tuple[bool, str]]) -> Preview:
        require_admin(viewer)
        return preview(self.runtime, days, official_year=year)

    def load_year(self, viewer: Viewer, year: int, days: Mapping[date, tuple[bool, str]]) -> Recomputed:
        require_admin(viewer)
        return load_year(self.runtime, year, days, actor_of(viewer))
