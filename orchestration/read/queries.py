"""Read-side queries for the web app and the API: task lists, done tasks, case search, deadlines,
notifications. Nothing here changes a case; marking notifications read is the one write."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from orchestration.domain import petition_clock
from orchestration.domain.access import Viewer, visible_cases
from orchestration.domain.calendar import WorkingCalendar
from orchestration.store.models import (
    AuditEvent,
    Case,
    Notification,
    NotificationRead,
    OpenTask,
    Timer,
    User,
)
from orchestration.vocabulary import AuditAction, CaseStatus, DueState

T = TypeVar("T")

PER_PAGE = 20
MAX_PER_PAGE = 100

OVERDUE, NEAR, NORMAL = DueState.OVERDUE, DueState.NEAR, DueState.NORMAL
DUE_STATES = (OVERDUE, NEAR, NORMAL)  # what a task list can be filtered by

# Audit actions that count as "a task I did" for 已办.
DONE_ACTIONS = (AuditAction.START, AuditAction.COMPLETE, AuditAction.RISK_REPORT)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def clamp_page(page: int | None, per_page: int | None = None) -> tuple[int, int]:
    size = min(max(per_page or PER_PAGE, 1), MAX_PER_PAGE)
    return max(page or 1, 1), size


def _paged(session: Session, query: Select[Any], page: int, per_page: int) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return rows, total


# ---- due states ---------------------------------------------------------------------------------


def near_limit(now: datetime, calendar: WorkingCalendar) -> datetime:
    """A task is 临期 while its due time is no later than the end of the next working day."""
    return calendar.add_working_days(now, 1)


def due_state(due_at: datetime | None, now: datetime, calendar: WorkingCalendar) -> str | None:
    if due_at is None:
        return None
    if due_at < now:
        return OVERDUE
    if due_at <= near_limit(now, calendar):
        return NEAR
    return NORMAL


def _due_clause(state: str, now: datetime, limit: datetime) -> ColumnElement[bool]:
    if state == OVERDUE:
        return OpenTask.due_at < now
    if state == NEAR:
        return and_(OpenTask.due_at >= now, OpenTask.due_at <= limit)
    return or_(OpenTask.due_at.is_(None), OpenTask.due_at > limit)


# ---- tasks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskFilter:
    step: str | None = None  # task_name
    case_no: str | None = None  # substring of the case number
    due: str | None = None  # overdue | near | normal
    page: int = 1
    per_page: int = PER_PAGE


@dataclass(frozen=True)
class TaskList:
    page: Page[OpenTask]
    counts: Mapping[str, int]  # all, overdue, near, normal
    steps: Sequence[tuple[str, str]]  # (task_name, title) present in the unfiltered list


def _my_tasks_query(viewer: Viewer) -> Select[Any]:
    return select(OpenTask).where(OpenTask.role == viewer.role, OpenTask.org_id == viewer.org_id)


def _team_tasks_query(viewer: Viewer) -> Select[Any]:
    return select(OpenTask).where(OpenTask.org_id == viewer.org_id)


def _task_list(
    session: Session, base: Select[Any], filters: TaskFilter, now: datetime, calendar: WorkingCalendar
) -> TaskList:
    limit = near_limit(now, calendar)
    scope = base.subquery()
    counts_row = session.execute(
        select(
            func.count(),
            func.sum(case((scope.c.due_at < now, 1), else_=0)),
            func.sum(case((and_(scope.c.due_at >= now, scope.c.due_at <= limit), 1), else_=0)),
        ).select_from(scope)
    ).one()
    total, overdue, near = (int(v or 0) for v in counts_row)
    counts = {"all": total, OVERDUE: overdue, NEAR: near, NORMAL: total - overdue - near}
    steps = [
        (name, title)
        for name, title in session.execute(
            select(scope.c.task_name, func.min(scope.c.title))
            .group_by(scope.c.task_name)
            .order_by(scope.c.task_name)
        )
    ]

    query = base
    if filters.step:
        query = query.where(OpenTask.task_name == filters.step)
    if filters.case_no:
        query = query.join(Case, Case.id == OpenTask.case_id).where(
            Case.case_no.contains(filters.case_no.strip().upper(), autoescape=True)
        )
    if filters.due in DUE_STATES:
        query = query.where(_due_clause(filters.due, now, limit))
    # Soonest due first; tasks without a deadline after all with one, oldest first among themselves.
    query = query.order_by(OpenTask.due_at.is_(None), OpenTask.due_at, OpenTask.created_at, OpenTask.id)
    # The list shows a case's number and title only: loading whole cases (their state runs to tens of
    # KB) into the sort would make the list cost grow with every case in the database.
    query = query.options(selectinload(OpenTask.case).load_only(Case.case_no, Case.title, Case.revision))
    page, per_page = clamp_page(filters.page, filters.per_page)
    items, filtered_total = _paged(session, query, page, per_page)
    return TaskList(Page(items, filtered_total, page, per_page), counts, steps)


def my_tasks(
    session: Session, viewer: Viewer, filters: TaskFilter, now: datetime, calendar: WorkingCalendar
) -> TaskList:
    """待办: the open tasks for the viewer's role in the viewer's organisation."""
    return _task_list(session, _my_tasks_query(viewer), filters, now, calendar)


def team_tasks(
    session: Session, viewer: Viewer, filters: TaskFilter, now: datetime, calendar: WorkingCalendar
) -> TaskList:
    """All open tasks of the viewer's organisation (what a leader reassigns)."""
    return _task_list(session, _team_tasks_query(viewer), filters, now, calendar)


