"""What administrators do with instances: deploy the procedure, pause and resume cases, retry incidents;
and what the timer worker does, fire due timers. People and organisations, the calendar and the audit
log have their own services (admin_people, calendar_admin, admin_audit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from orchestration.domain.access import Viewer
from orchestration.domain.procedure import Finding, read_directories
from orchestration.engine.runtime import SYSTEM
from orchestration.errors import NotFound
from orchestration.read import queries
from orchestration.read.queries import Page
from orchestration.services.base import Service, actor_of, require_admin
from orchestration.store.models import Case, Incident, ProcessVersion

__all__ = ["AdminService", "IncidentItem"]


@dataclass(frozen=True)
class IncidentItem:
    id: int
    case_id: int
    kind: str
    message: str
    created_at: datetime


class AdminService(Service):
    def deploy(self, viewer: Viewer | None = None) -> tuple[ProcessVersion, bool, list[Finding]]:
        """Deploys the processes and forms folders as a new version (unchanged files: nothing new) after the
        checks (errors refuse it with DeployError); returns (version, created, the warnings found)."""
        files = read_directories(self.runtime.processes_dir, self.runtime.forms_dir)
        actor = actor_of(viewer) if viewer is not None else SYSTEM
        version, created = self.runtime.deploy_files(files, actor)
        warnings = [f for f in self.runtime.check(files) if f.severity == "warning"] if created else []
        return version, created, warnings

    def version_files(self, process_id: str, number: int) -> dict[str, str]:
        """The files of a version by its number (for `fangtiao export`)."""
        with self.reading() as session:
            version = session.scalar(
                select(ProcessVersion).where(
                    ProcessVersion.process_id == process_id, ProcessVersion.number == number
                )
            )
            if version is None:
                raise NotFound(f"流程 {process_id} 没有第 {number} 版")
            return dict(version.files)

    def instances(
        self, viewer: Viewer, text: str | None = None, status: str | None = None, page: int = 1
    ) -> Page[Case]:
        """The process instances (cases) of the administrator's region, newest activity first."""
        require_admin(viewer)
        with self.reading() as session:
            return queries.search_cases(session, viewer, text, status, page)

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
