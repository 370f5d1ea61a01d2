"""What administrators do: deploy the procedure, pause and resume cases, retry incidents, keep the
working-day calendar; and what the timer worker does, fire due timers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from orchestration.domain.access import Viewer
from orchestration.domain.organisations import side_kinds
from orchestration.domain.procedure import Finding, read_directories
from orchestration.engine.runtime import SYSTEM
from orchestration.errors import Forbidden, InvalidData, NotFound
from orchestration.read import queries
from orchestration.services import calendar_admin
from orchestration.services.base import Service, actor_of
from orchestration.services.calendar_admin import Recomputed
from orchestration.store import audit
from orchestration.store.models import Incident, Organisation, ProcessVersion
from orchestration.vocabulary import AuditAction, Role

__all__ = ["AdminService", "IncidentItem", "OrganisationSettings", "Recomputed"]


@dataclass(frozen=True)
class OrganisationSettings:
    code: str
    name: str
    kind: str
    document_prefix: str | None
    seal_name: str | None
    court_name: str | None


_PREFIX = re.compile(r"^[\w\u4e00-\u9fff]{1,16}$")


@dataclass(frozen=True)
class IncidentItem:
    id: int
    case_id: int
    kind: str
    message: str
    created_at: datetime


def _require_admin(viewer: Viewer) -> None:
    if viewer.role != Role.ADMIN:
        raise Forbidden(f"用户 {viewer.username} 不是系统管理员")


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

    def set_suspended(self, viewer: Viewer, case_no: str, suspended: bool) -> None:
        _require_admin(viewer)
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
        _require_admin(viewer)
        self.runtime.retry_incident(incident_id, actor_of(viewer))

    def fire_due_timers(self, limit: int = 10_000) -> int:
        return self.runtime.run_due_timers(limit=limit)

    # ---- organisations' document settings ---------------------------------------------------

    def organisations(self) -> list[OrganisationSettings]:
        with self.reading() as session:
            rows = session.scalars(select(Organisation).order_by(Organisation.code))
            return [
                OrganisationSettings(o.code, o.name, o.kind, o.document_prefix, o.seal_name, o.court_name)
                for o in rows
            ]

    def set_document_settings(
        self,
        viewer: Viewer,
        code: str,
        prefix: str | None = None,
        seal_name: str | None = None,
        court_name: str | None = None,
    ) -> OrganisationSettings:
        """An organisation's prefix of document numbers, the name its seal bears and the court where it
        sits; those not given stay. Two bodies issuing the same kinds may not share a prefix, or their
        numbers would repeat."""
        _require_admin(viewer)
        with self.runtime.transaction() as session:
            org = session.scalar(select(Organisation).where(Organisation.code == code))
            if org is None:
                raise NotFound(f"未知机构：{code}")
            if prefix is not None:
                prefix = prefix.strip()
                if not _PREFIX.match(prefix):
                    raise InvalidData("文号前缀应为1至16个汉字、字母或数字（如“城八”）")
                same_side = side_kinds(org.kind)
                clash = session.scalar(
                    select(Organisation.name).where(
                        Organisation.document_prefix == prefix,
                        Organisation.id != org.id,
                        Organisation.kind.in_(same_side),
                    )
                )
                if clash is not None:
                    raise InvalidData(f"文号前缀“{prefix}”已由{clash}使用，同类文书的文号会重复")
                org.document_prefix = prefix
            if seal_name is not None:
                org.seal_name = seal_name.strip() or None
            if court_name is not None:
                org.court_name = court_name.strip() or None
            audit.record(
                session,
                self.now(),
                viewer.username,
                AuditAction.ORGANISATION,
                None,
                organisation=org.code,
                document_prefix=org.document_prefix,
                seal_name=org.seal_name,
                court_name=org.court_name,
            )
            return OrganisationSettings(
                org.code, org.name, org.kind, org.document_prefix, org.seal_name, org.court_name
            )

    # ---- the working-day calendar -----------------------------------------------------------

    def calendar_year(self, year: int) -> tuple[bool, list[dict[str, object]]]:
        """(whether the year is only estimated, its days that differ from the weekly rhythm)."""
        with self.reading() as session:
            estimated = self.calendar(session).is_estimated(year)
        return estimated, calendar_admin.year_table(self.runtime, year)

    def set_calendar_day(self, viewer: Viewer, day: date, working: bool, note: str) -> Recomputed:
        _require_admin(viewer)
        return calendar_admin.set_day(self.runtime, day, working, note, actor_of(viewer))

    def load_calendar_year(
        self, viewer: Viewer, year: int, days: Mapping[date, tuple[bool, str]]
    ) -> Recomputed:
        _require_admin(viewer)
        return calendar_admin.load_year(self.runtime, year, days, actor_of(viewer))
