"""What every service shares: the runtime, short read sessions, the acting user, form options."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from orchestration.domain.access import Viewer, can_view_case
from orchestration.domain.calendar import WorkingCalendar
from orchestration.domain.forms import FormDefinition
from orchestration.engine.runtime import Actor, Runtime
from orchestration.errors import Forbidden, NotFound
from orchestration.read import queries
from orchestration.store.models import Case
from orchestration.vocabulary import Role

Options = Mapping[str, Sequence[tuple[str, str]]]


@dataclass(frozen=True)
class FormPage:
    """A form ready to draw: its definition, the options of its dynamic choice fields, initial values."""

    form: FormDefinition
    options: Options
    values: Mapping[str, object]


def require_admin(viewer: Viewer) -> None:
    if viewer.role != Role.ADMIN:
        raise Forbidden(f"用户 {viewer.username} 不是系统管理员")


def actor_of(viewer: Viewer) -> Actor:
    return Actor(viewer.username, viewer.role, viewer.org_id, viewer.user_id, viewer.display_name)


class Service:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A short read session. On SQLite every write transaction takes the database lock, so a read
        session is never held open across a step."""
        with self.runtime.sessions() as session:
            yield session

    def now(self) -> datetime:
        return self.runtime.clock.now()

    def calendar(self, session: Session) -> WorkingCalendar:
        return self.runtime.calendar(session)

    def form_options(self, session: Session, form: FormDefinition) -> dict[str, list[tuple[str, str]]]:
        provide = self.runtime.options(session)
        return {f.options_from: provide(f.options_from) for f in form.fields if f.options_from}

    def visible_case(self, session: Session, viewer: Viewer, case_no: str) -> Case:
        case = queries.case_by_number(session, case_no)
        if case is None:
            raise NotFound("案件不存在")
        if not can_view_case(session, viewer, case):
            raise Forbidden("您无权查看该案件")
        return case
