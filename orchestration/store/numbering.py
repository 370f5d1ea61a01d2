"""Sortable, gap-free numbers for cases and documents."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from orchestration.store.models import Counter


def next_value(session: Session, key: str) -> int:
    """One statement that creates or increments the counter and returns it: two transactions
    taking the first number of a new year at once must not both try to create the row."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Counter)
        .values(key=key, last=1)
        .on_conflict_do_update(index_elements=[Counter.key], set_={"last": Counter.last + 1})
        .returning(Counter.last)
    )
    return int(session.execute(statement).scalar_one())


def case_number(session: Session, year: int) -> str:
    return f"FT{year}-{next_value(session, f'case:{year}'):06d}"
