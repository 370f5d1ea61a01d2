"""How fast the timer worker fires due timers, and how late: 1, 2 and 4 worker processes on PostgreSQL,
1 on SQLite, with a large table of pending timers behind the due ones.

Run as ``python -m bench.timers [--pending 100000] [--fire 1000] [--postgres URL|off] [--sqlite off]``.

Data: ONE case is taken through the runtime to ``review_referral`` (its one pending timer is the 3-day
acceptance deadline, which when fired runs 逾期提请会商 and opens the 会商 task); it is then cloned in bulk
(COPY on PostgreSQL, executemany on SQLite) into ``--pending`` cases. Every clone gets its own state with
each SpiffWorkflow task UUID replaced by a fresh uuid4 through one mapping per clone (so the OpenTask and
Timer rows, keyed by task UUID, never collide when fired), its own case number, and its timer's
``event_value`` rewritten to the clone's due time so the engine and the Timer row agree on when it is due.
``--fire`` of them come due over the first ``--spread`` seconds of the measurement window, the rest months
ahead. Between runs the fired cases are deleted and the same number of fresh due clones are written, so
each run starts from the same ``--pending`` pending timers and fires the same number.

Workers are separate processes (multiprocessing, spawn), each with its own engine, Runtime (on an
OffsetClock: real time running, shifted to the template's deadline) and TimerWorker.run(). The parent only
watches how many of the due timers are left, stops the workers when none are, and checks that each fired
exactly once.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import re
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, func, select, text

from bench.databases import DEFAULT_POSTGRES, bench_settings
from orchestration import logs
from orchestration.engine.clock import SHANGHAI, FrozenClock, OffsetClock
from orchestration.engine.runtime import Runtime
from orchestration.engine.specs import latest_version
from orchestration.engine.worker import TimerWorker
from orchestration.services import demo
from orchestration.store import migrate
from orchestration.store.db import make_engine, make_session_factory
from orchestration.store.models import AuditEvent, Case, ClockEvent, OpenTask, Timer
from tests.helpers import advance_to, start

SETTINGS = bench_settings()
TEMPLATE_START = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)  # the tests' start
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Clones are written in chunks so 100k states of ~12 KB never sit in memory at once.
CHUNK = 2000
# Time between writing a run's due timers and the first of them coming due: the write must be committed
# before anything is due, or lateness would include the bench's own insert.
LEAD_SECONDS = 2.0
WATCH_SECONDS = 0.1
TARGET_PER_WORKER = 200.0
TARGET_P99 = 2.0


# ---- the template and its clones -----------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """The state of the one real case, cut at every place a clone differs: task UUIDs, case number, due."""

    columns: dict[str, Any]  # the case row without id, case_no and state
    pieces: tuple[str, ...]  # literal text between the cuts
    slots: tuple[int, ...]  # per cut: index into a clone's values (its UUIDs, then case number, then due)
    uuid_count: int
    timer_name: str
    timer_slot: int  # which UUID is the timer's task
    task: dict[str, Any]  # the open review_referral task without id and case_id
    task_slot: int
    clock_kinds: tuple[str, ...]
    due: datetime  # the template's own deadline

    def state(self, values: Sequence[str]) -> str:
        out = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:], strict=True):
            out.append(values[slot])
            out.append(piece)
        return "".join(out)


def capture_template(engine: Engine, case_id: int) -> Template:
    with engine.connect() as conn:
        case = dict(conn.execute(select(Case.__table__).where(Case.id == case_id)).mappings().one())
        timer = conn.execute(select(Timer.__table__).where(Timer.case_id == case_id)).mappings().one()
        task = dict(
            conn.execute(select(OpenTask.__table__).where(OpenTask.case_id == case_id)).mappings().one()
        )
        kinds = tuple(conn.scalars(select(ClockEvent.kind).where(ClockEvent.case_id == case_id)))
    state: str = case.pop("state")
    case_no: str = case.pop("case_no")
    del case["id"]
    uuids: dict[str, int] = {}
    pieces: list[str] = []
    slots: list[int] = []
    pattern = re.compile(rf"{UUID_RE}|{re.escape(case_no)}|(?<=\"event_value\":\")[^\"]+")
    last = 0
    due_cuts = 0
    for match in pattern.finditer(state):
        value = match.group()
        if value == case_no:
            slot = -1
        elif re.fullmatch(UUID_RE, value):
            slot = uuids.setdefault(value, len(uuids))
        else:
            slot, due_cuts = -2, due_cuts + 1
        pieces.append(state[last : match.start()])
        slots.append(slot)
        last = match.end()
    pieces.append(state[last:])
    # The case has exactly one waiting timer; a second event_value would need a second due time.
    assert due_cuts == 1, f"expected one timer event_value in the state, found {due_cuts}"
    assert timer["task_id"] in uuids and task["id"] in uuids
    count = len(uuids)
    resolved = tuple(count if s == -1 else count + 1 if s == -2 else s for s in slots)
    task_id = task.pop("id")
    del task["case_id"]
    return Template(
        columns=case,
        pieces=tuple(pieces),
        slots=resolved,
        uuid_count=count,
        timer_name=timer["name"],
        timer_slot=uuids[timer["task_id"]],
        task=task,
        task_slot=uuids[task_id],
        clock_kinds=kinds,
        due=timer["due_at"],
    )


def fresh_uuids(count: int) -> list[str]:
    """`count` random version-4 UUIDs, as uuid.uuid4() makes them (16 random bytes, version and variant
    bits set), from one urandom call: calling uuid4() 2.4 million times for 100k clones takes ~20 s."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes(b & 0x0F | 0x40 for b in raw[6::16])
    raw[8::16] = bytes(b & 0x3F | 0x80 for b in raw[8::16])
    h = raw.hex()
    return [
        f"{h[j : j + 8]}-{h[j + 8 : j + 12]}-{h[j + 12 : j + 16]}-{h[j + 16 : j + 20]}-{h[j + 20 : j + 32]}"
        for j in range(0, 32 * count, 32)
    ]


