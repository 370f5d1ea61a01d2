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
    started_at: datetime  # the petition office's acceptance (受理), not the registration
    paused_days: int
    paused_since: datetime | None
    deadline: datetime | None  # None while paused: the remaining time is frozen
    extended_deadline: datetime | None  # only once the office's responsible person extended it
    estimated: bool  # part of the period, up to the deadline, lies in an estimated year
    extended_at: datetime | None = None
    concluded_at: datetime | None = None  # 办结: the limit no longer runs

    @property
    def running(self) -> bool:
        """The limit runs: neither paused for mediation nor concluded."""
        return self.paused_since is None and self.concluded_at is None


CHANGED = "petition_clock_changed"
KINDS = ("start", "pause", "resume", "extend", "conclude")


def record(session: Session, case_id: int, kind: str, at: datetime, revision: int) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown petition clock event: {kind}")
    session.add(ClockEvent(case_id=case_id, kind=kind, at=at, revision=revision))
    # the runtime recomputes the stored deadline of these cases before the transaction ends
    session.info.setdefault(CHANGED, set()).add(case_id)


def undo_since(session: Session, case_id: int, revision: int) -> list[str]:
    """Removes the events recorded at `revision` or later (by steps a reset undid); returns their kinds."""
    undone = [event for event in events(session, case_id) if (event.revision or 0) >= revision]
    for event in undone:
        session.delete(event)
    if undone:
        session.info.setdefault(CHANGED, set()).add(case_id)
    return [event.kind for event in undone]


def events(session: Session, case_id: int) -> list[ClockEvent]:
    return list(
        session.scalars(select(ClockEvent).where(ClockEvent.case_id == case_id).order_by(ClockEvent.id))
    )


def is_paused(session: Session, case_id: int) -> bool:
    history = [event for event in events(session, case_id) if event.kind in ("pause", "resume")]
    return bool(history) and history[-1].kind == "pause"


def compute(history: list[ClockEvent], calendar: WorkingCalendar) -> PetitionClock | None:
    """Whole calendar days from the pause date to the resume date are excluded from the count; the
    60 days become 90 once extended (信访工作条例 art 34). Cases registered before the acceptance step
    existed started their clock at registration, the first event either way."""
    if not history or history[0].kind != "start":
        return None
    started = history[0].at
    paused_days = 0
    paused_since: datetime | None = None
    extended_at: datetime | None = None
    concluded_at: datetime | None = None
    for event in history[1:]:
        if event.kind == "pause" and paused_since is None:
            paused_since = event.at
        elif event.kind == "resume" and paused_since is not None:
            paused_days += max(
                0, (event.at.astimezone(SHANGHAI).date() - paused_since.astimezone(SHANGHAI).date()).days
            )
            paused_since = None
        elif event.kind == "extend" and extended_at is None:
            extended_at = event.at
        elif event.kind == "conclude" and concluded_at is None:
            concluded_at = event.at
    if paused_since is not None:
        return PetitionClock(started, paused_days, paused_since, None, None, False, extended_at, concluded_at)
    days = HANDLING_DAYS + (EXTENSION_DAYS if extended_at else 0) + paused_days
    deadline = calendar.add_days(started, days)
    return PetitionClock(
        started,
        paused_days,
        None,
        deadline,
        deadline if extended_at else None,
        calendar.estimated_between(started, deadline),
        extended_at,
        concluded_at,
    )


def extension(clock: PetitionClock | None, now: datetime) -> str | None:
    """Why the limit cannot be extended now (a Chinese sentence), or None when it can: only a running
    limit, once, and before it has expired."""
    if clock is None:
        return "信访事项尚未受理，办理期限尚未起算"
    if clock.concluded_at is not None:
        return "信访事项已办结，不能延长办理期限"
    if clock.paused_since is not None:
        return "信访事项调解期间办理期限暂停计算，调解结束后方可延长"
    if clock.extended_at is not None:
        return f"办理期限已延长{EXTENSION_DAYS}日，不能再次延长（信访工作条例第三十四条）"
    if clock.deadline is not None and now > clock.deadline:
        return "办理期限已届满，不能再延长"
    return None
