"""The administrators' instance list: every case the administrator's region holds, filtered by procedure
and version, status, organisation (with the regions below it), current step, overdue, period and case
number; sorted by a column and paged from where the last page ended (keyset), so that a page costs the
same at the thousandth page as at the first; and the count of each status under the same filters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import Session

from orchestration.domain.access import Viewer, region_subtree, visible_cases
from orchestration.domain.calendar import SHANGHAI
from orchestration.store.models import Case, Incident, OpenTask, Organisation, ProcessVersion, Region, Timer
from orchestration.vocabulary import CaseStatus, Role

# The statuses an administrator filters by: the stored ones, and two read from the case's rows.
TIMER = "timer"  # running, no task open, waiting on a timer
INCIDENT = "incident"  # an unresolved incident
STATUSES = (
    CaseStatus.RUNNING,
    TIMER,
    CaseStatus.SUSPENDED,
    INCIDENT,
    CaseStatus.COMPLETED,
    CaseStatus.TERMINATED,
)
SORTS = {"updated_at": Case.updated_at, "created_at": Case.created_at, "case_no": Case.case_no}
CASE_NO_START = re.compile(r"^[A-Z]{2}\d{4}-")  # FT2026-…: the start of a case number
PER_PAGE = 50
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class InstanceFilter:
    process_id: str | None = None
    version: int | None = None
    status: str | None = None
    org: str | None = None  # an organisation's code or a region's code: that region and every one below
    step: str | None = None  # the BPMN id of an open task
    overdue: bool = False
    since: date | None = None  # registered on or after (Beijing date)
    until: date | None = None  # registered on or before
    case_no: str | None = None  # a fragment of the number
    sort: str = "updated_at"
    descending: bool = True
    after: str | None = None  # the cursor of the last row of the page before
    per_page: int = PER_PAGE


@dataclass(frozen=True)
class InstanceRow:
    id: int
    case_no: str
    title: str
    process_id: str
    version: int
    status: str
    locality: str
    created_at: datetime
    updated_at: datetime
    steps: list[str]  # the titles of its open tasks
    overdue: bool
    timers: int
    incidents: int


@dataclass(frozen=True)
class InstancePage:
    rows: list[InstanceRow]
    next_cursor: str | None  # None on the last page
    counts: dict[str, int] = field(default_factory=dict)  # status -> cases under the other filters


def _has_timer() -> ColumnElement[bool]:
    return exists().where(Timer.case_id == Case.id)


def _has_incident() -> ColumnElement[bool]:
    return exists().where(Incident.case_id == Case.id, Incident.resolved_at.is_(None))


def status_clause(status: str) -> ColumnElement[bool]:
    if status == TIMER:
        return and_(Case.status == CaseStatus.RUNNING, Case.task_open == false(), _has_timer())
    if status == INCIDENT:
        # few cases have one: found from the incidents, not by probing every case
        return Case.id.in_(select(Incident.case_id).where(Incident.resolved_at.is_(None)))
    return Case.status == status


def _in_regions(session: Session, regions: set[str]) -> ColumnElement[bool]:
    """Cases registered in these regions (served by the index on locality, status and times, which
    holds all the list and its counts read); an administrator of the whole network needs no clause."""
    if regions >= set(session.scalars(select(Region.code))):
        return true()
    return Case.locality_code.in_(regions)


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """A task past its deadline, or the petition's own time limit past. Both found through their indexes:
    on SQLite a case's later columns sit behind its state (kilobytes of overflow pages), so a filter
    that reads them row by row is slow."""
    late_task = select(OpenTask.case_id).where(OpenTask.due_at < now)
    late_petition = select(Case.id).where(Case.petition_deadline < now)
    return and_(
        Case.status.in_((CaseStatus.RUNNING, CaseStatus.SUSPENDED)),
        or_(Case.id.in_(late_task), Case.id.in_(late_petition)),
    )


def _org_regions(session: Session, code: str) -> set[str]:
    region = session.scalar(select(Organisation.region_code).where(Organisation.code == code))
    if region is None and session.get(Region, code) is not None:
        region = code
    if region is None:
        return set()
    return region_subtree(session, region)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, SHANGHAI)


def _filtered(
    session: Session, viewer: Viewer, filters: InstanceFilter, now: datetime, with_status: bool
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [
        _in_regions(session, region_subtree(session, viewer.region_code))
        if viewer.role == Role.ADMIN and viewer.region_code is not None
        else visible_cases(session, viewer)
    ]
    if filters.process_id or filters.version is not None:
        versions = select(ProcessVersion.id)
        if filters.process_id:
            versions = versions.where(ProcessVersion.process_id == filters.process_id)
        if filters.version is not None:
            versions = versions.where(ProcessVersion.number == filters.version)
        chosen = set(session.scalars(versions))
        if chosen != set(session.scalars(select(ProcessVersion.id))):
            # a page walks its sort order (the version's index would have it sort all the version's
            # cases, read row by row); the counts are answered from that index alone
            version = func.coalesce(Case.version_id, 0) if with_status else Case.version_id
            clauses.append(version.in_(chosen))
    if with_status and filters.status:
        clauses.append(status_clause(filters.status))
    if filters.org:
        clauses.append(_in_regions(session, _org_regions(session, filters.org)))
    if filters.step:
        # a page walks the sort order and asks each case; the counts go from the step's tasks to their cases
        if with_status:
            clauses.append(exists().where(OpenTask.case_id == Case.id, OpenTask.task_name == filters.step))
        else:
            clauses.append(Case.id.in_(select(OpenTask.case_id).where(OpenTask.task_name == filters.step)))
    if filters.overdue:
        clauses.append(overdue_clause(now))
    if filters.since is not None:
        clauses.append(Case.created_at >= _start_of(filters.since))
    if filters.until is not None:
        clauses.append(Case.created_at < _start_of(filters.until + timedelta(days=1)))
    if filters.case_no and filters.case_no.strip():
        needle = filters.case_no.strip().upper()
        if CASE_NO_START.match(needle):
            # the start of a number: a range of the unique index rather than a look at every case
            clauses.append(and_(Case.case_no >= needle, Case.case_no < needle + "\uffff"))
        else:
            clauses.append(Case.case_no.contains(needle, autoescape=True))
    return clauses


def _cursor_value(sort: str, raw: str) -> Any:
    return datetime.fromisoformat(raw) if sort != "case_no" else raw


def encode_cursor(sort: str, row: InstanceRow) -> str:
    value = row.case_no if sort == "case_no" else getattr(row, sort).isoformat()
    return f"{row.id}~{value}"


def _after(filters: InstanceFilter) -> ColumnElement[bool]:
    """Rows after the cursor in the list's order: (sort value, id) beyond the last row shown."""
    if not filters.after:
        return true()
    raw_id, _, raw_value = filters.after.partition("~")
    try:
        last_id, value = int(raw_id), _cursor_value(filters.sort, raw_value)
    except ValueError:
        return true()  # a cursor that does not parse starts the list again rather than failing
    column = SORTS[filters.sort]
    if filters.descending:
        return or_(column < value, and_(column == value, Case.id < last_id))
    return or_(column > value, and_(column == value, Case.id > last_id))


