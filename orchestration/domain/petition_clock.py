"""The petition's own handling time limit, which mediation time does not count toward (实施意见 六(四))."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestration.domain.calendar import SHANGHAI, WorkingCalendar
from orchestration.store.models import ClockEvent

# 信访工作条例 art 34: concluded within 60 days of acceptance, extendable by at most 30 days.
HANDLING_DAYS = 60
EXTENSION_DAYS = 30


@dataclass(frozen=True)
class PetitionClock:
    started_at: datetime
    paused_days: int
    paused_since: datetime | None
    deadline: datetime | None  # None while paused: the remaining time is frozen
    extended_deadline: datetime | None
    estimated: bool  # part of the period, up to the extended deadline, lies in an estimated year


CHANGED = "petition_clock_changed"


def record(session: Session, case_id: int, kind: str, at: datetime) -> None:
    session.add(ClockEvent(case_id=case_id, kind=kind, at=at))
    # the runtime recomputes the stored deadline of these cases before the transaction ends
    session.info.setdefault(CHANGED, set()).add(case_id)


def events(session: Session, case_id: int) -> list[ClockEvent]:
    return list(
        session.scalars(select(ClockEvent).where(ClockEvent.case_id == case_id).order_by(ClockEvent.id))
    )


def is_paused(session: Session, case_id: int) -> bool:
    history = events(session, case_id)
    return bool(history) and history[-1].kind == "pause"


def compute(history: list[ClockEvent], calendar: WorkingCalendar) -> PetitionClock | None:
    """Whole calendar days from the pause date to the resume date are excluded from the count."""
    if not history or history[0].kind != "start":
        return None
    started = history[0].at
    paused_days = 0
    paused_since: datetime | None = None
    for event in history[1:]:
        if event.kind == "pause" and paused_since is None:
            paused_since = event.at
        elif event.kind == "resume" and paused_since is not None:
            paused_days += (
                event.at.astimezone(SHANGHAI).date() - paused_since.astimezone(SHANGHAI).date()
            ).days
            paused_since = None
    if paused_since is not None:
        return PetitionClock(started, paused_days, paused_since, None, None, False)
    deadline = calendar.add_days(started, HANDLING_DAYS + paused_days)
    extended = calendar.add_days(started, HANDLING_DAYS + EXTENSION_DAYS + paused_days)
    return PetitionClock(
        started, paused_days, None, deadline, extended, calendar.estimated_between(started, extended)
    )
