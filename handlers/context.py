"""What a handler may use: the open transaction, the case, the clock's now, the calendar and the task data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestration.domain.calendar import WorkingCalendar
from orchestration.store.models import Case


@dataclass
class HandlerContext:
    session: Session
    case: Case
    now: datetime
    calendar: WorkingCalendar
    data: Mapping[str, Any]
    actor: str
    task_name: str
