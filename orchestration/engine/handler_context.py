"""The handlers' context over the step's open transaction and the case row it has locked."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from handlers.api import EarlierCase, HandlerError, LocalOrganisations, Organisation, Period
from orchestration.domain import organisations, petition_clock
from orchestration.domain.calendar import WorkingCalendar
from orchestration.domain.parties import same_parties
from orchestration.domain.personal_data import identifying_values, redact
from orchestration.engine import documents
from orchestration.engine.script_engine import Timers, date_timers
from orchestration.errors import InvalidData
from orchestration.store.models import Case, Notification
from orchestration.store.models import Organisation as OrganisationRow
from orchestration.vocabulary import CaseStatus


def _organisation(row: OrganisationRow) -> Organisation:
    return Organisation(row.id, row.code, row.name)


class CaseContext:
    """Implements `handlers.api.HandlerContext`; rows it adds are written with the step's state."""

    def __init__(
        self,
        session: Session,
        case: Case,
        now: datetime,
        calendar: WorkingCalendar,
        data: Mapping[str, Any],
        actor: str,
        task_name: str,
        actor_name: str = "",
        collective_headcount: int = 5,
        actor_org_id: int | None = None,
        procedure: Sequence[BpmnProcessSpec] = (),
    ) -> None:
        """`procedure` is the case's running process and its subprocesses, whose timers `timer_due`
        evaluates."""
        self._session = session
        self._case = case
        self.now = now
        self.calendar = calendar
        self.data = data
        self.actor = actor
        self.actor_name = actor_name
        self.task_name = task_name
        self.collective_headcount = collective_headcount
        self.actor_org_id = actor_org_id
        self._procedure = procedure

    @property
    def case_no(self) -> str:
        return self._case.case_no

    @property
    def title(self) -> str:
        return self._case.title

    @property
    def petition_office_id(self) -> int | None:
        return self._case.petition_office_id

    @property
    def mediation_org_id(self) -> int | None:
        return self._case.mediation_org_id

    @property
    def justice_org_id(self) -> int | None:
        return self._case.justice_org_id

    @property
    def outcome(self) -> str | None:
        return self._case.outcome

    def notify(self, org_id: int | None, role: str, kind: str, message: str) -> None:
        # A reason a user typed may hold an ID number, a phone or an address; a notification holds none.
        self._session.add(
            Notification(
                case_id=self._case.id,
                org_id=org_id,
                role=role,
                kind=kind,
                message=redact(message, identifying_values(self.data)),
                created_at=self.now,
            )
        )

    def issue_document(self, kind: str, content: Mapping[str, Any]) -> str:
        try:
            return documents.issue(self._session, self._case, kind, content, self.now, self.actor).number
        except InvalidData as exc:
            raise HandlerError(str(exc)) from exc

    def record_outcome(self, outcome: str) -> None:
        self._case.outcome = outcome

    def assign_organisations(
        self,
        *,
        petition_office: int | None = None,
        mediation_org: int | None = None,
        justice_org: int | None = None,
    ) -> None:
        if petition_office is not None:
            self._case.petition_office_id = petition_office
        if mediation_org is not None:
            self._case.mediation_org_id = mediation_org
        if justice_org is not None:
            self._case.justice_org_id = justice_org

    @property
    def _step_revision(self) -> int:
        # handlers run before the runtime saves the step, which then commits the next revision
        return self._case.revision + 1

    def start_petition_clock(self, at: datetime) -> None:
        petition_clock.record(self._session, self._case.id, "start", at, self._step_revision)

    def pause_petition_clock(self) -> None:
        petition_clock.record(self._session, self._case.id, "pause", self.now, self._step_revision)

    def resume_petition_clock(self, at: datetime | None = None) -> None:
        petition_clock.record(self._session, self._case.id, "resume", at or self.now, self._step_revision)

    def conclude_petition(self, at: datetime) -> None:
        petition_clock.record(self._session, self._case.id, "conclude", at, self._step_revision)

    def petition_clock_paused(self) -> bool:
        return petition_clock.is_paused(self._session, self._case.id)

    def timer_due(self, event: str, data: Mapping[str, Any], *, rest_days: bool = True) -> datetime:
        return self._timers.due(event, data, rest_days=rest_days)

    def timer_period(self, event: str, data: Mapping[str, Any]) -> Period:
        return self._timers.period(event, data)

    @functools.cached_property
    def _timers(self) -> Timers:
        # read off the specs once per step: a referral letter asks for several periods
        return Timers(date_timers(self._procedure), self.calendar, self.data)

    def organisations_for(self, locality: str) -> LocalOrganisations:
        try:
            local = organisations.for_locality(self._session, locality)
        except organisations.OrganisationError as exc:
            raise HandlerError(str(exc)) from exc
        return LocalOrganisations(
            _organisation(local.petition_office),
            _organisation(local.mediation_org),
            _organisation(local.justice_org),
        )

    def organisations_above(self, org_id: int | None) -> LocalOrganisations:
        try:
            upper = organisations.above(self._session, org_id)
        except organisations.OrganisationError as exc:
            raise HandlerError(str(exc)) from exc
        return LocalOrganisations(
            _organisation(upper.petition_office),
            _organisation(upper.mediation_org),
            _organisation(upper.justice_org),
        )

    def mediation_org(self, code: str) -> Organisation:
        try:
            return _organisation(organisations.by_code(self._session, code, organisations.MEDIATION_KINDS))
        except organisations.OrganisationError as exc:
            raise HandlerError(str(exc)) from exc

    def _cases(self, *conditions: ColumnElement[bool]) -> list[EarlierCase]:
        rows = self._session.execute(select(Case.case_no, Case.title).where(*conditions).order_by(Case.id))
        return [EarlierCase(case_no, title) for case_no, title in rows]

    def earlier_cases(self, parties_key: str, outcomes: Sequence[str]) -> list[EarlierCase]:
        return self._cases(same_parties(self._case, parties_key), Case.outcome.in_(outcomes))

    def running_cases(self, parties_key: str) -> list[EarlierCase]:
        return self._cases(same_parties(self._case, parties_key), Case.status == CaseStatus.RUNNING)

    def petitioner_cases(self) -> list[EarlierCase]:
        key = self._case.petitioner_id_key
        if key is None:
            return []
        return self._cases(Case.petitioner_id_key == key, Case.id != self._case.id)