@dataclass
class Clones:
    case: list[dict[str, Any]] = field(default_factory=list)
    timer: list[dict[str, Any]] = field(default_factory=list)
    task: list[dict[str, Any]] = field(default_factory=list)
    clock: list[dict[str, Any]] = field(default_factory=list)


def make_clones(template: Template, first_id: int, dues: Sequence[datetime]) -> Clones:
    clones = Clones()
    ids = fresh_uuids(template.uuid_count * len(dues))
    for offset, due in enumerate(dues):
        case_id = first_id + offset
        case_no = f"FT2026-B{case_id:07d}"
        # A fresh uuid4 per distinct UUID of the template, the same one wherever that UUID appears.
        values = ids[offset * template.uuid_count : (offset + 1) * template.uuid_count]
        values += [case_no, due.isoformat()]
        clones.case.append(
            {**template.columns, "id": case_id, "case_no": case_no, "state": template.state(values)}
        )
        clones.timer.append(
            {
                "case_id": case_id,
                "task_id": values[template.timer_slot],
                "name": template.timer_name,
                "due_at": due,
                "attempts": 0,
            }
        )
        clones.task.append({**template.task, "id": values[template.task_slot], "case_id": case_id})
        clones.clock.extend(
            {"case_id": case_id, "kind": kind, "at": template.columns["created_at"]}
            for kind in template.clock_kinds
        )
    return clones


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        # COPY streams the rows without building statements: the 1.2 GB of state text goes in once.
        columns = list(rows[0])
        raw: Any = conn.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row[c] for c in columns])
    else:
        conn.execute(table.insert(), rows)


def write_clones(engine: Engine, template: Template, first_id: int, dues: Sequence[datetime]) -> None:
    with engine.begin() as conn:
        for start_at in range(0, len(dues), CHUNK):
            clones = make_clones(template, first_id + start_at, dues[start_at : start_at + CHUNK])
            bulk_insert(conn, Case.__table__, clones.case)
            bulk_insert(conn, Timer.__table__, clones.timer)
            bulk_insert(conn, OpenTask.__table__, clones.task)
            bulk_insert(conn, ClockEvent.__table__, clones.clock)
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
            )


