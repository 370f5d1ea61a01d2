"""The JSON API: my tasks, a case summary, completing a task; errors as JSON with 4xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from orchestration.engine.runtime import Runtime
from tests.helpers import SUCCESS_PATH, advance_to, case_snapshot, open_task, start
from tests.webapp.helpers import login


def test_api_needs_a_session(client: FlaskClient) -> None:
    response = client.get("/api/tasks")
    assert response.status_code == 401
    assert response.get_json() == {"error": "请先登录", "errors": {}}


def test_my_tasks(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    login(client, "clerk")
    body = client.get("/api/tasks").get_json()
    assert body["total"] == 1 and body["counts"]["all"] == 1
    task = body["tasks"][0]
    assert task["task_name"] == "screen_case" and task["case_no"].startswith("FT2026-")
    assert task["id"] == open_task(runtime, case_id, "screen_case").id
    assert client.get("/api/tasks?due=overdue").get_json()["total"] == 0
    bad = client.get("/api/tasks?due=soon")
    assert bad.status_code == 400 and "due" in bad.get_json()["errors"]


def test_case_summary_is_masked_and_access_checked(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    login(client, "clerk")
    number = client.get("/api/tasks").get_json()["tasks"][0]["case_no"]
    body = client.get(f"/api/cases/{number}").get_json()
    assert body["petitioner"]["petitioner_id_number"] == "5401**********1234"
    assert body["petitioner"]["petitioner_phone"] == "138****8000"
    assert body["open_tasks"][0]["task_name"] == "screen_case"
    assert client.get("/api/cases/FT2099-000001").status_code == 404
    login(client, "clerk2")
    denied = client.get(f"/api/cases/{number}")
    assert denied.status_code == 403 and denied.get_json()["error"]
    login(client, "policy")
    assert client.get(f"/api/cases/{number}").status_code == 403
    del case_id


def test_complete_a_task_with_json(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    login(client, "clerk")
    revision = client.get("/api/tasks").get_json()["tasks"][0]["revision"]
    bad = client.post(
        f"/api/tasks/{task.id}/complete",
        json={"data": {"dispute_category": "nonsense"}, "expected_revision": revision},
    )
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == {"dispute_category": "请选择有效的选项"}
    ok = client.post(
        f"/api/tasks/{task.id}/complete",
        json={"data": SUCCESS_PATH[0][2], "expected_revision": revision},
    )
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["revision"] == revision + 1
    assert [t["task_name"] for t in ok.get_json()["open_tasks"]] == ["guide_divert"]
    again = client.post(
        f"/api/tasks/{task.id}/complete", json={"data": SUCCESS_PATH[0][2], "expected_revision": revision + 1}
    )
    assert again.status_code == 409 and "已办理完毕" in again.get_json()["error"]


@pytest.mark.parametrize(
    "stale", [lambda rev: rev - 1, lambda rev: rev + 1, lambda rev: 10**30], ids=["lower", "higher", "huge"]
)
def test_a_stale_revision_is_refused_and_writes_nothing(
    client: FlaskClient, runtime: Runtime, stale: Callable[[int], int]
) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "mediate")
    before = case_snapshot(runtime, case_id)
    login(client, "mediator")
    data = next(d for name, _, d in SUCCESS_PATH if name == "mediate")
    response = client.post(
        f"/api/tasks/{task.id}/complete", json={"data": data, "expected_revision": stale(before["revision"])}
    )
    assert response.status_code == 409 and "已被他人更新" in response.get_json()["error"]
    assert case_snapshot(runtime, case_id) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"expected_revision": None},
        {"expected_revision": "1"},
        {"expected_revision": 1.0},
        {"expected_revision": True},
        {"expected_revision": -1},
        {"expected_revision": [1]},
    ],
    ids=["missing", "null", "string", "float", "boolean", "negative", "list"],
)
def test_a_completion_without_a_usable_revision_is_refused(
    client: FlaskClient, runtime: Runtime, body: dict[str, Any]
) -> None:
    """Unlike the CLI, the API always says which state of the case the client saw (see webapp.api)."""
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    before = case_snapshot(runtime, case_id)
    login(client, "clerk")
    response = client.post(f"/api/tasks/{task.id}/complete", json={"data": SUCCESS_PATH[0][2], **body})
    assert response.status_code == 400
    assert "expected_revision 必填" in response.get_json()["error"]
    assert "expected_revision" in response.get_json()["errors"]
    assert case_snapshot(runtime, case_id) == before


def test_an_absurdly_long_revision_number_is_a_bad_request(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    before = case_snapshot(runtime, case_id)
    login(client, "clerk")
    body = '{"data": {"dispute_category": "citizen_property"}, "expected_revision": 1' + "0" * 5000 + "}"
    response = client.post(f"/api/tasks/{task.id}/complete", data=body, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]
    assert case_snapshot(runtime, case_id) == before


def test_complete_refuses_non_json_and_other_roles(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    login(client, "clerk")
    form = client.post(f"/api/tasks/{task.id}/complete", data={"dispute_category": "citizen_property"})
    assert form.status_code == 415 and form.get_json()["error"]
    assert client.post(f"/api/tasks/{task.id}/complete", json=[1]).status_code == 400
    assert client.post(f"/api/tasks/{task.id}/complete", json={"data": []}).status_code == 400
    login(client, "leader")
    denied = client.post(
        f"/api/tasks/{task.id}/complete", json={"data": SUCCESS_PATH[0][2], "expected_revision": 1}
    )
    assert denied.status_code == 403 and denied.get_json()["error"] == "您无权办理该任务"
    advance_to(runtime, case_id, "guide_divert")