def task_counts(session: Session, viewer: Viewer, now: datetime) -> tuple[int, int]:
    """(open, overdue) for the navigation bar; cheap: two aggregates on an indexed set."""
    scope = _my_tasks_query(viewer).subquery()
    total, overdue = session.execute(
        select(func.count(), func.sum(case((scope.c.due_at < now, 1), else_=0))).select_from(scope)
    ).one()
    return int(total or 0), int(overdue or 0)


@dataclass(frozen=True)
class DoneTask:
    event: AuditEvent
    case_no: str
    case_title: str


def done_tasks(session: Session, viewer: Viewer, page: int = 1, per_page: int = PER_PAGE) -> Page[DoneTask]:
    """已办: what the viewer registered, completed or reported, newest first, from the audit log."""
    page, per_page = clamp_page(page, per_page)
    base = (
        select(AuditEvent, Case.case_no, Case.title)
        .join(Case, Case.id == AuditEvent.case_id)
        .where(AuditEvent.actor == viewer.username, AuditEvent.action.in_(DONE_ACTIONS))
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page([DoneTask(event, no, title) for event, no, title in rows], total, page, per_page)


def claimable_users(session: Session, task: OpenTask) -> list[User]:
    """Who a leader may hand the task to: active users of the task's organisation and role."""
    return list(
        session.scalars(
            select(User)
            .where(User.org_id == task.org_id, User.role == task.role, User.active.is_(True))
            .order_by(User.display_name)
        )
    )


def user_names(
    session: Session, ids: set[int] | None = None, usernames: set[str] | None = None
) -> dict[Any, str]:
    """Display names by user id and/or username, for lists that store only one of them."""
    names: dict[Any, str] = {}
    if ids:
        for user_id, display in session.execute(select(User.id, User.display_name).where(User.id.in_(ids))):
            names[user_id] = display
    if usernames:
        query = select(User.username, User.display_name).where(User.username.in_(usernames))
        for username, display in session.execute(query):
            names[username] = display
    return names


# ---- cases --------------------------------------------------------------------------------------


def search_cases(
    session: Session,
    viewer: Viewer,
    text: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[Case]:
    """Cases the viewer may see, matching a case number or title fragment, newest activity first."""
    query = select(Case).where(visible_cases(session, viewer))
    if text and text.strip():
        needle = text.strip()
        query = query.where(
            or_(
                Case.case_no.contains(needle.upper(), autoescape=True),
                Case.title.contains(needle, autoescape=True),
            )
        )
    if status in tuple(CaseStatus):
        query = query.where(Case.status == status)
    query = query.order_by(Case.updated_at.desc(), Case.id.desc())
    page, per_page = clamp_page(page, per_page)
    items, total = _paged(session, query, page, per_page)
    return Page(items, total, page, per_page)


def case_by_number(session: Session, case_no: str) -> Case | None:
    return session.scalar(select(Case).where(Case.case_no == case_no.strip().upper()))


def open_tasks_of(session: Session, case_id: int) -> list[OpenTask]:
    return list(
        session.scalars(select(OpenTask).where(OpenTask.case_id == case_id).order_by(OpenTask.created_at))
    )


def audit_trail(session: Session, case_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.at, AuditEvent.id)
        )
    )


# ---- deadlines ----------------------------------------------------------------------------------

# A waiting timer of the diagram (by its name there) that is the deadline a handler also writes into the
# data: the timer is what fires, and a policy officer may change its period in the diagram, so while it
# waits its due time is the one shown, once, under the data deadline's label with the days it counts.
TIMER_DEADLINES: dict[str, tuple[str, str]] = {"调解期限届满": ("acceptance", "mediation_deadline")}
MEDIATION_LABEL = (
    "调解期限（受理之日起{days}；届满日为法定休假日的，顺延至其后第一个工作日，民法典第二百零三条）"
)
MAX_MEDIATION_DAYS = 60  # more than the 30 days the law allows in all, so any diagram's period is found

