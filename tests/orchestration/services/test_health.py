"""The administrators' health panel: the database, the workers' heartbeats, how late the due timers are,
open incidents and overdue tasks, counted in the administrator's region."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestration.engine.clock import SHANGHAI, FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.errors import Forbidden
from orchestration.services.health import STALE_AFTER_SECONDS, HealthService
from orchestration.services.users import UserService
from orchestration.store.models import Incident, WorkerHeartbeat
from tests.helpers import advance_to, start, viewer
from tests.orchestration.services.test_admin_people import county_admin

WARNING_DUE = datetime(2026, 11, 17, 0, 0, tzinfo=SHANGHAI)  # 调解期限临近 of a case mediating from 11-02
DEADLINE = datetime(2026, 11, 17, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def health(runtime: Runtime) -> HealthService:
    return HealthService(runtime)


def beat(runtime: Runtime, age_seconds: float) -> None:
    now = datetime.now(UTC)
    with runtime.sessions() as session, session.begin():
        session.add(
            WorkerHeartbeat(
                id=f"w{age_seconds}",
                host="app-1",
                pid=1,
                started_at=now - timedelta(hours=1),
                last_beat=now - timedelta(seconds=age_seconds),
            )
        )


def test_a_quiet_system_without_workers(runtime: Runtime, health: HealthService) -> None:
    panel = health.panel(viewer(runtime, "admin"))
    assert panel.health.error is None and panel.health.workers == []
    assert panel.workers_stale
    assert (panel.due_timers, panel.oldest_due, panel.lateness_seconds) == (0, None, None)
    assert (panel.incidents, panel.overdue_tasks) == (0, 0)


def test_heartbeats_fresh_or_stale(runtime: Runtime, health: HealthService) -> None:
    beat(runtime, STALE_AFTER_SECONDS + 60)
    assert health.panel(viewer(runtime, "admin")).workers_stale
    beat(runtime, 1)
    panel = health.panel(viewer(runtime, "admin"))
    assert not panel.workers_stale and [w.id for w in panel.health.workers] == [
        "w1",
        f"w{STALE_AFTER_SECONDS + 60}",
    ]


def test_late_timers_incidents_and_overdue_tasks(
    runtime: Runtime, health: HealthService, clock: FrozenClock
) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    admin = viewer(runtime, "admin")
    clock.set(WARNING_DUE + timedelta(minutes=10))  # the warning is due and no worker fired it
    panel = health.panel(admin)
    assert (panel.due_timers, panel.oldest_due, panel.lateness_seconds) == (1, WARNING_DUE, 600.0)
    assert panel.overdue_tasks == 0

    clock.set(DEADLINE + timedelta(hours=1))  # still no worker: 依法调解 is past its deadline
    with runtime.sessions() as session, session.begin():
        session.add(Incident(case_id=case_id, kind="timer", message="测试事件", created_at=clock.now()))
    panel = health.panel(admin)
    assert (panel.due_timers, panel.oldest_due, panel.overdue_tasks, panel.incidents) == (
        2,
        WARNING_DUE,
        1,
        1,
    )

    county = health.panel(county_admin(runtime, UserService(runtime)))  # the case is of another region
    assert (county.due_timers, county.overdue_tasks, county.incidents) == (0, 0, 0)

    runtime.run_due_timers()
    assert health.panel(admin).due_timers == 0


def test_only_administrators_see_the_panel(runtime: Runtime, health: HealthService) -> None:
    for username in ("clerk", "leader", "mediator", "justice", "policy"):
        with pytest.raises(Forbidden, match="不是系统管理员"):
            health.panel(viewer(runtime, username))