def instance_query(session: Session, viewer: Viewer, filters: InstanceFilter, now: datetime) -> Select[Any]:
    column = SORTS.get(filters.sort, Case.updated_at)
    order = (column.desc(), Case.id.desc()) if filters.descending else (column.asc(), Case.id.asc())
    return (
        select(Case.id)
        .where(*_filtered(session, viewer, filters, now, True), _after(filters))
        .order_by(*order)
        .limit(min(max(filters.per_page, 1), MAX_PER_PAGE) + 1)
    )


def instance_page(
    session: Session, viewer: Viewer, filters: InstanceFilter, now: datetime, counts: bool = True
) -> InstancePage:
    if filters.sort not in SORTS:
        filters = InstanceFilter(**{**filters.__dict__, "sort": "updated_at"})
    size = min(max(filters.per_page, 1), MAX_PER_PAGE)
    ids = list(session.scalars(instance_query(session, viewer, filters, now)))
    more = len(ids) > size
    ids = ids[:size]
    rows = _rows(session, ids, now)
    next_cursor = encode_cursor(filters.sort, rows[-1]) if more and rows else None
    return InstancePage(rows, next_cursor, status_counts(session, viewer, filters, now) if counts else {})


def _rows(session: Session, ids: list[int], now: datetime) -> list[InstanceRow]:
    if not ids:
        return []
    cases = {
        row.id: row
        for row in session.execute(
            select(
                Case.id,
                Case.case_no,
                Case.title,
                Case.status,
                Case.created_at,
                Case.updated_at,
                Case.petition_deadline,
                ProcessVersion.process_id,
                ProcessVersion.number,
                Region.name,
            )
            .join(ProcessVersion, ProcessVersion.id == Case.version_id)
            .join(Region, Region.code == Case.locality_code)
            .where(Case.id.in_(ids))
        )
    }
    steps: dict[int, list[str]] = {}
    late: set[int] = set()
    for case_id, title, due_at in session.execute(
        select(OpenTask.case_id, OpenTask.title, OpenTask.due_at)
        .where(OpenTask.case_id.in_(ids))
        .order_by(OpenTask.created_at)
    ):
        steps.setdefault(case_id, []).append(title)
        if due_at is not None and due_at < now:
            late.add(case_id)
    timers = dict(
        session.execute(
            select(Timer.case_id, func.count()).where(Timer.case_id.in_(ids)).group_by(Timer.case_id)
        ).all()
    )
    incidents = dict(
        session.execute(
            select(Incident.case_id, func.count())
            .where(Incident.case_id.in_(ids), Incident.resolved_at.is_(None))
            .group_by(Incident.case_id)
        ).all()
    )
    result = []
    for case_id in ids:
        c = cases[case_id]
        unfinished = c.status in (CaseStatus.RUNNING, CaseStatus.SUSPENDED)
        petition_late = c.petition_deadline is not None and c.petition_deadline < now
        result.append(
            InstanceRow(
                id=c.id,
                case_no=c.case_no,
                title=c.title,
                process_id=c.process_id,
                version=c.number,
                status=c.status,
                locality=c.name,
                created_at=c.created_at,
                updated_at=c.updated_at,
                steps=steps.get(case_id, []),
                overdue=unfinished and (case_id in late or petition_late),
                timers=timers.get(case_id, 0),
                incidents=incidents.get(case_id, 0),
            )
        )
    return result


