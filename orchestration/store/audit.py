"""The one way an audited action or an audited read is written: an append-only row in the same
transaction as what it records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from orchestration.store.models import AuditEvent
from orchestration.vocabulary import AuditAction


def record(
    session: Session,
    at: datetime,
    actor: str,
    action: AuditAction,
    case_id: int | None = None,
    task_name: str | None = None,
    **detail: Any,
) -> None:
    # A plain INSERT: the row is never read back in the transaction, so it needs no ORM identity.
    session.execute(
        insert(AuditEvent).values(
            case_id=case_id, at=at, actor=actor, action=str(action), task_name=task_name, detail=detail
        )
    )
