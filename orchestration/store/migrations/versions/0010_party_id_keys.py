"""cases.petitioner_id_key, cases.respondent_id_key: digests of the parties' ID numbers

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 11:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(sa.Column("petitioner_id_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("respondent_id_key", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_cases_petitioner_id_key"), ["petitioner_id_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_respondent_id_key"), ["respondent_id_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_respondent_id_key"))
        batch_op.drop_index(batch_op.f("ix_cases_petitioner_id_key"))
        batch_op.drop_column("respondent_id_key")
        batch_op.drop_column("petitioner_id_key")
