"""The console's home and health panel: the warnings an administrator should act on, shown when they
hold and not otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from orchestration.engine.clock import SHANGHAI, FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.services.calendar_admin import load_year, parse_schedule
from orchestration.store.models import Incident, WorkerHeartbeat
from tests.helpers import actor, advance_to, start
from tests.webapp.helpers import element, login, text


def beat(runtime: Runtime, age_seconds: float) -> None:
    now = datetime.now(UTC)
    with runtime.sessions() as session, session.begin():
        session.add(
            WorkerHeartbeat(
                id="w1",
                host="app-1",
                pid=4242,
                started_at=now - timedelta(hours=1),
                last_beat=now - timedelta(seconds=age_seconds),
                last_error="OperationalError: server closed the connection",
                last_error_at=now - timedelta(minutes=5),
            )
        )


def test_all_well(client: FlaskClient, runtime: Runtime, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 10, 12, 9, 0, tzinfo=SHANGHAI))  # before November: next year's notice not due
    beat(runtime, 1)
    login(client, "admin")
    page = client.get("/admin")
    assert page.status_code == 200
    assert "一切正常" in text(page)
    assert 'id="warning-' not in page.get_data(as_text=True)


def test_the_warnings(client: FlaskClient, runtime: Runtime, clock: FrozenClock) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    with runtime.sessions() as session, session.begin():
        session.add(Incident(case_id=case_id, kind="timer", message="测试", created_at=clock.now()))
    clock.set(datetime(2026, 11, 18, 9, 0, tzinfo=SHANGHAI))  # past the mediation deadline, no worker
    login(client, "admin")
    page = client.get("/admin")
    assert "一切正常" not in text(page)
    assert "2027年节假日安排仍为估算" in element(page, "warning-calendar")
    assert "没有正在运行的定时器工作进程" in element(page, "warning-workers")
    assert "2 个已到期的定时器尚未触发，最早的已迟 1天9小时" in text(page)
    assert "1 个故障事件待处理" in element(page, "warning-incidents")
    assert "1 项待办已超期" in element(page, "warning-overdue")

    load_year(
        runtime, 2027, parse_schedule(2027, '{"holidays": {"2027-01-01": "元旦"}}'), actor(runtime, "admin")
    )
    beat(runtime, 45)
    page = client.get("/admin")
    assert 'id="warning-calendar"' not in page.get_data(as_text=True)
    assert "定时器工作进程最近一次心跳在 45秒前" in element(page, "warning-workers")


def test_the_health_panel(client: FlaskClient, runtime: Runtime, clock: FrozenClock) -> None:
    beat(runtime, 2)
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    clock.set(datetime(2026, 11, 17, 0, 10, tzinfo=SHANGHAI))  # the deadline warning is ten minutes late
    login(client, "admin")
    page = client.get("/admin/health")
    assert "可用" in element(page, "database-status")
    worker = element(page, "worker-w1")
    assert "app-1" in worker and "4242" in worker and "运行中" in worker and "server closed" in worker
    assert element(page, "due-timers").startswith('<dd id="due-timers">1<')
    assert "10分钟" in element(page, "lateness")
    assert "1 个已到期的定时器尚未触发，最早的已迟 10分钟" in element(page, "warning-late-timers")
    assert 'id="warning-workers"' not in page.get_data(as_text=True)
