"""versions numbered per process and holding their forms and scenarios; drafts

Revision ID: 0004
Revises: 0003_d
Create Date: 2026-11-29 09:00:00

A version's files were the BPMN and DMN of processes/; they now also hold the task forms
(forms/<name>.json) and the scenarios (scenarios/<name>.json). Versions deployed before get the forms and
scenarios of the settings' folders as they are now, and their content hash is computed again over all the
files, so that deploying those folders unchanged is still recognised as unchanged.

The content hash is no longer unique: deploying an older version's files again makes a new version.
The reading and hashing are written out here rather than imported: a migration must keep doing what it
did when it was written.
"""

import hashlib
import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from orchestration.settings import Settings

revision = "0004"
down_revision = "0003_d"
branch_labels = None
depends_on = None


def _hash(files: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(files[name].encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _current_forms_and_scenarios() -> dict[str, str]:
    settings = Settings.from_env()
    files = {
        f"scenarios/{p.name}": p.read_text(encoding="utf-8-sig")
        for p in sorted(Path(settings.processes_dir, "scenarios").glob("*.json"))
        if p.name != "scenario.schema.json"
    }
    for path in sorted(settings.forms_dir.glob("*.json")):
        files[f"forms/{path.name}"] = path.read_text(encoding="utf-8-sig")
    return files


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("based_on_version_id", sa.Integer(), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["based_on_version_id"], ["process_versions.id"]),
        sa.ForeignKeyConstraint(["current_version_id"], ["process_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("process_versions") as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))

    connection = op.get_bind()
    versions = sa.table(
        "process_versions",
        sa.column("id", sa.Integer()),
        sa.column("process_id", sa.String()),
        sa.column("number", sa.Integer()),
        sa.column("content_hash", sa.String()),
        sa.column("files", sa.JSON()),
    )
    counters = sa.table("counters", sa.column("key", sa.String()), sa.column("last", sa.Integer()))
    rows = list(connection.execute(sa.select(versions).order_by(versions.c.id)))
    added = _current_forms_and_scenarios() if rows else {}
    numbers: dict[str, int] = {}
    for row in rows:
        numbers[row.process_id] = numbers.get(row.process_id, 0) + 1
        files = row.files if isinstance(row.files, dict) else json.loads(row.files)
        if not any(name.startswith("forms/") for name in files):
            files = {**files, **added}
        connection.execute(
            versions.update()
            .where(versions.c.id == row.id)
            .values(number=numbers[row.process_id], files=files, content_hash=_hash(files))
        )
    for process_id, last in numbers.items():
        connection.execute(counters.insert().values(key=f"version:{process_id}", last=last))

    with op.batch_alter_table("process_versions", naming_convention=NAMING) as batch_op:
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(_unique_name(connection), type_="unique")
        batch_op.create_index(batch_op.f("ix_process_versions_content_hash"), ["content_hash"], unique=False)
        batch_op.create_unique_constraint("uq_process_versions_process_id_number", ["process_id", "number"])


# The unique constraint on content_hash was created without a name: PostgreSQL named it, SQLite did
# not, and batch mode finds it on SQLite only through a naming convention.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _unique_name(connection: sa.engine.Connection) -> str:
    if connection.dialect.name == "postgresql":
        return "process_versions_content_hash_key"
    return "uq_process_versions_content_hash"


def downgrade() -> None:
    with op.batch_alter_table("process_versions", naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint("uq_process_versions_process_id_number", type_="unique")
        batch_op.drop_index(batch_op.f("ix_process_versions_content_hash"))
        # named as the upgrade finds it again, on either database
        batch_op.create_unique_constraint(_unique_name(op.get_bind()), ["content_hash"])
        batch_op.drop_column("number")
    op.execute("DELETE FROM counters WHERE key LIKE 'version:%'")
    op.drop_table("drafts")
