"""A `HandlerContext` without a database: facts are plain fields, effects are recorded in lists.
tests/handlers/test_api.py keeps it to the protocol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import handlers.operations  # noqa: F401  (registers the operations)
from handlers.api import (
    SHANGHAI,
    EarlierCase,
    HandlerError,
    LocalOrganisations,
    Organisation,
    Period,
    WorkingCalendar,
    call,
)
from orchestration.domain.procedure import read_directories
from orchestration.engine.script_engine import Timers, date_timers
from orchestration.engine.specs import parse_files
from orchestration.settings import PROJECT_ROOT
from tests.orchestration.services.procedure_edits import MEDIATION_DEADLINE, TEN_DAYS

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday, with the 2026 schedule published

PETITION_OFFICE = Organisation(1, "540102001-xf", "八廓街道信访办")
MEDIATION_COMMITTEE = Organisation(2, "540102001-tw", "八廓街道人民调解委员会")
JUSTICE_OFFICE = Organisation(3, "540102001-sf", "八廓街道司法所")
OTHER_COMMITTEE = Organisation(4, "540103001-tw", "东嘎街道人民调解委员会")
COUNTY = LocalOrganisations(
    Organisation(5, "540102-xf", "城关区信访局"),
    Organisation(6, "540102-tj", "城关区人民调解工作指导中心"),
    Organisation(7, "540102-sf", "城关区司法局"),
)
LOCALITY = "540102001"
# the shipped procedure's date timers by event id: what `timer_due` evaluates unless a test edits them
_SPEC, _SUBPROCESSES = parse_files(read_directories(PROJECT_ROOT / "processes", PROJECT_ROOT / "forms"))
SHIPPED_TIMERS: Mapping[str, str] = date_timers([_SPEC, *_SUBPROCESSES.values()])


@dataclass(frozen=True)
class Notice:
    org_id: int | None
    role: str
    kind: str
    message: str


@dataclass(frozen=True)
class Issued:
    kind: str
    number: str
    content: Mapping[str, Any]


@dataclass(frozen=True)
class OtherCase:
    """Another case of the database, as `earlier_cases` filters it."""

    parties_key: str
    case_no: str
    title: str
    outcome: str | None
    running: bool = False


@dataclass
class FakeContext:
    data: Mapping[str, Any] = field(default_factory=dict)
    now: datetime = NOW
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    actor: str = "clerk"
    actor_name: str = "王芳"
    task_name: str = "service_task"
    case_no: str = "FT2026-000001"
    title: str = "宅基地院墙纠纷"
    petition_office_id: int | None = PETITION_OFFICE.id
    mediation_org_id: int | None = MEDIATION_COMMITTEE.id
    justice_org_id: int | None = JUSTICE_OFFICE.id
    outcome: str | None = None
    collective_headcount: int = 5
    actor_org_id: int | None = PETITION_OFFICE.id  # registered at the locality's own petition office
    petitioner_history: Sequence[OtherCase] = ()  # the cases `petitioner_cases` finds
    mediation_orgs: Sequence[Organisation] = (MEDIATION_COMMITTEE, OTHER_COMMITTEE)
    localities: Mapping[str, LocalOrganisations] = field(
        default_factory=lambda: {
            LOCALITY: LocalOrganisations(PETITION_OFFICE, MEDIATION_COMMITTEE, JUSTICE_OFFICE)
        }
    )
    other_cases: Sequence[OtherCase] = ()
    timers: Mapping[str, str] = field(default_factory=lambda: dict(SHIPPED_TIMERS))
    # org id -> the organisations of the level above it
    upper_levels: Mapping[int, LocalOrganisations] = field(
        default_factory=lambda: {JUSTICE_OFFICE.id: COUNTY}
    )
    # what the handler did
    notices: list[Notice] = field(default_factory=list)
    documents: list[Issued] = field(default_factory=list)
    clock_events: list[str] = field(default_factory=list)
    clock_times: list[datetime] = field(default_factory=list)

    def notify(self, org_id: int | None, role: str, kind: str, message: str) -> None:
        self.notices.append(Notice(org_id, role, kind, message))

    def issue_document(self, kind: str, content: Mapping[str, Any]) -> str:
        number = f"{kind}-{len(self.documents) + 1}"
        self.documents.append(Issued(kind, number, dict(content)))
        return number

    def record_outcome(self, outcome: str) -> None:
        self.outcome = outcome

    def assign_organisations(
        self,
        *,
        petition_office: int | None = None,
        mediation_org: int | None = None,
        justice_org: int | None = None,
    ) -> None:
        if petition_office is not None:
            self.petition_office_id = petition_office
        if mediation_org is not None:
            self.mediation_org_id = mediation_org
        if justice_org is not None:
            self.justice_org_id = justice_org

    def start_petition_clock(self, at: datetime) -> None:
        self.clock_events.append("start")
        self.clock_times.append(at)

    def pause_petition_clock(self) -> None:
        self.clock_events.append("pause")
        self.clock_times.append(self.now)

    def resume_petition_clock(self, at: datetime | None = None) -> None:
        self.clock_events.append("resume")
        self.clock_times.append(at or self.now)

    def conclude_petition(self, at: datetime) -> None:
        self.clock_events.append("conclude")
        self.clock_times.append(at)

    def petition_clock_paused(self) -> bool:
        return bool(self.clock_events) and self.clock_events[-1] == "pause"

    def timer_due(self, event: str, data: Mapping[str, Any], *, rest_days: bool = True) -> datetime:
        return Timers(self.timers, self.calendar, self.data).due(event, data, rest_days=rest_days)

    def timer_period(self, event: str, data: Mapping[str, Any]) -> Period:
        return Timers(self.timers, self.calendar, self.data).period(event, data)

    def organisations_for(self, locality: str) -> LocalOrganisations:
        if locality not in self.localities:
            raise HandlerError(f"未知的属地：{locality}")
        return self.localities[locality]

    def organisations_above(self, org_id: int | None) -> LocalOrganisations:
        if org_id not in self.upper_levels:
            raise HandlerError("已是最高一级，无法再提请上一级会商")
        return self.upper_levels[org_id]

    def mediation_org(self, code: str) -> Organisation:
        for org in self.mediation_orgs:
            if org.code == code:
                return org
        raise HandlerError(f"未知的机构：{code}")

    def earlier_cases(self, parties_key: str, outcomes: Sequence[str]) -> list[EarlierCase]:
        return [
            EarlierCase(case.case_no, case.title)
            for case in self.other_cases
            if case.parties_key == parties_key and case.outcome in outcomes
        ]

    def petitioner_cases(self) -> list[EarlierCase]:
        return [EarlierCase(case.case_no, case.title) for case in self.petitioner_history]

    def running_cases(self, parties_key: str) -> list[EarlierCase]:
        return [
            EarlierCase(case.case_no, case.title)
            for case in self.other_cases
            if case.parties_key == parties_key and case.running
        ]

    def only_document(self) -> Issued:
        (document,) = self.documents
        return document


def ten_day_timers() -> dict[str, str]:
    """The shipped timers with the mediation period changed from 15 to 10 days, as a policy officer would."""
    assert SHIPPED_TIMERS["mediation_deadline_reached"] == MEDIATION_DEADLINE
    return {**SHIPPED_TIMERS, "mediation_deadline_reached": TEN_DAYS}


def run(name: str, ctx: FakeContext, **params: Any) -> Any:
    """Calls an operation as the diagram does: by its registered name, with keyword parameters."""
    return call(f"fangtiao/{name}", ctx, params)
