"""Database fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from FANGTIAO_TEST_POSTGRES_URL (default: the machine's local server, database
`test`); each test run works in a schema of its own so runs side by side do not meet. Set
FANGTIAO_TEST_POSTGRES=off to run SQLite only; PostgreSQL being unreachable is a failure, not a skip.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from orchestration import logs
from orchestration.engine.clock import SHANGHAI, FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.settings import Settings
from orchestration.store import migrate
from orchestration.store.db import make_engine
from orchestration.store.models import Base
from tests.helpers import deployed_runtime

POSTGRES_URL = os.environ.get("FANGTIAO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite"] if os.environ.get("FANGTIAO_TEST_POSTGRES") == "off" else ["sqlite", "postgresql"]
START = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)


def _postgres_schema_url() -> tuple[str, str]:
    schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    separator = "&" if "?" in POSTGRES_URL else "?"
    return schema, f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
        return
    schema, url = _postgres_schema_url()
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def wipe(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    wipe(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def runtime(engine: Engine, clock: FrozenClock) -> Runtime:
    """A runtime on an empty database with the demo network and the procedure deployed."""
    return deployed_runtime(engine, clock)


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def log_entries(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The process's log as configured in production, in JSON: a function returning the entries written
    since the last call. The root logger's level and handlers are restored afterwards."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    logs.configure(Settings.from_env({}, log_format="json", log_level="INFO"))
    capsys.readouterr()

    def entries() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]

    yield entries
    root.setLevel(level)
    root.handlers[:] = handlers
