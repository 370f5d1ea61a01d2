"""The audit log for administrators: searched by case, user, action and period, in pages or exported
whole; ID numbers and phone numbers in the events' data are masked, as on every list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from orchestration.domain.access import Viewer, mask_pii
from orchestration.read import audit_log
from orchestration.read.audit_log import AuditFilter, AuditRow
from orchestration.read.queries import Page
from orchestration.services.base import Service, require_admin

__all__ = ["AuditFilter", "AuditLogService", "AuditRow"]

EXPORT_BATCH = 500


def _masked(row: AuditRow) -> AuditRow:
    return replace(row, detail=mask_pii(row.detail))


class AuditLogService(Service):
    def search(self, viewer: Viewer, filters: AuditFilter) -> Page[AuditRow]:
        require_admin(viewer)
        with self.reading() as session:
            found = audit_log.search(session, viewer, filters)
        return replace(found, items=[_masked(row) for row in found.items])

    def export(self, viewer: Viewer, filters: AuditFilter) -> Iterator[AuditRow]:
        """Every matching event, newest first. Who may export is checked now, before the first row is
        asked for: a refusal must not wait until a download has begun."""
        require_admin(viewer)
        return self._rows(viewer, filters)

    def _rows(self, viewer: Viewer, filters: AuditFilter) -> Iterator[AuditRow]:
        before: int | None = None
        while True:
            # a session per batch: a slow download holds no connection (nor a snapshot) open between them
            with self.reading() as session:
                rows = audit_log.batch(session, viewer, filters, before, EXPORT_BATCH)
            yield from (_masked(row) for row in rows)
            if len(rows) < EXPORT_BATCH:
                return
            before = rows[-1].id
