"""In-app notifications: each person of the addressed organisation and role reads them for themselves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from orchestration.domain.access import Viewer
from orchestration.read import queries
from orchestration.read.queries import NotificationItem, Page
from orchestration.services.base import Service
from orchestration.store.models import Case

__all__ = ["NotificationItem", "NotificationList", "NotificationService"]


@dataclass(frozen=True)
class NotificationList:
    page: Page[NotificationItem]
    case_numbers: Mapping[int, str]  # case id -> case number


class NotificationService(Service):
    def inbox(self, viewer: Viewer, unread_only: bool = False, page: int = 1) -> NotificationList:
        with self.reading() as session:
            found = queries.notifications(session, viewer, unread_only, page)
            case_ids = {n.case_id for n in found.items if n.case_id}
            rows = session.execute(select(Case.id, Case.case_no).where(Case.id.in_(case_ids)))
            return NotificationList(found, {case_id: case_no for case_id, case_no in rows})

    def unread(self, viewer: Viewer) -> int:
        with self.reading() as session:
            return queries.unread_count(session, viewer)

    def mark_read(self, viewer: Viewer, ids: list[int] | None = None) -> int:
        """Marks the viewer's own unread notifications read (the given ones, or all); returns how many."""
        with self.runtime.transaction() as session:
            return queries.mark_read(session, viewer, self.now(), ids)
