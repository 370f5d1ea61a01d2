"""The service API: what a user or the worker can do, one call each, shared by the web app and the tools.

Views and commands talk to these objects only; transactions, the engine, the spec cache and the state
codec stay behind them. Each service returns plain values or detached rows, never an open session.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from orchestration.domain.forms import FormRegistry
from orchestration.domain.privacy_notice import PrivacyNotices
from orchestration.engine.clock import Clock
from orchestration.engine.runtime import Runtime
from orchestration.services.admin import AdminService
from orchestration.services.admin_audit import AuditLogService
from orchestration.services.admin_instances import InstanceService
from orchestration.services.admin_people import PeopleService
from orchestration.services.api_tokens import ApiTokenService
from orchestration.services.calendar_admin import CalendarService
from orchestration.services.cases import CaseService
from orchestration.services.documents import DocumentService
from orchestration.services.health import HealthService
from orchestration.services.notifications import NotificationService
from orchestration.services.petitions import PetitionService
from orchestration.services.repository import RepositoryService
from orchestration.services.retention import RetentionService
from orchestration.services.tasks import TaskService
from orchestration.services.users import LoginPolicy, UserService
from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.store.db import make_engine, make_session_factory


class Services:
    def __init__(
        self,
        engine: Engine,
        clock: Clock | None = None,
        processes_dir: Path = PROJECT_ROOT / "processes",
        forms_dir: Path = PROJECT_ROOT / "forms",
        login_policy: LoginPolicy | None = None,
        collective_headcount: int = Settings.collective_headcount,
    ) -> None:
        self.engine = engine
        self.runtime = Runtime(make_session_factory(engine), clock, processes_dir, forms_dir)
        self.runtime.collective_headcount = collective_headcount
        self.tasks = TaskService(self.runtime)
        self.cases = CaseService(self.runtime)
        self.documents = DocumentService(self.runtime)
        self.notifications = NotificationService(self.runtime)
        self.petitions = PetitionService(self.runtime)
        self.users = UserService(self.runtime, login_policy)
        self.admin = AdminService(self.runtime)
        self.instances = InstanceService(self.runtime)
        self.people = PeopleService(self.runtime)
        self.calendar = CalendarService(self.runtime)
        self.audit_log = AuditLogService(self.runtime)
        self.health = HealthService(self.runtime)
        self.retention = RetentionService(self.runtime)
        self.repository = RepositoryService(self.runtime)
        self.api_tokens = ApiTokenService(self.runtime)

    @classmethod
    def open(
        cls, settings: Settings, database_url: str | None = None, clock: Clock | None = None
    ) -> Services:
        """The services over the settings' database (or the one given), with the settings' procedure."""
        engine = make_engine(database_url or settings.database_url)
        return cls(
            engine,
            clock,
            settings.processes_dir,
            settings.forms_dir,
            LoginPolicy.of(settings),
            settings.collective_headcount,
        )

    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    @property
    def forms(self) -> FormRegistry:
        """The forms of the current version of the procedure (see Runtime.current_forms)."""
        return self.runtime.current_forms()

    @property
    def notices(self) -> PrivacyNotices:
        return self.runtime.notices

    def close(self) -> None:
        self.engine.dispose()
