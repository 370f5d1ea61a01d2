"""Tasks: 待办, the team view, 已办, one task's page, completing, claiming, releasing and reassigning."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from orchestration.domain.access import LEADER_ROLES, Viewer, can_act_on, form_data
from orchestration.domain.calendar import SHANGHAI
from orchestration.domain.forms import FormDefinition, FormRegistry, Submission, Upload
from orchestration.domain.privacy_notice import GIVEN_FIELD, PrivacyNotice
from orchestration.engine.documents import PARTIES, registered_parties
from orchestration.engine.runtime import UNKNOWN_REVISION, StepResult
from orchestration.errors import Conflict, Forbidden, Gone
from orchestration.read import case_view, queries
from orchestration.read.case_view import CaseSummary, RelatedCase
from orchestration.read.queries import DoneTask, Page, TaskFilter, TaskList
from orchestration.services import claims
from orchestration.services.base import Options, Service, actor_of
from orchestration.services.claims import ClaimResult
from orchestration.services.health import database_outage
from orchestration.store.models import Case, Document, OpenTask, TaskSubmission, User

# what the task form sends as its idempotency key (uuid4().hex); anything else is ignored
IDEMPOTENCY_KEY = re.compile(r"[0-9a-f]{32}")

__all__ = [
    "UNKNOWN_REVISION",
    "ClaimResult",
    "DoneTask",
    "TaskFilter",
    "TaskListView",
    "TaskPage",
    "TaskService",
    "Upload",
]


@dataclass(frozen=True)
class TaskListView:
    tasks: TaskList
    states: Mapping[str, str | None]  # task id -> overdue | near | normal | None
    claimers: Mapping[int, str]  # user id -> display name
    candidates: Mapping[str, list[User]]  # task id -> whom a leader may hand it to (team view only)
    now: datetime


@dataclass(frozen=True)
class TaskPage:
    task: OpenTask
    form: FormDefinition
    forms: FormRegistry  # the forms of the case's version: they label its data
    options: Options
    data: Mapping[str, Any]  # the case data the form's initial values come from (what the viewer may have)
    summary: CaseSummary
    documents: list[Document]
    state: str | None
    claimer: str | None
    can_act: bool
    mine: bool
    revision: int
    now: datetime
    notice: PrivacyNotice | None  # the privacy notice to give, on a form that records it was given
    # other cases of the same parties still being handled: screening sees them before the
    # earlier-mediation check runs on its submission
    running: list[RelatedCase]


class TaskService(Service):
    def inbox(self, viewer: Viewer, filters: TaskFilter) -> TaskListView:
        return self._list(viewer, filters, team=False)

    def team(self, viewer: Viewer, filters: TaskFilter) -> TaskListView:
        """All open tasks of a leader's organisation, with whom each may be reassigned to."""
        if viewer.role not in LEADER_ROLES:
            raise Forbidden("只有分管领导可以查看本机构全部待办")
        return self._list(viewer, filters, team=True)

    def _list(self, viewer: Viewer, filters: TaskFilter, team: bool) -> TaskListView:
        now = self.now()
        with self.reading() as session:
            calendar = self.calendar(session)
            listing = queries.team_tasks if team else queries.my_tasks
            tasks = listing(session, viewer, filters, now, calendar)
            items = tasks.page.items
            claimed = {t.claimed_by for t in items if t.claimed_by}
            return TaskListView(
                tasks=tasks,
                states={t.id: queries.due_state(t.due_at, now, calendar) for t in items},
                claimers=queries.user_names(session, ids=claimed) if claimed else {},
                candidates={t.id: queries.claimable_users(session, t) for t in items} if team else {},
                now=now,
            )

    def counts(self, viewer: Viewer) -> tuple[int, int]:
        """(open, overdue) tasks of the viewer, for the navigation bar."""
        with self.reading() as session:
            return queries.task_counts(session, viewer, self.now())

    def done(self, viewer: Viewer, page: int = 1) -> Page[DoneTask]:
        with self.reading() as session:
            return queries.done_tasks(session, viewer, page)

    def step_titles(self, names: Iterable[str]) -> dict[str, str]:
        """A user task is named after its form, so the form's title names the step (登记 is "register"):
        the titles of the current version's forms."""
        forms = self.runtime.current_forms()
        return {name: forms.get(name).title if name in forms else name for name in names}

    def page(self, viewer: Viewer, task_id: str) -> TaskPage:
        now = self.now()
        with self.reading() as session:
            task = session.get(OpenTask, task_id)
            if task is None:
                raise Gone()
            if viewer.role != task.role or viewer.org_id != task.org_id:
                raise Forbidden("您无权办理该任务")
            case = task.case
            forms = self.runtime.forms_of(session, case.version_id)
            form = forms.get(task.form_name or "")
            data = self.runtime.case_data(session, case)
            if PARTIES in {f.name for f in form.fields} and not data.get(PARTIES):
                # the parties' rows start from the registered petitioner and respondent, to be completed
                data = {**data, PARTIES: registered_parties(data)}
            calendar = self.calendar(session)
            claimer = None
            if task.claimed_by is not None:
                claimer = queries.user_names(session, ids={task.claimed_by}).get(task.claimed_by)
            return TaskPage(
                task=task,
                form=form,
                forms=forms,
                options=self.form_options(session, form),
                data=form_data(viewer, data),
                summary=case_view.summarise(session, case, viewer, data),
                documents=case_view.documents_of(session, case.id),
                state=queries.due_state(task.due_at, now, calendar),
                claimer=claimer,
                can_act=can_act_on(viewer, task),
                mine=task.claimed_by == viewer.user_id,
                revision=case.revision,
                now=now,
                notice=self.runtime.notices.current(now.astimezone(SHANGHAI).date())
                if any(f.name == GIVEN_FIELD for f in form.fields)
                else None,
                running=case_view.running_same_parties(session, case, viewer),
            )

    def complete(
        self,
        viewer: Viewer,
        task_id: str,
        data: Mapping[str, Any] | Submission,
        expected_revision: int | None,
        files: Mapping[str, Sequence[Upload]] | None = None,
        idempotency_key: str | None = None,
        idempotent_request: int | None = None,
    ) -> StepResult:
        """Completes the task. With an idempotency key (one per drawing of the form), a retry of a
        completion that was committed (a double click; a reload; an answer lost when the connection or
        the database failed after the commit) answers with that completion (`repeated`) rather than a
        conflict, and nothing runs twice. `idempotent_request`: an API call's reservation (see
        ApiTokenService.reserve), marked in the step's transaction to the same end."""
        key = idempotency_key if idempotency_key and IDEMPOTENCY_KEY.fullmatch(idempotency_key) else None
        if key is not None:
            earlier = self._submitted(key, task_id, viewer)
            if earlier is not None:
                return earlier
        try:
            return self.runtime.complete_task(
                task_id,
                data,
                actor_of(viewer),
                expected_revision,
                files,
                submission_key=key,
                idempotent_request=idempotent_request,
            )
        except Exception as exc:
            if key is None or not (isinstance(exc, Conflict) or database_outage(exc)):
                raise
            try:
                earlier = self._submitted(key, task_id, viewer)
            except Exception:
                raise exc from None  # the database is still away: the first error is the answer
            if earlier is None:
                raise
            return earlier

    def _submitted(self, key: str, task_id: str, viewer: Viewer) -> StepResult | None:
        """The completion committed with this key, for the same task and user, if there is one."""
        with self.reading() as session:
            row = session.execute(
                select(TaskSubmission.task_title, Case.id, Case.case_no, Case.status, Case.revision)
                .join(Case, Case.id == TaskSubmission.case_id)
                .where(
                    TaskSubmission.key == key,
                    TaskSubmission.task_id == task_id,
                    TaskSubmission.actor == viewer.username,
                )
            ).first()
        if row is None:
            return None
        title, case_id, case_no, status, revision = row
        return StepResult(case_id, case_no, status, revision, [], title, repeated=True)

    def claim(self, viewer: Viewer, task_id: str) -> ClaimResult:
        return claims.claim(self.runtime, task_id, actor_of(viewer))

    def release(self, viewer: Viewer, task_id: str) -> ClaimResult:
        return claims.release(self.runtime, task_id, actor_of(viewer))

    def reassign(self, viewer: Viewer, task_id: str, username: str) -> ClaimResult:
        return claims.reassign(self.runtime, task_id, actor_of(viewer), username)
