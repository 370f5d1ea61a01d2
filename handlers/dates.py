"""Dates a user types, checked before any deadline is counted from them: a Chinese refusal for a date in
the future or before the step it follows, so that nothing out of range (9999-12-31) reaches the calendar."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from handlers.api import SHANGHAI, HandlerContext, HandlerError


def cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def start_of(day: date) -> datetime:
    """The first moment of a day in Beijing time: a period counted from it starts the next day."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def day_of(value: Any) -> date | None:
    """An ISO date or a moment with its time zone, as the day in Beijing; None for anything else."""
    if isinstance(value, str) and value:
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment.astimezone(SHANGHAI).date() if moment.tzinfo else None
    return None


def typed(
    ctx: HandlerContext,
    value: Any,
    label: str,
    after: tuple[Any, str] | None = None,
    *,
    default_today: bool = False,
) -> date:
    """The typed date `value` (ISO), refused when missing or malformed, later than today, or earlier than
    the date of `after` (a date or moment, and what it is called)."""
    today = ctx.now.astimezone(SHANGHAI).date()
    if value in (None, "") and default_today:
        return today
    day = day_of(value)
    if day is None:
        raise HandlerError(f"{label}应为有效日期，如 {today.isoformat()}")
    if day > today:
        raise HandlerError(f"{label}（{cn(day)}）不能晚于今天（{cn(today)}）")
    if after is not None:
        earlier = day_of(after[0])
        if earlier is not None and day < earlier:
            raise HandlerError(f"{label}（{cn(day)}）不能早于{after[1]}（{cn(earlier)}）")
    return day
