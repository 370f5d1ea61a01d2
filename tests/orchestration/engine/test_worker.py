"""Timers fire on time and exactly once, with several workers, after crashes, and around the calendar; the
worker outlives the database going away and keeps a heartbeat."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, make_url, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from handlers import api
from orchestration.engine.clock import SHANGHAI, FrozenClock, OffsetClock
from orchestration.engine.runtime import MAX_TIMER_ATTEMPTS, FireResult, Runtime
from orchestration.engine.worker import TimerWorker
from orchestration.errors import Conflict
from orchestration.services import calendar_admin, demo
from orchestration.store import migrate
from orchestration.store.db import make_engine, make_session_factory
from orchestration.store.models import (
    AuditEvent,
    Case,
    Incident,
    Notification,
    OpenTask,
    Timer,
    WorkerHeartbeat,
)
from tests.conftest import BACKENDS, POSTGRES_URL, START
from tests.helpers import actor, advance_to, open_task, start

AFTER_DEADLINES = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)


def cases_in_mediation(runtime: Runtime, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        case_id = start(runtime)
        advance_to(runtime, case_id, "mediate")
        ids.append(case_id)
    return ids


def timer_audits(runtime: Runtime) -> dict[int, list[list[str]]]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(AuditEvent.case_id, AuditEvent.detail).where(AuditEvent.action == "timer")
        )
        fired: dict[int, list[list[str]]] = {}
        for case_id, detail in rows:
            fired.setdefault(case_id, []).append(sorted(detail["fired"]))
        return fired


def _work(url: str, now: str, seconds: float) -> None:
    runtime = Runtime(make_session_factory(make_engine(url)), FrozenClock(datetime.fromisoformat(now)))
    worker = TimerWorker(runtime, poll_seconds=0.05)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if worker.drain() == 0:
            upcoming = runtime.next_due()
            if upcoming is None or upcoming > runtime.clock.now():
                return


def test_each_timer_fires_exactly_once_with_four_workers(runtime: Runtime, database_url: str) -> None:
    workers = 4 if database_url.startswith("postgresql") else 1  # SQLite: one worker at a time
    count = 600 if workers == 4 else 60
    ids = cases_in_mediation(runtime, count)
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_work, args=(database_url, AFTER_DEADLINES.isoformat(), 120))
        for _ in range(workers)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(180)
        assert p.exitcode == 0
    fired = timer_audits(runtime)
    assert sorted(fired) == sorted(ids)
    # both timers of each case (warning and deadline) fired in one firing, once
    assert all(firings == [["调解期限临近", "调解期限届满"]] for firings in fired.values())
    with runtime.sessions() as session:
        assert (
            session.scalar(select(func.count()).select_from(Timer).where(Timer.due_at <= AFTER_DEADLINES))
            == 0
        )
        warnings = session.scalar(
            select(func.count()).select_from(Notification).where(Notification.kind == "deadline_near")
        )
        assert warnings == count
    assert {open_task(runtime, i, "feedback_failure").role for i in ids[:5]} == {"mediator"}


def test_a_fired_timer_is_due_no_more(runtime: Runtime, clock: FrozenClock) -> None:
    """Each firing takes its timers out of the index: the worker finds nothing more after a handful."""
    cases_in_mediation(runtime, 1)
    clock.set(AFTER_DEADLINES)
    results = []
    for _ in range(10):
        result = runtime.fire_next()
        if result is None:
            break
        results.append(result)
    else:
        pytest.fail("fire_next kept finding due timers")
    assert results and all(r.fired and r.error is None for r in results)


def test_a_worker_killed_midway_leaves_nothing_lost_or_doubled(
    runtime: Runtime, clock: FrozenClock, database_url: str
) -> None:
    ids = cases_in_mediation(runtime, 80)
    context = multiprocessing.get_context("spawn")
    victim = context.Process(target=_work, args=(database_url, AFTER_DEADLINES.isoformat(), 60))
    victim.start()
    # kill it while it is firing: once some but not all cases are done
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(timer_audits(runtime)) < 5:
        time.sleep(0.01)
    assert victim.pid is not None
    os.kill(victim.pid, signal.SIGKILL)
    victim.join()
    assert len(timer_audits(runtime)) < len(ids)
    clock.set(AFTER_DEADLINES)
    TimerWorker(runtime).drain()
    fired = timer_audits(runtime)
    assert sorted(fired) == sorted(ids)
    assert all(len(firings) == 1 for firings in fired.values())


def test_a_suspended_case_keeps_its_timers_until_resumed(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    admin = actor(runtime, "admin")
    runtime.set_suspended(case_id, True, admin)
    clock.set(AFTER_DEADLINES)
    assert runtime.run_due_timers() == 0
    with pytest.raises(Conflict, match="暂停"):
        runtime.complete_task(
            open_task(runtime, case_id, "review_referral").id,
            {"review_decision": "accept", "mediator_name": "次仁卓玛"},
            actor(runtime, "mediator"),
        )
    runtime.set_suspended(case_id, False, admin)
    assert runtime.run_due_timers() == 1
    assert open_task(runtime, case_id, "consultation_petition_opinion")


def test_a_failing_timer_is_retried_with_backoff_then_becomes_an_incident(
    runtime: Runtime, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")

    def broken(ctx: object, **params: object) -> dict[str, object]:
        raise RuntimeError("通知服务不可用")

    monkeypatch.setitem(api.OPERATIONS, "fangtiao/warn_mediation_deadline", broken)
    clock.set(datetime(2026, 11, 17, 8, 0, tzinfo=SHANGHAI))  # the warning is due, the deadline not yet
    for attempt in range(1, MAX_TIMER_ATTEMPTS + 1):
        result = runtime.fire_next()
        assert result is not None and result.error and "通知服务不可用" in result.error
        with runtime.sessions() as session:
            timer = session.scalar(
                select(Timer).where(Timer.case_id == case_id, Timer.name == "调解期限临近")
            )
            assert timer is not None and timer.attempts == attempt
        clock.advance(timedelta(minutes=30))
    assert runtime.fire_next() is None  # given up: an incident instead
    with runtime.sessions() as session:
        incident = session.scalar(select(Incident).where(Incident.case_id == case_id))
        assert incident is not None and "通知服务不可用" in incident.message
        # the step whose handler failed, the attempts and the handler's own traceback, for administrators
        assert incident.task_name and incident.attempts == MAX_TIMER_ATTEMPTS
        assert "RuntimeError: 通知服务不可用" in (incident.traceback or "")
    monkeypatch.undo()
    runtime.retry_incident(incident.id, actor(runtime, "admin"))
    result = runtime.fire_next()
    assert result is not None and result.fired == ["调解期限临近"] and result.error is None


def test_loading_an_official_year_moves_pending_deadlines(runtime: Runtime, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 12, 17, 10, 0, tzinfo=SHANGHAI))
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")  # accepted 12-17: 15 days → 2027-01-01, a holiday → Mon 01-04
    with runtime.sessions() as session:
        due = session.scalar(
            select(Timer.due_at).where(Timer.case_id == case_id, Timer.name == "调解期限届满")
        )
    assert due == datetime(2027, 1, 4, 23, 59, 59, tzinfo=SHANGHAI)
    # the real 2027 notice (for this test): 01-04 is also a rest day
    days = calendar_admin.parse_schedule(
        2027,
        '{"holidays": {"2027-01-01": "元旦", "2027-01-04": "元旦"}, "workdays": {"2027-01-09": "元旦调休"}}',
    )
    result = calendar_admin.load_year(runtime, 2027, days, actor(runtime, "admin"))
    assert result.moved == 2  # the deadline and its warning
    with runtime.sessions() as session:
        due = session.scalar(
            select(Timer.due_at).where(Timer.case_id == case_id, Timer.name == "调解期限届满")
        )
        assert due == datetime(2027, 1, 5, 23, 59, 59, tzinfo=SHANGHAI)
        assert not runtime.calendar(session).is_estimated(2027)
        audit = session.scalar(
            select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action == "recompute")
        )
        assert audit is not None and len(audit.detail["moved"]) == 2
    assert open_task(runtime, case_id, "mediate").due_at == datetime(2027, 1, 5, 23, 59, 59, tzinfo=SHANGHAI)


def test_a_schedule_with_dates_of_another_year_is_refused() -> None:
    with pytest.raises(Exception, match="不属于2027年"):
        calendar_admin.parse_schedule(2027, '{"holidays": {"2026-10-01": "国庆节"}}')


def test_petition_deadline_warnings_are_sent_once(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = start(runtime)
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.petition_deadline is None  # received, not yet accepted
    # accepted (受理) Mon 2026-11-02 at screening: 60 days → 2027-01-01 → Mon 2027-01-04
    advance_to(runtime, case_id, "guide_divert")
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.petition_deadline == datetime(
            2027, 1, 4, 23, 59, 59, tzinfo=SHANGHAI
        )
    clock.set(datetime(2027, 1, 3, 12, 0, tzinfo=SHANGHAI))
    assert runtime.warn_petition_deadlines() == 0
    clock.set(datetime(2027, 1, 4, 8, 0, tzinfo=SHANGHAI))
    assert runtime.warn_petition_deadlines() == 1
    assert runtime.warn_petition_deadlines() == 0
    clock.set(datetime(2027, 1, 5, 8, 0, tzinfo=SHANGHAI))
    assert runtime.warn_petition_deadlines() == 1
    with runtime.sessions() as session:
        kinds = list(session.scalars(select(Notification.kind).where(Notification.case_id == case_id)))
    assert kinds.count("petition_near") == 2 and kinds.count("petition_overdue") == 2  # clerk and leader


def test_mediation_pauses_the_petition_deadline(runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.petition_deadline is None


def test_the_worker_fires_within_its_poll_interval(runtime: Runtime, clock: FrozenClock) -> None:
    """In real time: a timer due a second from now fires well within two seconds of its due time."""
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    with runtime.sessions() as session:
        due = session.scalar(select(Timer.due_at).where(Timer.case_id == case_id))
    assert due is not None
    # from here on time runs for real, starting a second before the due time
    live = Runtime(runtime.sessions, OffsetClock(due - timedelta(seconds=1) - datetime.now(UTC)))
    worker = TimerWorker(live, poll_seconds=0.5)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        limit = time.monotonic() + 10
        while time.monotonic() < limit and worker.stats.fired == 0:
            time.sleep(0.01)
    finally:
        worker.stop.set()
        thread.join()
    assert worker.stats.fired == 1
    assert 0 <= worker.stats.lateness[0] < 2
    assert open_task(runtime, case_id, "consultation_petition_opinion")


# Row locks are PostgreSQL's (SQLite serialises whole write transactions), so this runs there alone,
# and is reported as skipped, not passed, when PostgreSQL is deliberately off.
@pytest.mark.parametrize(
    "database_url",
    [
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif("postgresql" not in BACKENDS, reason="FANGTIAO_TEST_POSTGRES=off"),
        )
    ],
    indirect=True,
)
def test_a_case_locked_by_another_transaction_does_not_hold_up_other_cases_timers(
    runtime: Runtime, clock: FrozenClock, engine: Engine
) -> None:
    [first] = cases_in_mediation(runtime, 1)
    clock.advance(timedelta(days=1))
    [second] = cases_in_mediation(runtime, 1)
    clock.set(AFTER_DEADLINES)
    with runtime.sessions() as session:
        due = dict(
            session.execute(select(Timer.case_id, func.min(Timer.due_at)).group_by(Timer.case_id)).all()
        )
    assert due[first] < due[second]  # the locked case is the one the worker would take first
    fired: list[int] = []
    worker = threading.Thread(target=lambda: fired.append(TimerWorker(runtime).drain()))
    # closing the connection, on the way out or on any error, ends its transaction and the lock
    with engine.connect() as holder:
        holder.begin()
        holder.execute(select(Case.id).where(Case.id == first).with_for_update())
        started = time.monotonic()
        worker.start()
        worker.join(timeout=1.0)
        finished_in = time.monotonic() - started
        in_time = not worker.is_alive()
        audits_while_locked = timer_audits(runtime)
    worker.join(timeout=30)
    assert in_time, f"the worker waited for the locked case ({finished_in:.1f}s)"
    assert fired == [2]  # the second case's warning and deadline, nothing of the locked one
    assert list(audits_while_locked) == [second]
    # once the lock is gone the first case's timers fire too
    assert runtime.run_due_timers() == 2
    assert sorted(timer_audits(runtime)) == sorted([first, second])


# ---- outliving the database -------------------------------------------------------------------------


class RecordedWaits(threading.Event):
    """The worker's stop event, recording each pause instead of sleeping; set after `limit` pauses."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.waits: list[float] = []
        self.limit = limit

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.waits.append(timeout)
        if len(self.waits) >= self.limit:
            self.set()
        return self.is_set()


