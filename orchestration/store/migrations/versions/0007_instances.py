"""the administrators' instance list and incidents: indexes to sort, filter and count cases, and whether a
case has a task open; an incident's failing step, traceback and attempts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task_open", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(
        "UPDATE cases SET task_open = EXISTS (SELECT 1 FROM open_tasks WHERE open_tasks.case_id = cases.id)"
    )
    op.create_index("ix_cases_status_task_open", "cases", ["status", "task_open", "id"])
    op.create_index("ix_cases_updated_at_id", "cases", ["updated_at", "id"])
    op.create_index("ix_cases_created_at_id", "cases", ["created_at", "id"])
    op.create_index("ix_cases_status_updated_at_id", "cases", ["status", "updated_at", "id"])
    op.create_index("ix_cases_status_created_at_id", "cases", ["status", "created_at", "id"])
    op.create_index(
        "ix_cases_locality_status_times",
        "cases",
        ["locality_code", "status", "updated_at", "created_at", "id"],
    )
    op.create_index("ix_cases_version_status", "cases", ["version_id", "status"])
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("traceback", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("traceback")
        batch_op.drop_column("task_name")
    op.drop_index("ix_cases_version_status", table_name="cases")
    op.drop_index("ix_cases_status_task_open", table_name="cases")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("task_open")
    op.drop_index("ix_cases_locality_status_times", table_name="cases")
    op.drop_index("ix_cases_status_created_at_id", table_name="cases")
    op.drop_index("ix_cases_status_updated_at_id", table_name="cases")
    op.drop_index("ix_cases_created_at_id", table_name="cases")
    op.drop_index("ix_cases_updated_at_id", table_name="cases")