# (data key, nested key) -> (what the deadline is for, data keys whose presence means the step it limits
# is over). Anything else ending in "_deadline" is shown too, under its key, so that a deadline a policy
# officer adds to a handler is never silently hidden.
DATA_DEADLINES: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    # labelled by mediation_label with the days the diagram's timer counts
    ("acceptance", "mediation_deadline"): (MEDIATION_LABEL, ("agreement", "termination")),
    # 30 days are counted, never more; a last day on a rest day moves as every period's does (README)
    ("acceptance", "latest_deadline"): (
        "调解最长期限（含延长合计不超过30日，实施意见六(三)；届满日为法定休假日的，顺延至其后第一个工作日，民法典第二百零三条）",
        ("agreement", "termination"),
    ),
    ("agreement", "feedback_deadline"): ("调解成功结果反馈期限（{period}）", ("fed_back_on",)),
    # The parties' own period under 人民调解法 art 33; it runs whatever the procedure does.
    ("agreement", "judicial_confirmation_deadline"): ("申请司法确认期限（协议生效之日起30日）", ()),
    ("termination", "feedback_deadline"): ("调解不成功反馈期限（{period}）", ("fed_back_on",)),
}
# The feedback periods the handlers counted with before they wrote the diagram's with the deadline.
EARLIER_FEEDBACK_PERIODS = {"agreement": "5个工作日", "termination": "3个工作日"}
DONE = DueState.DONE  # a deadline whose step is over: shown for the record, no longer counted


@dataclass(frozen=True)
class Deadline:
    label: str
    due: datetime | None
    kind: str  # task | timer | data | petition
    state: str | None  # overdue | near | normal | done | None (no due)
    estimated: bool = False
    note: str = ""


@dataclass(frozen=True)
class PetitionClockView:
    clock: petition_clock.PetitionClock
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)


def _parse_moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _estimated(calendar: WorkingCalendar, start: datetime, due: datetime) -> bool:
    return calendar.estimated_between(min(start, due), max(start, due))


def _nested(data: Mapping[str, Any], path: tuple[str, str]) -> Any:
    outer = data.get(path[0])
    return outer.get(path[1]) if isinstance(outer, Mapping) else None


def mediation_label(calendar: WorkingCalendar, acceptance: Mapping[str, Any], due: datetime) -> str:
    """The mediation deadline's label with the days the diagram's timer counts from acceptance: those the
    handler wrote with the deadline (read from the timer) when `due` is that deadline; else (a timer that
    changed since, data of an older handler) the count that ends on `due`, and when a last day moved past
    rest days leaves it ambiguous (several counts end on the same working day), none rather than a wrong
    one."""
    days = acceptance.get("mediation_days")
    if isinstance(days, int) and _parse_moment(acceptance.get("mediation_deadline")) == due:
        return MEDIATION_LABEL.format(days=f"{days}日")
    accepted_at = _parse_moment(acceptance.get("accepted_at"))
    if accepted_at is not None:
        counts = [n for n in range(1, MAX_MEDIATION_DAYS + 1) if calendar.add_days(accepted_at, n) == due]
        if len(counts) == 1:
            return MEDIATION_LABEL.format(days=f"{counts[0]}日")
    return MEDIATION_LABEL.format(days="流程计时器所定期间届满")


