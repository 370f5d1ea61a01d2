"""The JSON API: my tasks, a case summary, completing a task; errors as JSON with 4xx."""

from __future__ import annotations

from flask.testing import FlaskClient

from orchestration.engine.runtime import Runtime
from tests.helpers import SUCCESS_PATH, advance_to, open_task, start
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
    bad = client.post(f"/api/tasks/{task.id}/complete", json={"data": {"dispute_category": "nonsense"}})
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == {"dispute_category": "请选择有效的选项"}
    ok = client.post(
        f"/api/tasks/{task.id}/complete",
        json={"data": SUCCESS_PATH[0][2], "expected_revision": revision},
    )
    assert ok.status_code == 200, ok.get_json()
    assert [t["task_name"] for t in ok.get_json()["open_tasks"]] == ["guide_divert"]
    again = client.post(f"/api/tasks/{task.id}/complete", json={"data": SUCCESS_PATH[0][2]})
    assert again.status_code == 409 and "已办理完毕" in again.get_json()["error"]
    follow = open_task(runtime, case_id, "guide_divert")
    stale = client.post(
        f"/api/tasks/{follow.id}/complete", json={"data": SUCCESS_PATH[1][2], "expected_revision": 0}
    )
    assert stale.status_code == 409 and "已被他人更新" in stale.get_json()["error"]


def test_complete_refuses_non_json_and_other_roles(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    login(client, "clerk")
    form = client.post(f"/api/tasks/{task.id}/complete", data={"dispute_category": "citizen_property"})
    assert form.status_code == 415 and form.get_json()["error"]
    assert client.post(f"/api/tasks/{task.id}/complete", json=[1]).status_code == 400
    assert client.post(f"/api/tasks/{task.id}/complete", json={"data": []}).status_code == 400
    assert (
        client.post(f"/api/tasks/{task.id}/complete", json={"data": {}, "expected_revision": "1"}).status_code
        == 400
    )
    login(client, "leader")
    denied = client.post(f"/api/tasks/{task.id}/complete", json={"data": SUCCESS_PATH[0][2]})
    assert denied.status_code == 403 and denied.get_json()["error"] == "您无权办理该任务"
    advance_to(runtime, case_id, "guide_divert")
