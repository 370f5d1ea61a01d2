"""The audit log as administrators search it: by case number, acting user, action and period, newest
first, in pages or in batches for an export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from orchestration.domain.access import Viewer, visible_cases
from orchestration.domain.calendar import SHANGHAI
from orchestration.read.queries import Page, clamp_page
from orchestration.store.models import AuditEvent, Case


@dataclass(frozen=True)
class AuditFilter:
    case_no: str | None = None  # a part of the case number
    actor: str | None = None  # the acting user's name (or "system")
    action: str | None = None  # an AuditAction
    since: date | None = None  # first day (Beijing time), included
    until: date | None = None  # last day, included
    page: int = 1


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    case_no: str | None
    task_name: str | None
    detail: dict[str, Any]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def _query(session: Session, viewer: Viewer, filters: AuditFilter) -> Select[AuditEvent, str | None]:
    """Events of the cases the viewer sees, and events of no case (people, calendar, deployments)."""
    query = (
        select(AuditEvent, Case.case_no)
        .outerjoin(Case, Case.id == AuditEvent.case_id)
        .where(or_(AuditEvent.case_id.is_(None), visible_cases(session, viewer)))
    )
    if filters.case_no and filters.case_no.strip():
        query = query.where(Case.case_no.contains(filters.case_no.strip().upper(), autoescape=True))
    if filters.actor and filters.actor.strip():
        query = query.where(AuditEvent.actor == filters.actor.strip())
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.since:
        query = query.where(AuditEvent.at >= _start_of(filters.since))
    if filters.until:
        query = query.where(AuditEvent.at < _start_of(filters.until + timedelta(days=1)))
    return query


def _row(event: AuditEvent, case_no: str | None) -> AuditRow:
    return AuditRow(
        event.id, event.at, event.actor, event.action, case_no, event.task_name, dict(event.detail or {})
    )


def search(
    session: Session, viewer: Viewer, filters: AuditFilter, per_page: int | None = None
) -> Page[AuditRow]:
    page, size = clamp_page(filters.page, per_page)
    query = _query(session, viewer, filters)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.execute(query.order_by(AuditEvent.id.desc()).limit(size).offset((page - 1) * size))
    return Page([_row(event, case_no) for event, case_no in rows], total, page, size)


def batch(
    session: Session, viewer: Viewer, filters: AuditFilter, before_id: int | None, size: int
) -> list[AuditRow]:
    """The next `size` matching events below `before_id`, newest first: an export reads the log in these
    batches, each in a short session of its own, however long the log."""
    query = _query(session, viewer, filters)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    rows = session.execute(query.order_by(AuditEvent.id.desc()).limit(size))
    return [_row(event, case_no) for event, case_no in rows]
