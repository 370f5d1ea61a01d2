"""Sortable, gap-free numbers for cases and documents."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestration.models import Counter


def next_value(session: Session, key: str) -> int:
    counter = session.scalar(select(Counter).where(Counter.key == key).with_for_update())
    if counter is None:
        counter = Counter(key=key, last=0)
        session.add(counter)
    counter.last += 1
    session.flush()
    return counter.last


def case_number(session: Session, year: int) -> str:
    return f"FT{year}-{next_value(session, f'case:{year}'):06d}"
