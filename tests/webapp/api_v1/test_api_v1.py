"""/api/v1: token authentication, JSON errors with stable codes, idempotency keys, a whole case driven
through the API (with an upload), and the OpenAPI document."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.services import Services
from orchestration.store.models import ApiToken, AuditEvent, Case, IdempotentRequest, User
from tests.helpers import FILE_FIELDS, REGISTRATION, SUCCESS_PATH, case_snapshot, open_task, start
from tests.webapp.api_v1.conftest import Api, issue
from webapp.api_v1 import views


def test_calls_without_a_valid_token_are_401_with_a_code(client: FlaskClient, tokens: dict[str, str]) -> None:
    missing = client.get("/api/v1/tasks")
    assert missing.status_code == 401
    assert missing.get_json()["error"]["code"] == "token_required"
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    for header in ("Bearer ftk_nothing", "Bearer " + tokens["clerk"] + "x", "Basic abc", tokens["clerk"]):
        wrong = client.get("/api/v1/tasks", headers={"Authorization": header})
        assert wrong.status_code == 401, header
        assert wrong.get_json()["error"]["code"] in ("token_invalid", "token_required")
    # the session cookie of a signed-in user is no token
    client.post("/login", data={"username": "clerk", "password": "demo12345"})
    assert client.get("/api/v1/tasks").status_code == 401


def test_tokens_are_stored_hashed_and_expire_and_can_be_revoked(
    client: FlaskClient, services: Services, runtime: Runtime, clock: FrozenClock
) -> None:
    secret = issue(services, "clerk", days=1)
    api = Api(client, secret)
    assert api.get("/tasks").status_code == 200
    with runtime.sessions() as session:
        row = session.scalars(select(ApiToken)).one()
        assert secret not in (row.secret_sha256, row.prefix) and secret.startswith(row.prefix)
        assert len(row.secret_sha256) == 64
        assert (row.role, row.org_id) == (
            "petition_clerk",
            session.scalar(select(User.org_id).where(User.username == "clerk")),
        )
    clock.advance(timedelta(days=1, seconds=1))
    assert api.get("/tasks").status_code == 401
    other = Api(client, issue(services, "clerk"))
    assert other.get("/tasks").status_code == 200
    admin = services.users.viewer("admin")
    assert admin is not None
    listed = services.api_tokens.tokens(admin)
    assert [t.state for t in listed] == ["active", "expired"]
    services.api_tokens.revoke(admin, listed[0].id)
    assert other.get("/tasks").get_json()["error"]["code"] == "token_invalid"
    with runtime.sessions() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("token_create") == 2 and actions.count("token_revoke") == 1


def test_a_token_stops_when_its_user_changes_role_or_is_deactivated(
    client: FlaskClient, services: Services, runtime: Runtime
) -> None:
    api = Api(client, issue(services, "clerk"))
    assert api.get("/tasks").status_code == 200
    with runtime.sessions() as session, session.begin():
        user = session.scalars(select(User).where(User.username == "clerk")).one()
        user.role = "petition_leader"
    assert api.get("/tasks").status_code == 401
    with runtime.sessions() as session, session.begin():
        user = session.scalars(select(User).where(User.username == "clerk")).one()
        user.role, user.active = "petition_clerk", False
    assert api.get("/tasks").status_code == 401


def test_only_administrators_issue_tokens(services: Services) -> None:
    clerk = services.users.viewer("clerk")
    assert clerk is not None
    try:
        services.api_tokens.create(clerk, "clerk", "我自己的")
    except Exception as exc:
        assert getattr(exc, "status", None) == 403
    else:
        raise AssertionError("a clerk issued a token")


def test_errors_are_json_with_a_stable_code(api: dict[str, Api], runtime: Runtime) -> None:
    clerk = api["clerk"]
    assert clerk.get("/cases/FT2099-000001").get_json()["error"] == {
        "code": "not_found",
        "message": "案件不存在",
    }
    assert clerk.get("/nowhere").get_json()["error"]["code"] == "not_found"
    assert clerk.get("/tasks?page=²").get_json()["error"]["code"] == "invalid_parameter"
    assert clerk.get("/tasks?case_no=a%00b").status_code == 400
    assert clerk.get(f"/documents/{2**63}").status_code == 404
    task = open_task(runtime, start(runtime), "screen_case")
    path = f"/tasks/{task.id}/complete"
    no_key = clerk.client.post(f"/api/v1{path}", json={}, headers=clerk.headers())
    assert no_key.status_code == 400 and no_key.get_json()["error"]["code"] == "idempotency_key_required"
    assert clerk.post(path, key="bad key").get_json()["error"]["code"] == "invalid_idempotency_key"
    not_json = clerk.client.post(f"/api/v1{path}", data="x", headers=clerk.headers("k-text"))
    assert not_json.status_code == 400 and not_json.get_json()["error"]["code"] == "unsupported_media_type"
    deep = "[" * 100_000 + "]" * 100_000
    nested = clerk.client.post(
        f"/api/v1{path}", data=deep, content_type="application/json", headers=clerk.headers("k-deep")
    )
    assert nested.status_code == 400 and nested.get_json()["error"]["code"] == "invalid_json"
    surrogate = clerk.client.post(
        f"/api/v1{path}",
        data='{"data": {"x": "\\ud800"}, "expected_revision": 1}',
        content_type="application/json",
        headers=clerk.headers("k-surrogate"),
    )
    assert surrogate.status_code == 400 and surrogate.get_json()["error"]["code"] == "invalid_text"
    missing = clerk.post(path, json={"data": {}})
    assert missing.status_code == 422
    assert missing.get_json()["error"]["code"] == "invalid_body"
    assert "expected_revision" in missing.get_json()["error"]["fields"]
    stale = clerk.post(path, json={"data": SUCCESS_PATH[0][2], "expected_revision": 99})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "conflict"
    invalid = clerk.post(path, json={"data": {"dispute_category": "nonsense"}, "expected_revision": 1})
    assert invalid.status_code == 422 and invalid.get_json()["error"]["fields"]


def test_the_same_key_replays_and_another_body_is_refused(api: dict[str, Api], runtime: Runtime) -> None:
    clerk = api["clerk"]
    first = clerk.post("/cases", json={"data": REGISTRATION}, key="register-1")
    assert first.status_code == 201, first.get_json()
    again = clerk.post("/cases", json={"data": REGISTRATION}, key="register-1")
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
    other = clerk.post("/cases", json={"data": {**REGISTRATION, "matter": "另一件事"}}, key="register-1")
    assert other.status_code == 422 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    # keys are per token: another token's same key is a request of its own (refused here for its locality)
    elsewhere = api["clerk2"].post("/cases", json={"data": REGISTRATION}, key="register-1")
    assert elsewhere.status_code == 422 and elsewhere.get_json()["error"]["code"] == "invalid_data"
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        assert session.scalar(select(func.count()).select_from(IdempotentRequest)) == 2


def test_a_refusal_is_replayed_too_and_writes_nothing(api: dict[str, Api], runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    before = case_snapshot(runtime, case_id)
    body = {"data": {"dispute_category": "nonsense"}, "expected_revision": 1}
    first = api["clerk"].post(f"/tasks/{task.id}/complete", json=body, key="k1")
    again = api["clerk"].post(f"/tasks/{task.id}/complete", json=body, key="k1")
    assert first.status_code == again.status_code == 422
    assert first.get_json() == again.get_json()
    assert case_snapshot(runtime, case_id) == before


def test_a_whole_case_through_the_api_with_an_upload(api: dict[str, Api], runtime: Runtime) -> None:
    created = api["clerk"].post("/cases", json={"data": REGISTRATION})
    assert created.status_code == 201, created.get_json()
    case_no = created.get_json()["case_no"]
    revision = created.get_json()["revision"]
    consent = base64.b64encode(b"%PDF-1.4 consent").decode()
    for name, username, data in SUCCESS_PATH:
        listing = api[username].get(f"/tasks?case_no={case_no}").get_json()
        (task,) = [t for t in listing["tasks"] if t["task_name"] == name]
        assert task["revision"] == revision
        # a file field takes only files uploaded for the case: each named file goes up with its step
        files = {
            field: [{"filename": f"{stem}\r\n.pdf", "content_base64": consent} for stem in names]
            for field, names in data.items()
            if field in FILE_FIELDS
        }
        data = {k: v for k, v in data.items() if k not in FILE_FIELDS}
        if name == "review_referral":
            claimed = api[username].post(f"/tasks/{task['id']}/claim")
            assert claimed.status_code == 200 and claimed.get_json()["claimed_by_name"] == "次仁卓玛"
            assert api[username].post(f"/tasks/{task['id']}/release").get_json()["claimed_by"] is None
        done = api[username].post(
            f"/tasks/{task['id']}/complete",
            json={"data": data, "expected_revision": revision, "files": files},
        )
        assert done.status_code == 200, (name, done.get_json())
        revision = done.get_json()["revision"]
    assert done.get_json()["status"] == "completed"
    case = api["clerk"].get(f"/cases/{case_no}").get_json()
    assert case["status"] == "completed" and case["petitioner"]["petitioner_phone"] == "138****8000"
    files = api["clerk"].get(f"/cases/{case_no}/files").get_json()
    assert files["documents"] and files["attachments"][0]["size"] == len(b"%PDF-1.4 consent")
    document = api["mediator"].get(f"/documents/{files['documents'][0]['id']}")
    assert document.status_code == 200 and document.get_json()["intact"] is True
    download = api["clerk"].get(f"/attachments/{files['attachments'][0]['id']}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 consent"
    assert "\r" not in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    assert api["clerk2"].get(f"/attachments/{files['attachments'][0]['id']}").status_code == 403


def test_administrators_suspend_and_resume(api: dict[str, Api], runtime: Runtime) -> None:
    start(runtime)
    admin = api["admin"]
    listing = admin.get("/admin/instances?status=running").get_json()
    case_no = listing["instances"][0]["case_no"]
    assert listing["total"] == 1
    assert admin.post(f"/admin/instances/{case_no}/suspend").get_json()["status"] == "suspended"
    again = admin.post(f"/admin/instances/{case_no}/suspend")
    assert again.status_code == 409
    assert admin.get("/admin/instances?status=suspended").get_json()["total"] == 1
    assert admin.post(f"/admin/instances/{case_no}/resume").get_json()["status"] == "running"


def test_policy_officers_deploy_a_draft(api: dict[str, Api], services: Services) -> None:
    policy = services.users.viewer("policy")
    assert policy is not None
    process = services.repository.processes(policy)[0]
    draft = services.repository.create_draft(policy, process.latest_version_id)
    assert [d["id"] for d in api["policy"].get("/procedure/drafts").get_json()["drafts"]] == [draft.id]
    assert api["admin"].post(f"/procedure/drafts/{draft.id}/deploy").status_code == 403
    deployed = api["policy"].post(f"/procedure/drafts/{draft.id}/deploy")
    assert deployed.status_code == 201, deployed.get_json()
    assert deployed.get_json()["process_id"] == process.process_id
    assert api["policy"].post(f"/procedure/drafts/{draft.id}/deploy").status_code == 404


def test_the_openapi_document_and_its_page(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/tasks", "/cases", "/tasks/{task_id}/complete", "/admin/instances"} <= set(document["paths"])
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            names = {p["name"] for p in op["parameters"]}
            assert (method == "post") == ("Idempotency-Key" in names), path
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "complete_task" in page.get_data(as_text=True)


def _fail_once_after_the_step(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The answer fails after the step committed (as if reading the next tasks or writing the reply
    broke), once: the client sees a 500 and retries with the same key."""
    real, failed = views.dump, []

    def dump(*args: Any, **kwargs: Any) -> Any:
        if not failed:
            failed.append(1)
            raise RuntimeError("the answer broke after the commit")
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "dump", dump)
    return failed


