"""What the benchmarks share: their settings, and throwaway databases (a temporary SQLite file, or a
PostgreSQL schema of our own)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from orchestration.settings import Settings
from orchestration.store.db import make_engine

# The server the tests use (tests/conftest.py): the benchmarks make their schemas there too.
DEFAULT_POSTGRES = os.environ.get("FANGTIAO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def bench_settings() -> Settings:
    """The settings of the environment (FANGTIAO_*), logging only warnings and errors unless
    FANGTIAO_LOG_LEVEL says otherwise: a line per step would bury the figures and add to what is measured."""
    settings = Settings.from_env()
    return replace(settings, log_level=settings.log_level or "WARNING")


@contextmanager
def sqlite_database(prefix: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix=f"fangtiao-{prefix}-") as directory:
        yield f"sqlite:///{Path(directory) / 'bench.sqlite'}"


@contextmanager
def postgres_schema(base_url: str, prefix: str) -> Iterator[str]:
    """A schema of our own, as the tests do, dropped afterwards whatever happens."""
    schema = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        raise SystemExit(
            f"PostgreSQL unreachable at {base_url} ({exc.orig}); --postgres off skips it"
        ) from exc
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def require_postgres(url: str) -> None:
    """Fails early, before any SQLite figures are spent, when the PostgreSQL half cannot run."""
    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        raise SystemExit(f"PostgreSQL unreachable at {url}: {exc.orig}\n(--postgres off skips it)") from exc
    finally:
        engine.dispose()