def case_deadlines(
    session: Session,
    case: Case,
    data: Mapping[str, Any],
    calendar: WorkingCalendar,
    now: datetime,
) -> tuple[list[Deadline], PetitionClockView | None]:
    """Every deadline of the case: open tasks, waiting timers, deadlines in the data, the petition clock.

    A deadline in a year whose holiday schedule is not yet published is marked estimated: it will move
    when the State Council's notice is loaded.
    """
    items: list[Deadline] = []
    for task in open_tasks_of(session, case.id):
        if task.due_at is not None:
            items.append(
                Deadline(
                    f"待办“{task.title}”办理期限",
                    task.due_at,
                    "task",
                    due_state(task.due_at, now, calendar),
                    _estimated(calendar, task.created_at, task.due_at),
                )
            )
    timers = session.scalars(select(Timer).where(Timer.case_id == case.id).order_by(Timer.due_at))
    from_timers: dict[tuple[str, str], datetime] = {}
    for timer in timers:
        if timer.name in TIMER_DEADLINES and _parse_moment(_nested(data, TIMER_DEADLINES[timer.name])):
            from_timers[TIMER_DEADLINES[timer.name]] = timer.due_at
            continue
        items.append(
            Deadline(
                f"定时：{timer.name}",
                timer.due_at,
                "timer",
                due_state(timer.due_at, now, calendar),
                _estimated(calendar, now, timer.due_at),
            )
        )
    for key, value in data.items():
        if not isinstance(value, Mapping):
            continue
        for inner, raw in value.items():
            if not inner.endswith("_deadline"):
                continue
            due = _parse_moment(raw)
            if due is None:
                continue
            label, settled_by = DATA_DEADLINES.get((key, inner), (f"{key}.{inner}", ()))
            due = from_timers.get((key, inner), due)
            if label == MEDIATION_LABEL:
                label = mediation_label(calendar, value, due)
            elif key in EARLIER_FEEDBACK_PERIODS and inner == "feedback_deadline":
                # the period the diagram's timer counted when the deadline was written
                label = label.format(period=value.get("feedback_period") or EARLIER_FEEDBACK_PERIODS[key])
            closed = bool(settled_by) and case.status == CaseStatus.COMPLETED
            over = closed or any(data.get(name) for name in settled_by)
            state = DONE if over else due_state(due, now, calendar)
            items.append(Deadline(label, due, "data", state, _estimated(calendar, case.created_at, due)))
    items.sort(key=lambda d: (d.due is None, d.due or now))

    history = petition_clock.events(session, case.id)
    clock = petition_clock.compute(history, calendar)
    if clock is None:
        return items, None
    pauses: list[tuple[datetime, datetime | None]] = []
    for event in history[1:]:
        if event.kind == "pause":
            pauses.append((event.at, None))
        elif event.kind == "resume" and pauses and pauses[-1][1] is None:
            pauses[-1] = (pauses[-1][0], event.at)
    return items, PetitionClockView(clock, pauses)


# ---- notifications ------------------------------------------------------------------------------


def _notifications_for(viewer: Viewer) -> ColumnElement[bool]:
    # A notification goes to the people of an organisation who hold a role (or all of them: role None).
    return and_(
        Notification.org_id == viewer.org_id,
        or_(Notification.role.is_(None), Notification.role == viewer.role),
    )


@dataclass(frozen=True)
class NotificationItem:
    id: int
    case_id: int | None
    kind: str
    message: str
    created_at: datetime
    read: bool  # by this viewer: each person of the organisation and role reads for themselves


def _read_by(viewer: Viewer) -> ColumnElement[bool]:
    return (
        select(NotificationRead.notification_id)
        .where(
            NotificationRead.notification_id == Notification.id, NotificationRead.user_id == viewer.user_id
        )
        .exists()
    )


def notifications(
    session: Session, viewer: Viewer, unread_only: bool = False, page: int = 1, per_page: int = PER_PAGE
) -> Page[NotificationItem]:
    if viewer.org_id is None:
        return Page([], 0, 1, per_page)
    read = _read_by(viewer)
    query = select(Notification, read.label("read")).where(_notifications_for(viewer))
    if unread_only:
        query = query.where(~read)
    query = query.order_by(read, Notification.created_at.desc(), Notification.id.desc())
    page, per_page = clamp_page(page, per_page)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.execute(query.limit(per_page).offset((page - 1) * per_page))
    items = [NotificationItem(n.id, n.case_id, n.kind, n.message, n.created_at, bool(r)) for n, r in rows]
    return Page(items, total, page, per_page)


# The badge counts unread among an office's latest notifications, so its cost stays flat as the
# history grows; the notification list itself pages through everything.
UNREAD_WINDOW = 500


def unread_count(session: Session, viewer: Viewer) -> int:
    if viewer.org_id is None:
        return 0
    latest = (
        select(Notification.id)
        .where(_notifications_for(viewer))
        .order_by(Notification.id.desc())
        .limit(UNREAD_WINDOW)
        .subquery()
    )
    read = (
        select(NotificationRead.notification_id)
        .where(NotificationRead.notification_id == latest.c.id, NotificationRead.user_id == viewer.user_id)
        .exists()
    )
    return session.scalar(select(func.count()).select_from(latest).where(~read)) or 0


def mark_read(session: Session, viewer: Viewer, now: datetime, ids: Sequence[int] | None = None) -> int:
    """Marks the viewer's own unread notifications read (the given ones, or all); returns how many."""
    if viewer.org_id is None:
        return 0
    query = select(Notification.id).where(_notifications_for(viewer), ~_read_by(viewer))
    if ids is not None:
        query = query.where(Notification.id.in_(list(ids)))
    unread = list(session.scalars(query))
    session.add_all(NotificationRead(notification_id=i, user_id=viewer.user_id, read_at=now) for i in unread)
    return len(unread)
