"""With CSRF protection on (as in production), a form POST without the token is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.store.models import User
from tests.helpers import case_snapshot, open_task, start
from tests.webapp.conftest import make_app
from webapp.context import SERVICES_KEY


@pytest.fixture
def protected(database_url: str, runtime: Runtime, clock: FrozenClock, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(database_url, clock, tmp_path, WTF_CSRF_ENABLED=True)
    yield app
    app.extensions[SERVICES_KEY].close()


def token(client: FlaskClient, url: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True))
    assert match is not None
    return match.group(1)


def test_login_needs_the_token(protected: Flask) -> None:
    client = protected.test_client()
    refused = client.post("/login", data={"username": "clerk", "password": "fangtiao-demo"})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    accepted = client.post(
        "/login",
        data={"username": "clerk", "password": "fangtiao-demo", "csrf_token": token(client, "/login")},
    )
    assert accepted.status_code == 302


def test_task_submission_needs_the_token_and_the_token_is_not_form_data(
    protected: Flask, runtime: Runtime
) -> None:
    client = protected.test_client()
    client.post(
        "/login",
        data={"username": "clerk", "password": "fangtiao-demo", "csrf_token": token(client, "/login")},
    )
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    data = {
        "dispute_category": "citizen_property",
        "expected_revision": case_snapshot(runtime, case_id)["revision"],
    }
    refused = client.post(f"/tasks/{task.id}", data=data)
    assert refused.status_code == 400
    assert client.post(f"/tasks/{task.id}/claim").status_code == 400
    assert client.post("/logout").status_code == 400
    accepted = client.post(
        f"/tasks/{task.id}", data={**data, "csrf_token": token(client, f"/tasks/{task.id}")}
    )
    assert accepted.status_code == 302


def test_api_is_exempt_but_needs_json(protected: Flask, runtime: Runtime) -> None:
    client = protected.test_client()
    client.post(
        "/login",
        data={"username": "clerk", "password": "fangtiao-demo", "csrf_token": token(client, "/login")},
    )
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    ok = client.post(
        f"/api/tasks/{task.id}/complete",
        json={
            "data": {"dispute_category": "citizen_property"},
            "expected_revision": case_snapshot(runtime, case_id)["revision"],
        },
    )
    assert ok.status_code == 200


def test_an_administrators_change_needs_the_token(protected: Flask, runtime: Runtime) -> None:
    client = protected.test_client()
    client.post(
        "/login",
        data={"username": "admin", "password": "fangtiao-demo", "csrf_token": token(client, "/login")},
    )
    refused = client.post("/admin/users/clerk/deactivate", data={"reason": "调离"})
    assert refused.status_code == 400 and _active(runtime, "clerk")
    accepted = client.post(
        "/admin/users/clerk/deactivate",
        data={"reason": "调离", "csrf_token": token(client, "/admin/users/clerk")},
    )
    assert accepted.status_code == 302 and not _active(runtime, "clerk")


def _active(runtime: Runtime, username: str) -> bool:
    with runtime.sessions() as session:
        return bool(session.scalar(select(User.active).where(User.username == username)))
