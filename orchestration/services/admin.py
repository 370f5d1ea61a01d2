"""What administrators do: deploy the procedure, pause and resume cases, retry incidents, keep the
working-day calendar; and what the timer worker does, fire due timers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from orchestration.domain.access import Viewer
from orchestration.engine.runtime import SYSTEM
from orchestration.errors import NotFound
from orchestration.read import queries
from orchestration.services import calendar_admin
from orchestration.services.base import Service, actor_of, require_admin
from orchestration.services.calendar_admin import Recomputed
from orchestration.store.models import Incident, ProcessVersion

__all__ = ["AdminService", "IncidentItem", "Recomputed"]


@dataclass(frozen=True)
class IncidentItem:
    id: int
    case_id: int
    kind: str
    message: str
    created_at: datetime


class AdminService(Service):
    def deploy(self, viewer: Viewer | None = None) -> tuple[ProcessVersion, bool]:
        """Deploys processes/ as a new version (unchanged files: nothing new); returns (version, created)."""
        return self.runtime.deploy(actor_of(viewer) if viewer is not None else SYSTEM)

    def set_suspended(self, viewer: Viewer, case_no: str, suspended: bool) -> None:
        require_admin(viewer)
        with self.reading() as session:
            case = queries.case_by_number(session, case_no)
            if case is None:
                raise NotFound(f"未知案件：{case_no}")
            case_id = case.id
        self.runtime.set_suspended(case_id, suspended, actor_of(viewer))

    def incidents(self) -> list[IncidentItem]:
        with self.reading() as session:
            rows = session.scalars(
                select(Incident).where(Incident.resolved_at.is_(None)).order_by(Incident.id)
            )
            return [IncidentItem(i.id, i.case_id, i.kind, i.message, i.created_at) for i in rows]

    def retry_incident(self, viewer: Viewer, incident_id: int) -> None:
        require_admin(viewer)
        self.runtime.retry_incident(incident_id, actor_of(viewer))

    def fire_due_timers(self, limit: int = 10_000) -> int:
        return self.runtime.run_due_timers(limit=limit)

    # ---- the working-day calendar -----------------------------------------------------------

    def calendar_year(self, year: int) -> tuple[bool, list[dict[str, object]]]:
        """(whether the year is only estimated, its days that differ from the weekly rhythm)."""
        with self.reading() as session:
            estimated = self.calendar(session).is_estimated(year)
        return estimated, calendar_admin.year_table(self.runtime, year)

    def set_calendar_day(self, viewer: Viewer, day: date, working: bool, note: str) -> Recomputed:
        require_admin(viewer)
        return calendar_admin.set_day(self.runtime, day, working, note, actor_of(viewer))

    def load_calendar_year(
        self, viewer: Viewer, year: int, days: Mapping[date, tuple[bool, str]]
    ) -> Recomputed:
        require_admin(viewer)
        return calendar_admin.load_year(self.runtime, year, days, actor_of(viewer))
