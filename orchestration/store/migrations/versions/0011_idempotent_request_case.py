"""idempotent_requests.case_id: the case a call's step changed, stored in the step's own transaction

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 11:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("idempotent_requests") as batch:
        batch.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_idempotent_requests_case_id_cases", "cases", ["case_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_idempotent_requests_case_id", ["case_id"])


def downgrade() -> None:
    with op.batch_alter_table("idempotent_requests") as batch:
        batch.drop_index("ix_idempotent_requests_case_id")
        batch.drop_constraint("fk_idempotent_requests_case_id_cases", type_="foreignkey")
        batch.drop_column("case_id")
