"""Creating and upgrading the database schema with Alembic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import Script
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = _config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def revision(engine: Engine, message: str) -> Path | None:
    """For developers: writes the next migration from the difference between the models and a database
    upgraded to the latest migration; writes nothing (and returns None) when there is no difference."""
    config = _config(engine)

    def skip_empty(context: Any, revision: Any, directives: list[Any]) -> None:
        if directives[0].upgrade_ops.is_empty():
            directives[:] = []

    with engine.connect() as connection:
        config.attributes["connection"] = connection
        script = command.revision(
            config, message=message, autogenerate=True, process_revision_directives=skip_empty
        )
    return Path(script.path) if isinstance(script, Script) else None
