"""Documents issued before documents were frozen get their snapshot and digest when the database is
upgraded: the issuer and names as the case stands then (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import JSON, DateTime, Engine, Integer, String, column, select, table

from orchestration.engine import documents as issuing
from orchestration.store import migrate
from orchestration.store.db import make_session_factory
from orchestration.store.models import Document

AT = datetime(2026, 11, 3, 1, 2, 3, 456789, tzinfo=UTC)


def _table(table_name: str, /, **columns: Any) -> Any:
    """The table as revision 0002 has it, with just the columns a test writes."""
    return table(table_name, *(column(key, kind) for key, kind in columns.items()))


ROWS: list[tuple[Any, list[dict[str, Any]]]] = [
    (
        _table("regions", code=String, name=String, level=String),
        [{"code": "r", "name": "八廓街道", "level": "township"}],
    ),
    (
        _table("organisations", id=Integer, code=String, name=String, kind=String, region_code=String),
        [
            {"id": 1, "code": "xf", "name": "八廓街道信访办", "kind": "petition_office", "region_code": "r"},
            {
                "id": 2,
                "code": "tw",
                "name": "八廓街道人民调解委员会",
                "kind": "mediation_committee",
                "region_code": "r",
            },
        ],
    ),
    (
        _table(
            "process_versions",
            id=Integer,
            process_id=String,
            content_hash=String,
            files=JSON,
            deployed_at=DateTime(timezone=True),
            deployed_by=String,
        ),
        [
            {
                "id": 1,
                "process_id": "p",
                "content_hash": "h",
                "files": {},
                "deployed_at": AT,
                "deployed_by": "s",
            }
        ],
    ),
    (
        _table(
            "cases",
            id=Integer,
            case_no=String,
            version_id=Integer,
            status=String,
            state=String,
            revision=Integer,
            title=String,
            parties_key=String,
            locality_code=String,
            petition_office_id=Integer,
            mediation_org_id=Integer,
            petition_warning=Integer,
            created_at=DateTime(timezone=True),
            updated_at=DateTime(timezone=True),
        ),
        [
            {
                "id": 1,
                "case_no": "FT2026-000001",
                "version_id": 1,
                "status": "running",
                "state": "",
                "revision": 1,
                "title": "院墙纠纷",
                "parties_key": "k",
                "locality_code": "r",
                "petition_office_id": 1,
                "mediation_org_id": 2,
                "petition_warning": 0,
                "created_at": AT,
                "updated_at": AT,
            }
        ],
    ),
    (
        _table(
            "documents",
            id=Integer,
            case_id=Integer,
            kind=String,
            title=String,
            number=String,
            created_at=DateTime(timezone=True),
            content=JSON,
        ),
        [
            {
                "id": 1,
                "case_id": 1,
                "kind": "return_letter",
                "title": "退回函",
                "number": "(2026)访调退字第1号",
                "created_at": AT,
                "content": {"reason": "已起诉"},
            }
        ],
    ),
]


@pytest.fixture
def at_0002(engine: Engine) -> Iterator[Engine]:
    """The database as revision 0002 left it; upgraded back to the latest whatever the test does."""
    config = migrate._config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
        connection.commit()
    try:
        yield engine
    finally:
        migrate.upgrade(engine)


def test_documents_issued_before_get_a_snapshot_and_digest(at_0002: Engine) -> None:
    with at_0002.begin() as connection:
        for rows_table, rows in ROWS:
            connection.execute(rows_table.insert(), rows)
    migrate.upgrade(at_0002)
    with make_session_factory(at_0002)() as session:
        document = session.scalar(select(Document))
        assert document is not None
        assert document.issuer_org_id == 2
        assert document.snapshot["issuer"]["name"] == "八廓街道人民调解委员会"
        assert document.snapshot["organisations"]["petition_office"] == "八廓街道信访办"
        assert issuing.intact(session, document)
