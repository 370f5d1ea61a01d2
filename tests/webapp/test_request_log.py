"""Every request gets an id, returned in X-Request-Id and stamped on each log line written while it runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from orchestration import logs
from orchestration.engine.runtime import Runtime
from tests.helpers import SUCCESS_PATH, open_task, start
from tests.webapp.helpers import case_revision, login


def test_each_request_gets_its_own_id(client: FlaskClient) -> None:
    first, second = client.get("/login"), client.get("/login")
    ids = [first.headers["X-Request-Id"], second.headers["X-Request-Id"]]
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids) and ids[0] != ids[1]
    assert client.get("/no-such-page").headers["X-Request-Id"]
    assert logs.request_id.get() is None  # nothing of a request outlives it


def test_a_step_done_in_a_request_is_logged_with_its_id(
    client: FlaskClient, runtime: Runtime, log_entries: Callable[[], list[dict[str, Any]]]
) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    login(client, "clerk")
    log_entries()
    body = {"data": SUCCESS_PATH[0][2], "expected_revision": case_revision(runtime, case_id)}
    response = client.post(f"/api/tasks/{task.id}/complete", json=body)
    assert response.status_code == 200
    rid = response.headers["X-Request-Id"]
    mine = [e for e in log_entries() if e.get("request") == rid]
    assert [(e["logger"], e["message"]) for e in mine] == [
        ("fangtiao.runtime", "已提交：complete"),
        ("fangtiao.web", f"POST /api/tasks/{task.id}/complete 200"),
    ]
    assert mine[0]["step"] == "screen_case" and mine[0]["case"].startswith("FT2026-")
    assert mine[1]["ms"] >= mine[0]["ms"] > 0


def test_health_checks_are_not_logged_line_by_line(
    client: FlaskClient, log_entries: Callable[[], list[dict[str, Any]]]
) -> None:
    log_entries()
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200
    assert [e["message"] for e in log_entries() if e["logger"] == "fangtiao.web"] == ["GET /login 200"]
