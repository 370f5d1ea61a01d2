"""Everything a handler may use, and the registry of the operations diagrams call.

Handler modules import this module and their siblings only. The engine gives each call a
`HandlerContext` over the open transaction and the locked case; a handler reads the case's facts and
the task data from it and acts through its methods, so it can be run and tested without a database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from orchestration.domain.calendar import SHANGHAI, WorkingCalendar
from orchestration.vocabulary import Role

__all__ = [
    "OPERATIONS",
    "PREFIX",
    "SHANGHAI",
    "EarlierCase",
    "HandlerContext",
    "HandlerError",
    "LocalOrganisations",
    "Operation",
    "Organisation",
    "Period",
    "Role",
    "WorkingCalendar",
    "call",
    "operation",
]


class HandlerError(Exception):
    """A handler refusing to go on; the message is Chinese and shown to the user as it is."""


@dataclass(frozen=True)
class Organisation:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class LocalOrganisations:
    """The organisations a locality belongs to (属地管理)."""

    petition_office: Organisation
    mediation_org: Organisation
    justice_org: Organisation


@dataclass(frozen=True)
class EarlierCase:
    case_no: str
    title: str


@dataclass(frozen=True)
class Period:
    """A period as a timer's expression counts it: `count` 日, 个工作日 or 个月 (`unit`), written as the law
    writes periods ("5个工作日")."""

    count: int
    unit: str

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"


class HandlerContext(Protocol):
    """One service task of one case, inside the step's transaction: what a handler does through it
    is stored with the step or not at all."""

    # ---- the step

    @property
    def now(self) -> datetime: ...

    @property
    def calendar(self) -> WorkingCalendar: ...

    @property
    def data(self) -> Mapping[str, Any]:
        """The task's data: everything the forms and earlier steps of the case put there."""

    @property
    def actor(self) -> str: ...

    @property
    def actor_name(self) -> str:
        """The display name of who acts (the leader who approved a letter is named on it)."""

    @property
    def task_name(self) -> str: ...

    # ---- the case, read only: change it through the methods below

    @property
    def case_no(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def petition_office_id(self) -> int | None: ...

    @property
    def mediation_org_id(self) -> int | None: ...

    @property
    def justice_org_id(self) -> int | None: ...

    @property
    def outcome(self) -> str | None: ...

    # ---- what handlers do

    def notify(self, org_id: int | None, role: str, kind: str, message: str) -> None:
        """An in-app notification to the people of the organisation who hold the role."""

    def issue_document(self, kind: str, content: Mapping[str, Any]) -> str:
        """Issues a document of a kind listed in `handlers.documents.KINDS`: numbered by its issuing
        body, its content and issuer frozen as they are now; returns the number it was given. The content
        must hold everything the document prints (names, not codes)."""

    def record_outcome(self, outcome: str) -> None: ...

    def assign_organisations(
        self,
        *,
        petition_office: int | None = None,
        mediation_org: int | None = None,
        justice_org: int | None = None,
    ) -> None:
        """Makes the given organisations (by id) the case's; those not given stay as they are."""

    def start_petition_clock(self, at: datetime) -> None:
        """The petition office accepted (受理) the petition on `at`: its 60 days count from then
        (信访工作条例 art 34)."""

    def pause_petition_clock(self) -> None:
        """Mediation time does not count toward the petition's handling limit (实施意见 六(四))."""

    def resume_petition_clock(self, at: datetime | None = None) -> None:
        """Mediation ended on `at` (the agreement's or the termination's date; now when not given)."""

    def conclude_petition(self, at: datetime) -> None:
        """The petition office concluded (办结) the petition on `at`: its limit no longer runs."""

    def petition_clock_paused(self) -> bool: ...

    # ---- the procedure

    def timer_due(self, event: str, data: Mapping[str, Any], *, rest_days: bool = True) -> datetime:
        """When the date timer of the event `event` (its id in the diagram the case runs) falls were `data`
        laid over the task's data: its expression evaluated as the engine evaluates it. A period a timer
        counts is the policy officer's to set in the diagram; this is how a handler names it in data and
        documents without a copy of its own. `rest_days=False` takes every day as a working day, so the last
        day is the one the expression names, never moved (民法典第二百零三条): its distance from the start
        is the period's length. Raises HandlerError when the diagram has no such timer or its expression
        fails for the data."""

    def timer_period(self, event: str, data: Mapping[str, Any]) -> Period:
        """The period the date timer of the event `event` counts were `data` laid over the task's data: the
        count and unit its expression's one deadline function is called with (`deadline_working_days(…, 5)`
        is 5个工作日), so that a document or message states the period in the diagram's own unit. Raises
        HandlerError as `timer_due` does, and when the expression counts no period or several."""

    # how many petitioners make a petition collective (集体访), as configured
    collective_headcount: int
    # the organisation of the user who submits the step (None for the system: timers)
    actor_org_id: int | None

    # ---- lookups; an unknown locality or organisation raises HandlerError

    def organisations_for(self, locality: str) -> LocalOrganisations: ...

    def organisations_above(self, org_id: int | None) -> LocalOrganisations:
        """The organisations of the level above the given organisation's region (township → county →
        city); raises HandlerError at the top or for an unknown organisation."""

    def mediation_org(self, code: str) -> Organisation: ...

    def earlier_cases(self, parties_key: str, outcomes: Sequence[str]) -> list[EarlierCase]:
        """Other cases of the same parties (by `handlers.eligibility.parties_key`) that ended in one of
        the outcomes, oldest first."""

    def running_cases(self, parties_key: str) -> list[EarlierCase]:
        """Other cases of the same parties still being handled, oldest first. Both this and
        `earlier_cases` also count as the same parties two cases whose ID numbers are both the same."""

    def petitioner_cases(self) -> list[EarlierCase]:
        """Other cases (any state) of the petitioner with the same ID number, oldest first; none when no
        ID number was given."""


Operation = Callable[..., Any]
# the namespace of our operations in `spiffworkflow:serviceTaskOperator`
PREFIX = "fangtiao/"

OPERATIONS: dict[str, Operation] = {}


def operation(name: str) -> Callable[[Operation], Operation]:
    """Registers a handler as the service operation `fangtiao/<name>`; the diagram's parameters
    arrive as keyword arguments after the context, and the result must be JSON-serialisable."""

    def register(fn: Operation) -> Operation:
        key = PREFIX + name
        if key in OPERATIONS:
            raise RuntimeError(f"service operation {key} registered twice")
        OPERATIONS[key] = fn
        return fn

    return register


def call(name: str, ctx: HandlerContext, params: Mapping[str, Any]) -> Any:
    fn = OPERATIONS.get(name)
    if fn is None:
        raise HandlerError(f"未知的服务操作：{name}")
    return fn(ctx, **params)