def vacuum(engine: Engine) -> None:
    """Fresh statistics and no dead rows from the last run, so every run meets the same table.

    PostgreSQL only, as autovacuum would in production. SQLite is left as the runtime leaves it, without
    statistics (nothing runs ANALYZE), because that decides its plan for the timer queries."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(
            text("VACUUM ANALYZE cases, timers, open_tasks, audit_events, notifications, clock_events")
        )


# ---- the database under test ------------------------------------------------------------------------


@dataclass
class Database:
    label: str
    url: str
    engine: Engine
    template: Template
    offset: timedelta  # the OffsetClock's: real time, moved to just before the template's deadline
    next_id: int
    load_seconds: float

    def clock(self) -> OffsetClock:
        return OffsetClock(self.offset)


def prepare(label: str, url: str, pending: int, fire: int) -> Database:
    engine = make_engine(url)
    migrate.upgrade(engine)
    runtime = Runtime(
        make_session_factory(engine),
        FrozenClock(TEMPLATE_START),
        processes_dir=SETTINGS.processes_dir,
        forms_dir=SETTINGS.forms_dir,
    )
    with runtime.sessions() as session, session.begin():
        demo.seed(session)
    runtime.deploy()
    template_id = start(runtime)
    advance_to(runtime, template_id, "review_referral")
    template = capture_template(engine, template_id)
    # The template itself must not fire during the runs: only its clones are pending.
    with engine.begin() as conn:
        conn.execute(delete(Case.__table__).where(Case.id == template_id))
    offset = (template.due - timedelta(minutes=10)) - datetime.now(UTC)
    clock_now = datetime.now(UTC) + offset
    # The timers that never come due during the bench, spread over a year from a month ahead.
    far = pending - fire
    dues = [clock_now + timedelta(days=30) + timedelta(days=335) * i / max(far, 1) for i in range(far)]
    began = time.perf_counter()
    write_clones(engine, template, template_id + 1, dues)
    vacuum(engine)
    return Database(label, url, engine, template, offset, template_id + 1 + far, time.perf_counter() - began)


def add_due(db: Database, dues: Sequence[datetime]) -> tuple[int, int]:
    first = db.next_id
    write_clones(db.engine, db.template, first, dues)
    db.next_id += len(dues)
    return first, db.next_id - 1


def remaining(db: Database, first: int, last: int) -> int:
    with db.engine.connect() as conn:
        return (
            conn.scalar(select(func.count()).select_from(Timer).where(Timer.case_id.between(first, last)))
            or 0
        )


def reset(db: Database, first: int, last: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(delete(Case.__table__).where(Case.id.between(first, last)))
    vacuum(db.engine)


# ---- the worker processes ----------------------------------------------------------------------------


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker_main(url: str, offset: float, poll: float, stop: Any, ready: Any, results: Any) -> None:
    """One worker process: its own engine, Runtime and TimerWorker, as `fangtiao worker` runs them."""
    logs.configure(SETTINGS)  # a spawned process: its own logging
    engine = make_engine(url)
    runtime = Runtime(
        make_session_factory(engine),
        OffsetClock(timedelta(seconds=offset)),
        processes_dir=SETTINGS.processes_dir,
        forms_dir=SETTINGS.forms_dir,
    )
    # Warm up what a long-running worker has cached (parsed spec, calendar, compiled statements) so
    # the first measured fires do not pay for the process start.
    with runtime.sessions() as session:
        version = latest_version(session)
        assert version is not None
        runtime.specs.get(version)
        runtime.calendar(session)
        # The server process serving this worker (one pooled connection, reused): its CPU is measured too.
        backend = (
            session.scalar(text("SELECT pg_backend_pid()")) if engine.dialect.name == "postgresql" else None
        )
    runtime.next_due()
    worker = TimerWorker(runtime, poll_seconds=poll)

    def relay() -> None:
        stop.wait()
        worker.stop.set()

    threading.Thread(target=relay, daemon=True).start()
    cpu, wall = _process_cpu(), time.monotonic()
    ready.put({"pid": os.getpid(), "backend": backend})
    # An error (the database busy or gone) does not end TimerWorker.run: it logs, backs off and goes on;
    # the bench reports how many it survived.
    worker.run()
    # Plain data: classes of a spawned __main__ do not unpickle in the parent.
    results.put(
        {
            "pid": os.getpid(),
            "fired": worker.stats.fired,
            "failed": worker.stats.failed,
            "lateness": worker.stats.lateness,
            "cpu": _process_cpu() - cpu,
            "wall": time.monotonic() - wall,
            "errors": worker.stats.errors,
            "last_error": worker.stats.last_error,
        }
    )
    engine.dispose()


@dataclass
class Pool:
    """The running workers: what they reported when warm, and (after the block) what they did."""

    pids: list[int] = field(default_factory=list)
    backends: list[int] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    lost: int = 0  # workers that ended without a report


@contextmanager
def workers(db: Database, count: int, poll: float) -> Iterator[Pool]:
    """Starts `count` worker processes and waits until each is warm; on exit stops them and collects
    their reports."""
    ctx = mp.get_context("spawn")
    stop, ready, results = ctx.Event(), ctx.Queue(), ctx.Queue()
    args = (db.url, db.offset.total_seconds(), poll, stop, ready, results)
    processes = [ctx.Process(target=worker_main, args=args, daemon=True) for _ in range(count)]
    for process in processes:
        process.start()
    pool = Pool()
    try:
        for _ in processes:
            warm = ready.get(timeout=120)
            pool.pids.append(warm["pid"])
            if warm["backend"] is not None:
                pool.backends.append(warm["backend"])
        yield pool
    finally:
        stop.set()
        deadline = time.monotonic() + 60
        while len(pool.reports) < count and time.monotonic() < deadline:
            try:
                pool.reports.append(results.get(timeout=1))
            except queue.Empty:
                if not any(p.is_alive() for p in processes):
                    break
        pool.lost = count - len(pool.reports)
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():  # only ours, by handle: a hung worker must not hang the bench
                process.terminate()


def _machine_busy() -> float:
    """Busy CPU seconds of the whole machine so far (all cores: user to steal, less idle and iowait)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _pids_cpu(pids: Sequence[int]) -> float:
    """CPU seconds used so far by the given processes (our workers' PostgreSQL backends)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


# ---- one measured run ---------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    workers: int
    poll: float
    fired: int
    window: float  # first due time to the last firing, seconds
    elapsed: float  # the CPU-metered span: first due time until the parent saw nothing left
    lateness: list[float]  # FireResult.lateness: due time to the worker's claim of the case
    done_lateness: list[float]  # due time to the firing transaction's audit row
    worker_cpu: float
    db_cpu: float | None  # our workers' PostgreSQL backends; None on SQLite (in the worker process)
    machine_busy: float
    parent_cpu: float
    load: float  # one-minute load average when the run began: other work on the machine
    errors: int  # errors the workers survived (logged, backed off, went on)
    last_errors: list[str]
    lost: int
    check: str
    ok: bool

    @property
    def rate(self) -> float:
        return self.fired / self.window if self.window > 0 else 0.0


def percentile(values: Sequence[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def verify(
    db: Database, first: int, last: int, dues: dict[int, datetime]
) -> tuple[bool, str, list[float], datetime | None]:
    """Each due timer fired exactly once: one 'timer' audit event per case, no due timer left, the 会商
    task open on each, and the far-future timers untouched."""
    expected = last - first + 1
    in_run = AuditEvent.case_id.between(first, last)
    with db.engine.connect() as conn:
        per_case = dict(
            conn.execute(
                select(AuditEvent.case_id, func.count())
                .where(in_run, AuditEvent.action == "timer")
                .group_by(AuditEvent.case_id)
            ).all()
        )
        fired_at = dict(
            conn.execute(
                select(AuditEvent.case_id, AuditEvent.at).where(in_run, AuditEvent.action == "timer")
            ).all()
        )
        errors = conn.scalar(select(func.count()).where(in_run, AuditEvent.action == "error"))
        left = conn.scalar(select(func.count()).select_from(Timer).where(Timer.case_id.between(first, last)))
        now = db.clock().now()
        due_left = conn.scalar(select(func.count()).select_from(Timer).where(Timer.due_at <= now))
        consultations = conn.scalar(
            select(func.count())
            .select_from(OpenTask)
            .where(OpenTask.case_id.between(first, last), OpenTask.task_name == "joint_consultation")
        )
        pending = conn.scalar(select(func.count()).select_from(Timer))
    twice = sum(1 for n in per_case.values() if n > 1)
    missing = expected - len(per_case)
    ok = (
        twice == 0
        and missing == 0
        and errors == 0
        and left == 0
        and due_left == 0
        and consultations == expected
    )
    check = (
        f"{'OK' if ok else 'FAILED'}: {len(per_case)}/{expected} cases with a 'timer' event, "
        f"{twice} more than once, {missing} missing, {errors} errors, {left} of the run's timers "
        f"and {due_left} due timers left, {consultations} 会商 tasks opened, "
        f"{pending} far-future timers still pending"
    )
    done = [(fired_at[c] - dues[c]).total_seconds() for c in fired_at if c in dues]
    return ok, check, done, max(fired_at.values(), default=None)


@dataclass(frozen=True)
class Snapshot:
    """CPU seconds used so far: the machine (all cores), the workers, their backends, this process."""

    at: float
    machine: float
    workers: float
    backends: float
    parent: float

    @classmethod
    def take(cls, pool: Pool) -> Snapshot:
        return cls(
            time.monotonic(),
            _machine_busy(),
            _pids_cpu(pool.pids),
            _pids_cpu(pool.backends),
            _process_cpu(),
        )


def finish(
    db: Database,
    label: str,
    count: int,
    poll: float,
    pool: Pool,
    meters: tuple[Snapshot, Snapshot],
    load: float,
    span: tuple[int, int, dict[int, datetime]],
    window_start: datetime | None,
) -> Result:
    first, last, dues = span
    ok, check, done, last_at = verify(db, first, last, dues)
    begin, end = meters
    elapsed = end.at - begin.at
    # The throughput window runs from the first due time to the last firing (the latest audit row);
    # without a first due time (trickle) it is the time the parent watched.
    window = (last_at - window_start).total_seconds() if window_start and last_at else elapsed
    fired = sum(r["fired"] for r in pool.reports)
    return Result(
        label=label,
        workers=count,
        poll=poll,
        fired=fired,
        window=window,
        elapsed=elapsed,
        lateness=[x for r in pool.reports for x in r["lateness"]],
        done_lateness=done,
        worker_cpu=end.workers - begin.workers,
        db_cpu=end.backends - begin.backends if pool.backends else None,
        machine_busy=end.machine - begin.machine,
        parent_cpu=end.parent - begin.parent,
        load=load,
        errors=sum(r["errors"] for r in pool.reports),
        last_errors=[r["last_error"] for r in pool.reports if r["last_error"]],
        lost=pool.lost,
        check=check,
        ok=ok and fired == len(dues) and pool.lost == 0,
    )


def measure(
    db: Database, label: str, count: int, poll: float, fire: int, spread: float, limit: float
) -> Result:
    """A burst: `fire` timers come due over `spread` seconds while `count` warm workers wait for them."""
    load = os.getloadavg()[0]
    with workers(db, count, poll) as pool:
        clock = db.clock()
        base = clock.now() + timedelta(seconds=LEAD_SECONDS)
        dues = [base + timedelta(seconds=spread * i / fire) for i in range(fire)]
        first, last = add_due(db, dues)
        late_write = (clock.now() - base).total_seconds()
        if late_write > 0:
            print(
                f"  warning: due timers committed {late_write:.2f} s after the first came due",
                file=sys.stderr,
            )
        time.sleep(max((base - clock.now()).total_seconds(), 0.0))
        begin = Snapshot.take(pool)
        deadline = time.monotonic() + limit
        while remaining(db, first, last) and time.monotonic() < deadline:
            time.sleep(WATCH_SECONDS)
        end = Snapshot.take(pool)
    span = (first, last, dict(zip(range(first, last + 1), dues, strict=True)))
    result = finish(db, label, count, poll, pool, (begin, end), load, span, base)
    reset(db, first, last)
    return result


def trickle(db: Database, poll: float, rate: float, seconds: float, limit: float) -> Result:
    """Timers written already due, a few at a time, to one idle worker: what the poll interval costs.

    A timer written with a future due time is fired on time whatever the poll (the worker sleeps until
    the next due time it saw); one written already due waits for the worker's next look."""
    batch_every = 0.1
    per_batch = max(1, round(rate * batch_every))
    batches = max(1, round(seconds / batch_every))
    load = os.getloadavg()[0]
    first = db.next_id
    dues: dict[int, datetime] = {}
    with workers(db, 1, poll) as pool:
        clock = db.clock()
        begin = Snapshot.take(pool)
        for n in range(batches):
            time.sleep(max(begin.at + n * batch_every - time.monotonic(), 0.0))
            batch = [clock.now()] * per_batch
            lo, _ = add_due(db, batch)
            dues.update((lo + i, due) for i, due in enumerate(batch))
        last = db.next_id - 1
        deadline = time.monotonic() + limit
        while remaining(db, first, last) and time.monotonic() < deadline:
            time.sleep(WATCH_SECONDS)
        end = Snapshot.take(pool)
    label = f"{db.label} 1w trickle"
    result = finish(db, label, 1, poll, pool, (begin, end), load, (first, last, dues), None)
    reset(db, first, last)
    return result