def test_after_an_error_the_worker_backs_off_doubling_to_a_bound_and_resets_after_success(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, log_entries: Callable[[], list[dict[str, Any]]]
) -> None:
    lost = OperationalError("SELECT …", {}, sqlite3.OperationalError("database is locked"))
    outcomes: list[Exception | None] = [*[lost] * 8, None, RuntimeError("意外的错误")]

    def fire_next() -> FireResult | None:
        outcome = outcomes.pop(0) if outcomes else None
        if outcome is not None:
            raise outcome
        return None

    monkeypatch.setattr(runtime, "fire_next", fire_next)
    worker = TimerWorker(runtime, poll_seconds=0.25)
    worker.stop = RecordedWaits(limit=10)
    log_entries()
    worker.run()
    # eight database errors, a round that works (then the poll interval), and any other error
    assert worker.stop.waits == [0.5, 1, 2, 4, 8, 16, 30, 30, 0.25, 0.5]
    assert worker.stats.errors == 9 and worker.stats.last_error == "RuntimeError: 意外的错误"
    entries = [e for e in log_entries() if e["logger"] == "fangtiao.worker"]
    errors = [e for e in entries if e["level"] in ("ERROR", "WARNING")]
    assert [(e["level"], "traceback" in e) for e in errors] == [
        ("ERROR", True),  # the first of a run of errors with its traceback
        *[("WARNING", False)] * 7,  # the same trouble going on: one line each
        ("ERROR", True),
    ]
    assert "database is locked" in errors[0]["message"] and "意外的错误" in errors[-1]["message"]
    assert all(e["worker"] == worker.id for e in entries)
    assert any(e["message"] == "已恢复，继续触发定时器" for e in entries)


