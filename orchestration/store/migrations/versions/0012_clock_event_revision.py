"""clock_events.revision: the case revision that recorded the event, so that a reset undoes it

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 13:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clock_events") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clock_events") as batch:
        batch.drop_column("revision")