# ---- the report -----------------------------------------------------------------------------------------


def _per_fire_ms(cpu: float | None, fired: int) -> float:
    return 1000 * cpu / fired if cpu is not None and fired else float("nan")


def _cores(cpu: float | None, result: Result) -> float:
    return cpu / result.elapsed if cpu is not None and result.elapsed else float("nan")


def row(result: Result) -> str:
    other = result.machine_busy - result.worker_cpu - (result.db_cpu or 0.0) - result.parent_cpu
    worker_ms, db_ms = (
        _per_fire_ms(result.worker_cpu, result.fired),
        _per_fire_ms(result.db_cpu, result.fired),
    )
    return (
        f"{result.label:<22} {result.poll:>4.1f} {result.fired:>5} {result.window:>6.1f} {result.rate:>7.1f}"
        f" {result.rate / result.workers:>7.1f} {percentile(result.lateness, 50):>6.2f}"
        f" {percentile(result.lateness, 99):>6.2f} {percentile(result.done_lateness, 99):>6.2f}"
        f" {worker_ms:>6.1f} {db_ms:>5.1f}"
        f" {_cores(result.worker_cpu, result):>5.2f} {_cores(result.db_cpu, result):>5.2f}"
        f" {_cores(max(other, 0.0), result):>5.2f} {result.load:>5.1f} {result.errors:>6}"
    )


