"""In-app notifications to the people of an organisation who hold a role."""

from __future__ import annotations

from handlers.context import HandlerContext
from orchestration.store.models import Notification


def notify(ctx: HandlerContext, org_id: int | None, role: str | None, kind: str, message: str) -> None:
    ctx.session.add(
        Notification(
            case_id=ctx.case.id, org_id=org_id, role=role, kind=kind, message=message, created_at=ctx.now
        )
    )