def prepared_case(url: str) -> tuple[Engine, int, datetime]:
    """A migrated, seeded database with one case waiting at review_referral; its timer's due time."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    setup = Runtime(make_session_factory(engine), FrozenClock(START))
    with setup.sessions() as session, session.begin():
        demo.seed(session)
    setup.deploy()
    case_id = start(setup)
    advance_to(setup, case_id, "review_referral")
    with setup.sessions() as session:
        due = session.scalar(select(Timer.due_at).where(Timer.case_id == case_id))
    assert due is not None
    return engine, case_id, due


def outlive_an_outage(url: str, close: Callable[[], None], reopen: Callable[[], None]) -> None:
    """Runs a worker (in a thread, with its own engine) on a case whose timer comes due while the
    database is closed for three seconds, and checks that it fires once the database is back."""
    engine, case_id, due = prepared_case(url)
    # the timer far off at first; due 1.5 s into the outage once it begins
    clock = OffsetClock(due - timedelta(hours=1) - datetime.now(UTC))
    worker_engine = make_engine(url)
    worker = TimerWorker(Runtime(make_session_factory(worker_engine), clock), 0.2, heartbeat_seconds=0.5)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        limit = time.monotonic() + 20
        while time.monotonic() < limit and not heartbeat(engine, worker.id):
            time.sleep(0.05)
        assert heartbeat(engine, worker.id) is not None  # running, connected
        close()
        clock.offset = due - timedelta(seconds=1.5) - datetime.now(UTC)
        time.sleep(3)
        assert clock.now() > due and worker.stats.fired == 0
        assert worker.stats.errors > 0 and thread.is_alive()
        reopen()
        engine.dispose()  # the test's own pooled connection died with the backends the outage killed
        reopened = datetime.now(UTC)
        limit = time.monotonic() + 40  # the backoff reaches 4 s by then; plenty of room on a busy machine
        while time.monotonic() < limit and worker.stats.fired == 0:
            time.sleep(0.05)
        assert worker.stats.fired == 1 and thread.is_alive()
        with Session(engine) as session:
            opened = session.scalars(select(OpenTask.task_name).where(OpenTask.case_id == case_id))
            assert list(opened) == ["consultation_petition_opinion"]  # the review deadline's path was taken
        # the first round after the outage wrote the heartbeat, telling of the error survived
        row = heartbeat(engine, worker.id)
        assert row is not None
        beat, error = row
        assert beat >= reopened and error is not None and error.startswith("OperationalError: ")
    finally:
        reopen()
        worker.stop.set()
        thread.join()
        worker_engine.dispose()
        engine.dispose()


def heartbeat(engine: Engine, worker_id: str) -> tuple[datetime, str | None] | None:
    with Session(engine) as session:
        row = session.get(WorkerHeartbeat, worker_id)
        return (row.last_beat, row.last_error) if row is not None else None


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="FANGTIAO_TEST_POSTGRES=off")
def test_the_worker_outlives_postgresql_refusing_connections() -> None:
    """As the issue describes it: the worker's database closed to connections and its sessions killed
    for three seconds; afterwards the next due timer fires, with no restart."""
    name = f"fangtiao_worker_{os.getpid()}"
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    admin = make_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT")

    def run(sql: str) -> None:
        with admin.connect() as connection:
            connection.execute(text(sql))

    def close() -> None:
        run(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        run(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")

    run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    run(f"CREATE DATABASE {name}")
    try:
        outlive_an_outage(url, close, lambda: run(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
    finally:
        run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def test_the_worker_outlives_sqlite_failing_its_statements(tmp_path: Path) -> None:
    """SQLite has no server to stop, and connections already open keep the file open whatever happens to
    it; what a running worker meets is its statements failing in the driver. Here the timer table is
    taken away (renamed) for three seconds: the worker's look at the timers raises OperationalError
    ("no such table"), as a database gone away does."""
    url = f"sqlite:///{tmp_path / 'worker.sqlite'}"
    admin = make_engine(url)

    def rename(old: str, new: str) -> Callable[[], None]:
        def do() -> None:
            with admin.begin() as connection:
                if connection.scalar(text(f"SELECT count(*) FROM sqlite_master WHERE name = '{old}'")):
                    connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))

        return do

    try:
        outlive_an_outage(url, rename("timers", "timers_away"), rename("timers_away", "timers"))
    finally:
        admin.dispose()