HEADER = (
    f"{'run':<22} {'poll':>4} {'fired':>5} {'window':>6} {'fires/s':>7} {'/worker':>7} {'p50':>6} {'p99':>6}"
    f" {'done99':>6} {'wrk ms':>6} {'db ms':>5} {'wrk':>5} {'db':>5} {'other':>5} {'load':>5} {'errors':>6}"
)
LEGEND = """\
window: first due time to the last firing, s (trickle: the time the timers were written and fired)
p50/p99: lateness, due time to the worker's claim of the case (FireResult.lateness), s; done99: p99 due
  time to the firing transaction's audit row
wrk ms / db ms: CPU per fire in the worker processes / in their PostgreSQL backends (on SQLite the
  database runs inside the worker); wrk / db / other: cores busy on average while the timers were due
  (other: everything else on the machine, e.g. other people's tests); load: 1-min load average at the
  start; errors: errors the workers survived (each logged, then a pause, then on)"""


def report(
    args: argparse.Namespace, databases: list[Database], bursts: list[Result], trickles: list[Result]
) -> None:
    cores = os.cpu_count() or 1
    print(f"timer bench: os.cpu_count() = {cores}, Python {sys.version.split()[0]}")
    print(
        f"burst runs: {args.pending:,} pending timers, {args.fire:,} of them due over the first "
        f"{args.spread:g} s, the rest 1-12 months ahead; trickle runs: {args.trickle_rate:g} timers/s "
        f"written already due for {args.trickle_seconds:g} s to one idle worker"
    )
    for db in databases:
        print(
            f"  {db.label}: {args.pending - args.fire:,} far-future clones of one real case written in "
            f"{db.load_seconds:.1f} s"
        )
    print()
    print(HEADER)
    for result in [*bursts, *trickles]:
        print(row(result))
    print(LEGEND)
    print()
    by_workers = {r.workers: r for r in bursts if r.label.startswith("PostgreSQL")}
    if 1 in by_workers and by_workers[1].rate:
        one = by_workers[1].rate
        ratios = ", ".join(f"{n}w/1w {by_workers[n].rate / one:.2f}x" for n in (2, 4) if n in by_workers)
        print(
            f"speed-up on PostgreSQL: {ratios} "
            f"(linear up to the {cores} cores: {min(2, cores):.2f}x and {min(4, cores):.2f}x)"
        )
    print()
    print(f"targets (>= {TARGET_PER_WORKER:g} fires/s per worker, p99 lateness <= {TARGET_P99:g} s):")
    for result in [*bursts, *trickles]:
        per_worker = result.rate / result.workers
        p99 = percentile(result.lateness, 99)
        # Contention-proof: what one worker could fire with a whole core to itself.
        alone = result.fired / result.worker_cpu if result.worker_cpu else float("nan")
        throughput = (
            f"{per_worker:6.1f} fires/s per worker {'meets' if per_worker >= TARGET_PER_WORKER else 'misses'}"
            f" (<= {alone:.0f}/s with a whole core)"
            if result in bursts
            else f"{'(paced)':>6} {'':<53}"
        )
        print(
            f"  {result.label:<22} poll {result.poll:g}: {throughput}; p99 {p99:6.2f} s "
            f"{'meets' if p99 <= TARGET_P99 else 'misses'}"
        )
    print()
    print("exactly once:")
    for result in [*bursts, *trickles]:
        print(f"  {result.label:<22} poll {result.poll:g}: {result.check}")
        if result.lost:
            print(f"  {'':<22} {result.lost} worker(s) ended without a report")
    for error in sorted({e for r in [*bursts, *trickles] for e in r.last_errors}):
        print(f"  worker error survived: {error}")
    print()
    print("what limits throughput:")
    for result in bursts:
        if not result.fired or not result.elapsed:
            continue
        per_fire = result.worker_cpu + (result.db_cpu or 0.0)
        print(
            f"  {result.label:<22} machine {result.machine_busy / result.elapsed:.2f} of {cores} cores busy; "
            f"{1000 * per_fire / result.fired:.1f} ms CPU per fire (workers + their backends) -> "
            f"ceiling {cores * result.fired / per_fire:.0f} fires/s with all {cores} cores, "
            f"{result.fired / per_fire:.0f} per core"
        )


