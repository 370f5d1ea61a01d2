"""documents frozen when issued: snapshot, digest, issuer, supersession, later acts; organisations'
document settings

Revision ID: 0003_d
Revises: 0002
Create Date: 2026-11-29 07:10:00
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

from orchestration.store.models import UTCDateTime, document_digest

revision = "0003_d"
down_revision = "0002"
branch_labels = None
depends_on = None

# The issuing side of the kinds documents had before this revision.
_ISSUERS = {
    "referral_letter": "petition_office",
    "acceptance_receipt": "mediation_org",
    "return_letter": "mediation_org",
    "agreement": "mediation_org",
    "oral_agreement_record": "mediation_org",
    "termination_notice": "mediation_org",
    "feedback_receipt": "mediation_org",
    "follow_up_record": "mediation_org",
}


def upgrade() -> None:
    op.create_table(
        "document_acts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("act", sa.String(length=16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("document_acts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_acts_document_id"), ["document_id"], unique=False)

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_prefix", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("seal_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("court_name", sa.String(length=200), nullable=True))

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issuer_org_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("snapshot", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("issued_by", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("supersedes_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("correction_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key("fk_documents_supersedes_id", "documents", ["supersedes_id"], ["id"])
        batch_op.create_foreign_key("fk_documents_issuer_org_id", "organisations", ["issuer_org_id"], ["id"])
    with op.batch_alter_table("documents", schema=None) as batch_op:
        for column in ("snapshot", "digest", "issued_by"):
            batch_op.alter_column(column, server_default=None)
    _freeze_existing()


def _freeze_existing() -> None:
    """Documents issued before this revision are frozen as the case stands now: the best there is."""
    bind = op.get_bind()
    documents = sa.table(
        "documents",
        sa.column("id", sa.Integer),
        sa.column("case_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("title", sa.String),
        sa.column("number", sa.String),
        sa.column("created_at", UTCDateTime()),
        sa.column("content", sa.JSON),
        sa.column("issuer_org_id", sa.Integer),
        sa.column("snapshot", sa.JSON),
        sa.column("digest", sa.String),
    )
    cases = sa.table(
        "cases",
        sa.column("id", sa.Integer),
        sa.column("case_no", sa.String),
        sa.column("title", sa.String),
        sa.column("petition_office_id", sa.Integer),
        sa.column("mediation_org_id", sa.Integer),
        sa.column("justice_org_id", sa.Integer),
    )
    orgs = {row.id: row for row in bind.execute(sa.text("SELECT id, code, name, kind FROM organisations"))}
    attachments: dict[int, dict[str, str]] = {}
    for row in bind.execute(sa.text("SELECT id, case_id, filename FROM attachments")):
        attachments.setdefault(row.case_id, {})[str(row.id)] = row.filename
    case_rows = {row.id: row for row in bind.execute(sa.select(cases))}
    for doc in list(bind.execute(sa.select(documents))):
        case = case_rows[doc.case_id]
        sides = {
            "petition_office": case.petition_office_id,
            "mediation_org": case.mediation_org_id,
            "justice_org": case.justice_org_id,
        }
        issuer_id = sides.get(_ISSUERS.get(doc.kind, "mediation_org"))
        issuer = orgs.get(issuer_id)
        snapshot: dict[str, Any] = {
            "issuer": (
                {"code": issuer.code, "name": issuer.name, "kind": issuer.kind, "seal_name": issuer.name}
                if issuer is not None
                else None
            ),
            "organisations": {side: orgs[i].name if i in orgs else None for side, i in sides.items()},
            "case": {"case_no": case.case_no, "title": case.title},
            "attachments": attachments.get(case.id, {}),
        }
        digest = document_digest(doc.kind, doc.title, doc.number, doc.created_at, doc.content, snapshot, None)
        bind.execute(
            documents.update()
            .where(documents.c.id == doc.id)
            .values(issuer_org_id=issuer_id, snapshot=snapshot, digest=digest)
        )


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint("fk_documents_issuer_org_id", type_="foreignkey")
        batch_op.drop_constraint("fk_documents_supersedes_id", type_="foreignkey")
        batch_op.drop_column("correction_reason")
        batch_op.drop_column("supersedes_id")
        batch_op.drop_column("issued_by")
        batch_op.drop_column("digest")
        batch_op.drop_column("snapshot")
        batch_op.drop_column("issuer_org_id")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("court_name")
        batch_op.drop_column("seal_name")
        batch_op.drop_column("document_prefix")
    with op.batch_alter_table("document_acts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_acts_document_id"))
    op.drop_table("document_acts")