def test_a_registration_retried_after_a_lost_answer_is_not_repeated(
    app: Flask, api: dict[str, Api], runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    failed = _fail_once_after_the_step(monkeypatch)
    lost = api["clerk"].post("/cases", json={"data": REGISTRATION}, key="register-lost")
    assert lost.status_code == 500 and failed
    with runtime.sessions() as session:
        (case_no,) = session.scalars(select(Case.case_no)).all()
    retry = api["clerk"].post("/cases", json={"data": REGISTRATION}, key="register-lost")
    assert retry.status_code == 201, retry.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json()["case_no"] == case_no
    assert [t["task_name"] for t in retry.get_json()["open_tasks"]] == ["screen_case"]
    again = api["clerk"].post("/cases", json={"data": REGISTRATION}, key="register-lost")
    assert again.status_code == 201 and again.get_json() == retry.get_json()
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        starts = session.scalars(select(AuditEvent.action).where(AuditEvent.action == "start")).all()
        assert len(starts) == 1


def test_a_completion_retried_after_a_lost_answer_is_not_repeated(
    app: Flask, api: dict[str, Api], runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    body = {"data": SUCCESS_PATH[0][2], "expected_revision": 1}
    failed = _fail_once_after_the_step(monkeypatch)
    lost = api["clerk"].post(f"/tasks/{task.id}/complete", json=body, key="complete-lost")
    assert lost.status_code == 500 and failed
    after = case_snapshot(runtime, case_id)
    retry = api["clerk"].post(f"/tasks/{task.id}/complete", json=body, key="complete-lost")
    assert retry.status_code == 200, retry.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json()["revision"] == 2
    assert "screen_case" not in [t["task_name"] for t in retry.get_json()["open_tasks"]]
    assert case_snapshot(runtime, case_id) == after
    with runtime.sessions() as session:
        completions = session.scalars(select(AuditEvent).where(AuditEvent.action == "complete")).all()
        assert len(completions) == 1


def test_a_server_error_before_the_step_frees_the_key(
    app: Flask, api: dict[str, Api], runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away before the step")

    with monkeypatch.context() as patch:
        patch.setattr(Runtime, "start_case", broken)
        assert api["clerk"].post("/cases", json={"data": REGISTRATION}, key="k-free").status_code == 500
    retry = api["clerk"].post("/cases", json={"data": REGISTRATION}, key="k-free")
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