def postgres_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.timers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pending", type=int, default=100_000, help="pending timers in the table per run")
    parser.add_argument("--fire", type=int, default=1000, help="timers that come due during each run")
    parser.add_argument("--spread", type=float, default=2.0, help="seconds over which they come due")
    parser.add_argument("--poll", type=float, default=0.5, help="TimerWorker poll_seconds")
    parser.add_argument("--fast-poll", type=float, default=0.1, help="the smaller poll of the trickle runs")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts on PostgreSQL")
    parser.add_argument("--trickle-rate", type=float, default=10.0, help="timers/s written already due")
    parser.add_argument("--trickle-seconds", type=float, default=10.0, help="0 skips the trickle runs")
    parser.add_argument("--time-limit", type=float, default=300.0, help="hard limit per run, seconds")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server URL, or 'off'")
    parser.add_argument("--sqlite", default="on", choices=["on", "off"])
    args = parser.parse_args(argv)
    logs.configure(SETTINGS)
    if not 0 < args.fire <= args.pending:
        parser.error("--fire must be between 1 and --pending")
    counts = [int(n) for n in args.workers.split(",")]

    databases: list[Database] = []
    bursts: list[Result] = []
    trickles: list[Result] = []

    def progress(message: str) -> None:
        print(f"... {message}", file=sys.stderr, flush=True)

    if args.postgres != "off":
        schema = f"bench_timers_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = make_engine(args.postgres)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            progress(f"PostgreSQL: loading {args.pending:,} pending timers into schema {schema}")
            db = prepare("PostgreSQL", postgres_url(args.postgres, schema), args.pending, args.fire)
            databases.append(db)
            for count in counts:
                progress(f"PostgreSQL: {count} worker(s)")
                label = f"PostgreSQL {count}w"
                bursts.append(measure(db, label, count, args.poll, args.fire, args.spread, args.time_limit))
            for poll in (args.poll, args.fast_poll) if args.trickle_seconds > 0 else ():
                progress(f"PostgreSQL: trickle, poll {poll}")
                trickles.append(trickle(db, poll, args.trickle_rate, args.trickle_seconds, args.time_limit))
            db.engine.dispose()
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    if args.sqlite == "on":
        with tempfile.TemporaryDirectory(prefix="bench-timers-") as directory:
            url = f"sqlite:///{Path(directory) / 'timers.sqlite'}"
            progress(f"SQLite: loading {args.pending:,} pending timers into {url}")
            db = prepare("SQLite", url, args.pending, args.fire)
            databases.append(db)
            progress("SQLite: 1 worker")
            bursts.append(measure(db, "SQLite 1w", 1, args.poll, args.fire, args.spread, args.time_limit))
            db.engine.dispose()

    report(args, databases, bursts, trickles)
    return 0 if all(r.ok for r in [*bursts, *trickles]) else 1


if __name__ == "__main__":
    sys.exit(main())
