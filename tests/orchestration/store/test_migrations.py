"""The migrations and the models describe the same schema: autogenerate finds nothing to add, drop or
alter on a database built by the migrations alone (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from orchestration.store.models import Base


def test_models_match_the_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "models and migrations differ; run `fangtiao db revision -m …`"
