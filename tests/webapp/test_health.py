"""/healthz: no login, JSON; 200 with the workers' heartbeats while the database answers, 503 with a Chinese
reason when it does not — never a 500, even for a signed-in browser."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.engine.worker import TimerWorker
from orchestration.store.db import make_engine
from orchestration.store.models import WorkerHeartbeat
from tests.conftest import BACKENDS, POSTGRES_URL
from tests.webapp.conftest import make_app
from webapp.context import SERVICES_KEY

WORKER_KEYS = {"id", "host", "pid", "started_at", "last_beat", "age_seconds", "last_error", "last_error_at"}


def test_healthy_without_workers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "freshest_heartbeat_age_seconds": None,
        "workers": [],
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_workers_are_listed_freshest_first_with_their_age(client: FlaskClient, runtime: Runtime) -> None:
    now = datetime.now(UTC)
    with runtime.sessions() as session, session.begin():
        for worker_id, age, error in (("old", 600, "OperationalError: server closed"), ("new", 2, None)):
            session.add(
                WorkerHeartbeat(
                    id=worker_id,
                    host="app-1",
                    pid=4242,
                    started_at=now - timedelta(hours=1),
                    last_beat=now - timedelta(seconds=age),
                    last_error=error,
                    last_error_at=now - timedelta(seconds=700) if error else None,
                )
            )
    body = client.get("/healthz").get_json()
    assert [w["id"] for w in body["workers"]] == ["new", "old"]
    assert all(set(w) == WORKER_KEYS for w in body["workers"])
    assert 2 <= body["freshest_heartbeat_age_seconds"] < 60
    assert 600 <= body["workers"][1]["age_seconds"] < 660
    assert body["workers"][1]["last_error"] == "OperationalError: server closed"


def test_a_running_worker_beats_and_a_stopped_one_signs_off(client: FlaskClient, runtime: Runtime) -> None:
    worker = TimerWorker(runtime, poll_seconds=0.05, heartbeat_seconds=0.2)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        beats = set()
        limit = time.monotonic() + 20
        while time.monotonic() < limit and len(beats) < 3:
            workers = client.get("/healthz").get_json()["workers"]
            beats |= {w["last_beat"] for w in workers if w["id"] == worker.id}
            time.sleep(0.05)
        assert len(beats) >= 3  # it beats again and again, not once
        [listed] = client.get("/healthz").get_json()["workers"]
        assert (listed["pid"], listed["host"], listed["last_error"]) == (os.getpid(), worker.host, None)
    finally:
        worker.stop.set()
        thread.join()
    assert client.get("/healthz").get_json()["workers"] == []


def test_a_first_beat_forgets_workers_gone_for_a_day(runtime: Runtime) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=2)
    with runtime.sessions() as session, session.begin():
        session.add(WorkerHeartbeat(id="gone", host="h", pid=1, started_at=long_ago, last_beat=long_ago))
    worker = TimerWorker(runtime)
    worker.beat()
    with runtime.sessions() as session:
        assert list(session.scalars(select(WorkerHeartbeat.id))) == [worker.id]


UNREACHABLE = {
    "sqlite": lambda tmp: f"sqlite:///{tmp}",  # a folder where the file should be: cannot be opened
    "postgresql": lambda tmp: "postgresql://postgres@127.0.0.1:1/fangtiao",  # nothing listens on port 1
}


@pytest.fixture(params=BACKENDS)
def unreachable_app(request: pytest.FixtureRequest, clock: FrozenClock, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(UNREACHABLE[request.param](tmp_path), clock, tmp_path)
    yield app
    app.extensions[SERVICES_KEY].close()


def test_503_with_a_chinese_reason_when_the_database_cannot_be_reached(unreachable_app: Flask) -> None:
    client = unreachable_app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "error": "数据库无法连接",
        "database": "unavailable",
        "freshest_heartbeat_age_seconds": None,
        "workers": [],
    }
    assert response.headers["X-Request-Id"]
    # a browser still holding a session: loading its user would need the database
    with client.session_transaction() as session:
        session["_user_id"] = "1.0123456789abcdef"
        session["_fresh"] = True
    assert client.get("/healthz").status_code == 503


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that answers but was never migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    schema = f"empty_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_503_when_the_database_answers_but_was_never_migrated(
    empty_database: str, clock: FrozenClock, tmp_path: Path
) -> None:
    app = make_app(empty_database, clock, tmp_path)
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert "fangtiao migrate" in response.get_json()["error"]
    finally:
        app.extensions[SERVICES_KEY].close()


def test_any_page_needing_an_unreachable_database_answers_503_in_chinese(unreachable_app: Flask) -> None:
    client = unreachable_app.test_client()
    page = client.post("/login", data={"username": "clerk", "password": "x"})
    assert page.status_code == 503 and "数据库暂时无法连接" in page.get_data(as_text=True)
