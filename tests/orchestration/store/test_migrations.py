"""The migrations and the models describe the same schema: autogenerate finds nothing to add, drop or
alter on a database built by the migrations alone (SQLite and PostgreSQL). Data migrations do their job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, DateTime, Engine, column, select, table, text
from sqlalchemy.orm import Session

from orchestration.domain.procedure import content_hash, process_files, read_directories
from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.engine.specs import PROCESS_ID
from orchestration.store import migrate
from orchestration.store.db import make_engine, make_session_factory
from orchestration.store.models import Base, Counter, ProcessVersion
from tests.conftest import BACKENDS, POSTGRES_URL, _postgres_schema_url


def test_models_match_the_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "models and migrations differ; run `fangtiao db revision -m …`"


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with no tables at all, for migrating step by step."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'steps.sqlite'}")
        yield engine
        engine.dispose()
        return
    schema, url = _postgres_schema_url()
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_versions_deployed_before_forms_were_versioned_get_the_current_forms(
    empty_database: Engine, project_root: Path
) -> None:
    """Migration 0004: a version of BPMN and DMN only gets today's forms and scenarios and a number, and
    its hash is computed again, so deploying the folders unchanged still makes no new version."""
    migrate.upgrade(empty_database, "0002")
    files = read_directories(project_root / "processes", project_root / "forms")
    old_files = process_files(files)
    versions = table(
        "process_versions",
        column("process_id"),
        column("content_hash"),
        column("files", JSON),
        column("deployed_at", DateTime(timezone=True)),
        column("deployed_by"),
    )
    with empty_database.begin() as connection:
        connection.execute(
            versions.insert().values(
                process_id=PROCESS_ID,
                content_hash=content_hash(old_files),
                files=old_files,
                deployed_at=datetime(2026, 11, 1, tzinfo=UTC),
                deployed_by="system",
            )
        )
    migrate.upgrade(empty_database)
    with Session(empty_database) as session:
        version = session.scalars(select(ProcessVersion)).one()
        assert (version.number, version.files) == (1, files)
        assert version.content_hash == content_hash(files)
        assert session.get(Counter, f"version:{PROCESS_ID}").last == 1  # type: ignore[union-attr]
    runtime = Runtime(make_session_factory(empty_database), FrozenClock(datetime(2026, 11, 2, tzinfo=UTC)))
    again, created = runtime.deploy()
    assert (again.id, created) == (version.id, False)
    created = runtime.deploy_files({**files, "forms/mediate.json": files["forms/mediate.json"] + "\n"})[0]
    assert created.number == 2
