"""The administrator's working-day calendar: single days, whole official years, and the deadlines
that move when it changes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from orchestration.domain.calendar import SHANGHAI
from orchestration.engine.runtime import CALENDAR_COUNTER, SYSTEM, Actor, Runtime
from orchestration.errors import InvalidData
from orchestration.store.models import AuditEvent, CalendarDay, OfficialYear, Timer
from orchestration.store.numbering import next_value


@dataclass(frozen=True)
class Recomputed:
    cases: int
    moved: int


def parse_schedule(year: int, text: str) -> dict[date, tuple[bool, str]]:
    """The State Council's notice for a year as JSON: {"holidays": {"2027-01-01": "元旦", …},
    "workdays": {"2027-02-20": "春节调休上班", …}}; returns every day of the year → (working, note)."""
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


def year_table(runtime: Runtime, year: int) -> list[dict[str, Any]]:
    """The days of a year that are not ordinary weekdays/weekends, with where the answer comes from."""
    with runtime.sessions() as session:
        calendar = runtime.calendar(session)
    rows = []
    day = date(year, 1, 1)
    while day.year == year:
        info = calendar.day_info(day)
        if info.is_working != (day.weekday() < 5) or info.name:
            rows.append(
                {
                    "date": day.isoformat(),
                    "working": info.is_working,
                    "name": info.name,
                    "source": info.source,
                }
            )
        day += timedelta(days=1)
    return rows