def status_counts(session: Session, viewer: Viewer, filters: InstanceFilter, now: datetime) -> dict[str, int]:
    """How many cases have each status under every filter but the status."""
    clauses = _filtered(session, viewer, filters, now, False)
    counts = {str(s): 0 for s in STATUSES}
    for status, count in session.execute(
        select(Case.status, func.count()).where(*clauses).group_by(Case.status)
    ):
        counts[status] = count
    # apart, not folded into the pass above: PostgreSQL then joins the tasks and timers (anti- and
    # semi-join) instead of probing them case by case, three times faster; SQLite is as fast either way
    for status in (TIMER, INCIDENT):
        counts[status] = session.scalar(select(func.count()).where(*clauses, status_clause(status))) or 0
    return counts


def selection(
    session: Session, viewer: Viewer, filters: InstanceFilter, now: datetime, limit: int
) -> list[int]:
    """The ids of every case under the filters (for a bulk action), at most `limit`, in the list's order."""
    column = SORTS.get(filters.sort, Case.updated_at)
    order = (column.desc(), Case.id.desc()) if filters.descending else (column.asc(), Case.id.asc())
    query = (
        select(Case.id).where(*_filtered(session, viewer, filters, now, True)).order_by(*order).limit(limit)
    )
    return list(session.scalars(query))


def processes(session: Session) -> list[tuple[str, int]]:
    """(process id, version number) of every deployed version."""
    return [
        (row.process_id, row.number)
        for row in session.execute(
            select(ProcessVersion.process_id, ProcessVersion.number).order_by(
                ProcessVersion.process_id, ProcessVersion.number
            )
        )
    ]
