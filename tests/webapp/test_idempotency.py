"""A task completion carries an idempotency key (issue 11, finding 6): a retried POST of the same form
is told the step already happened, not refused as a conflict, and nothing runs twice; a completion that
committed answers as committed even when the answer after the commit fails."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from orchestration.engine.runtime import Runtime, StepResult
from orchestration.services.tasks import TaskService
from orchestration.services.users import UserService
from orchestration.store.models import AuditEvent, TaskSubmission
from tests.helpers import advance_to, start
from tests.webapp.helpers import case_revision, login, text

SCREEN = {"dispute_category": "citizen_property"}


def _completions(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "complete")
            )
            or 0
        )


def _key(page: Any) -> str:
    match = re.search(
        r'name="idempotency_key" id="idempotency-key" value="([0-9a-f]{32})"', page.get_data(as_text=True)
    )
    assert match is not None
    return match.group(1)


def test_a_retried_post_is_told_it_already_happened(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "screen_case")
    login(client, "clerk")
    page = client.get(f"/tasks/{task.id}")
    key = _key(page)
    assert _key(client.get(f"/tasks/{task.id}")) != key  # one key per drawing of the form
    form = {**SCREEN, "expected_revision": str(case_revision(runtime, case_id)), "idempotency_key": key}
    before = _completions(runtime)
    first = client.post(f"/tasks/{task.id}", data=form)
    assert first.status_code == 302
    assert "已办理" in text(client.get(first.location))
    again = client.post(f"/tasks/{task.id}", data=form)
    assert again.status_code == 302 and again.location == "/tasks"
    assert "此前的提交已保存；本次重复提交未再办理" in text(client.get(again.location))
    assert _completions(runtime) == before + 1

    # without the key (or with another user's), a late POST is still refused as before
    stale = client.post(f"/tasks/{task.id}", data={**form, "idempotency_key": "0" * 32})
    assert stale.status_code in (409, 410)
    login(client, "clerk2")
    assert client.post(f"/tasks/{task.id}", data=form).status_code != 302


def test_a_committed_completion_whose_answer_failed_is_committed(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database goes away after the commit: the service answers with the committed step."""
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "screen_case")
    service = TaskService(runtime)
    clerk = UserService(runtime).viewer("clerk")
    assert clerk is not None
    real = runtime.complete_task

    def commits_then_fails(*args: Any, **kwargs: Any) -> StepResult:
        real(*args, **kwargs)
        raise OperationalError("SELECT …", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(runtime, "complete_task", commits_then_fails)
    key = "a" * 32
    done = service.complete(clerk, task.id, SCREEN, case_revision(runtime, case_id), idempotency_key=key)
    assert done.repeated and done.case_id == case_id and done.task_title == task.title
    assert done.revision == case_revision(runtime, case_id)
    with runtime.sessions() as session:
        assert session.get(TaskSubmission, key) is not None

    # without a key nobody can tell: the error stands (the web answers 503 and the user looks)
    other = advance_to(runtime, start(runtime), "screen_case")
    with pytest.raises(OperationalError):
        service.complete(clerk, other.id, SCREEN, None)
