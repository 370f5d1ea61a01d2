"""Web app fixtures: the app on the test database (SQLite and PostgreSQL) with the test's frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.settings import Settings
from webapp import create_app
from webapp.context import SERVICES_KEY

# The tests move the frozen clock by days to reach deadlines while a user stays signed in; the sessions'
# own lifetime (8 hours by default) is tested in test_sessions.py with an app of its own.
TEST_SESSION_HOURS = 24 * 400


def make_app(
    database_url: str,
    clock: FrozenClock,
    tmp_path: Any,
    session_hours: int = TEST_SESSION_HOURS,
    **config: Any,
) -> Flask:
    return create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "CLOCK": clock,
            "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": False,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            **config,
        },
        Settings.from_env(session_hours=session_hours),
    )


@pytest.fixture
def app(database_url: str, runtime: Runtime, clock: FrozenClock, tmp_path: Any) -> Iterator[Flask]:
    """Depends on `runtime` so that the database is wiped, seeded with the demo network and deployed."""
    app = make_app(database_url, clock, tmp_path)
    yield app
    app.extensions[SERVICES_KEY].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
