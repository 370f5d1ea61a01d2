"""Tasks: 待办, the team view, 已办, one task's page, completing, claiming, releasing and reassigning."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestration.domain.access import LEADER_ROLES, Viewer, can_act_on, form_data
from orchestration.domain.calendar import SHANGHAI
from orchestration.domain.forms import FormDefinition, Submission, Upload
from orchestration.domain.privacy_notice import GIVEN_FIELD, PrivacyNotice
from orchestration.engine.documents import PARTIES, registered_parties
from orchestration.engine.runtime import UNKNOWN_REVISION, StepResult
from orchestration.errors import Forbidden, Gone
from orchestration.read import case_view, queries
from orchestration.read.case_view import CaseSummary
from orchestration.read.queries import DoneTask, Page, TaskFilter, TaskList
from orchestration.services import claims
from orchestration.services.base import Options, Service, actor_of
from orchestration.services.claims import ClaimResult
from orchestration.store.models import Document, OpenTask, User

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

    def step_title(self, name: str) -> str:
        """A user task is named after its form, so the form's title names the step (登记 is "register")."""
        forms = self.runtime.forms
        return forms.get(name).title if name in forms else name

    def page(self, viewer: Viewer, task_id: str) -> TaskPage:
        now = self.now()
        with self.reading() as session:
            task = session.get(OpenTask, task_id)
            if task is None:
                raise Gone()
            if viewer.role != task.role or viewer.org_id != task.org_id:
                raise Forbidden("您无权办理该任务")
            case = task.case
            form = self.runtime.forms.get(task.form_name or "")
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
            )

    def complete(
        self,
        viewer: Viewer,
        task_id: str,
        data: Mapping[str, Any] | Submission,
        expected_revision: int | None,
        files: Mapping[str, Sequence[Upload]] | None = None,
    ) -> StepResult:
        return self.runtime.complete_task(task_id, data, actor_of(viewer), expected_revision, files)

    def claim(self, viewer: Viewer, task_id: str) -> ClaimResult:
        return claims.claim(self.runtime, task_id, actor_of(viewer))

    def release(self, viewer: Viewer, task_id: str) -> ClaimResult:
        return claims.release(self.runtime, task_id, actor_of(viewer))

    def reassign(self, viewer: Viewer, task_id: str, username: str) -> ClaimResult:
        return claims.reassign(self.runtime, task_id, actor_of(viewer), username)
