"""What a task completion of the referral procedure costs: engine alone, durable floor, runtime.

Run as ``python -m bench.referral [--cases N] [--postgres URL|off]``. One run measures the success path
(registration plus the nine user tasks of ``tests.helpers.SUCCESS_PATH``) three ways:

1. engine alone: SpiffWorkflow in memory on the deployed BPMN/DMN, with a stub script engine whose
   service calls return what the real handlers return (there is no database to call them with);
2. floor: the engine plus, per user action, a state-only restore and serialize (``StateCodec``) and one
   durable single-row UPDATE + COMMIT in the same database: what any durable engine must pay;
3. runtime: ``Runtime.start_case`` / ``Runtime.complete_task`` on SQLite (temp file, WAL,
   synchronous=FULL) and PostgreSQL (a schema of its own, created and dropped here).

The clock is frozen at the tests' start time, so no timer fires and every case takes the same path.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as day_time
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Engine, event, text

from bench.databases import (
    DEFAULT_POSTGRES,
    bench_settings,
    postgres_schema,
    require_postgres,
    sqlite_database,
)
from handlers.deadlines import timer_functions
from handlers.mediation import JUDICIAL_CONFIRMATION_DAYS
from handlers.referral import MAX_MEDIATION_DAYS, SUCCESS_FEEDBACK_TIMER, mediation_period
from orchestration import logs
from orchestration.domain.calendar import SHANGHAI, WorkingCalendar
from orchestration.domain.forms import FormRegistry, validate
from orchestration.domain.organisations import MEDIATION_KINDS
from orchestration.domain.procedure import read_directories
from orchestration.engine.clock import FrozenClock
from orchestration.engine.compat import ServiceTaskEngine, engine_clock
from orchestration.engine.runtime import START_FORM, Actor, Runtime
from orchestration.engine.script_engine import Timers, date_timers
from orchestration.engine.specs import PROCESS_ID, parse_files
from orchestration.engine.state import StateCodec
from orchestration.services import demo
from orchestration.settings import PROJECT_ROOT
from orchestration.store import migrate
from orchestration.store.db import make_engine, make_session_factory
from tests.helpers import REGISTRATION, SUCCESS_PATH, actor, open_task
from tests.helpers import complete as complete_step

# names of the throwaway databases and schemas this bench makes
PREFIX = "bench"

# The tests' frozen start (tests/conftest.py), so the bench walks exactly the path the tests walk.
START = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
SETTINGS = bench_settings()
WARMUP_CASES = 2  # the first cases parse the spec, build calendar year tables, fill SQL compile caches
ENGINE_FACTOR = 4  # the engine alone is cheap and noisy: more cases for the same confidence
PROFILE_CASES = 10
TARGET_MS = 3.0
TARGET_RATIO = 2.0
SPIFFARENA_MS = 32.0
STEP_NAMES = [name for name, _, _ in SUCCESS_PATH]


# ---- measurements -------------------------------------------------------------------------------------


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


@dataclass
class Measure:
    """One way of running the success path: whole cases (register + 9) and single completions."""

    label: str
    case_seconds: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    # Process CPU time of the same completions: unlike wall time it does not grow when other processes
    # take the cores, so it tells noise from cost on a shared machine (it misses disk and server waits).
    cpu: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=dict)
    statements: dict[str, list[int]] = field(default_factory=dict)
    checkouts: list[int] = field(default_factory=list)

    def add(self, step: str, started: tuple[float, float]) -> float:
        wall, cpu = (end - begin for end, begin in zip(_now(), started, strict=True))
        self.wall.append(wall)
        self.cpu.append(cpu)
        self.by_step.setdefault(step, []).append(wall)
        return wall

    @property
    def cases_per_second(self) -> float:
        return len(self.case_seconds) / sum(self.case_seconds)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.wall) * 1000

    @property
    def p95_ms(self) -> float:
        return statistics.quantiles(self.wall, n=20, method="inclusive")[18] * 1000

    @property
    def cpu_median_ms(self) -> float:
        return statistics.median(self.cpu) * 1000

    def step_median_ms(self, step: str) -> float:
        return statistics.median(self.by_step[step]) * 1000


# ---- data: cleaned once, outside any timing, as the runtime's form validation cleans it --------------

FORMS = FormRegistry.load(SETTINGS.forms_dir)
# the procedure's date timers by event id: the real handlers read periods from the running spec's timers
_SPEC, _SUBPROCESS_SPECS = parse_files(
    read_directories(SETTINGS.processes_dir, SETTINGS.forms_dir), PROCESS_ID
)
TIMERS = date_timers([_SPEC, *_SUBPROCESS_SPECS.values()])


def _demo_options(name: str) -> list[tuple[str, str]]:
    """The option lists the runtime reads from the database, from the demo data it is seeded with."""
    if name == "mediation_orgs":
        return sorted((code, org) for code, org, kind, _ in demo.ORGANISATIONS if kind in MEDIATION_KINDS)
    if name == "townships":
        return sorted((code, region) for code, region, level, _ in demo.REGIONS if level == "township")
    raise KeyError(name)


def _cleaned_path(spec: BpmnProcessSpec) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    registration = validate(FORMS.get(START_FORM), REGISTRATION, _demo_options)
    steps = []
    for name, _, data in SUCCESS_PATH:
        form = spec.task_specs[name].extensions["properties"]["formName"]
        steps.append((name, validate(FORMS.get(form), data, _demo_options)))
    return registration, steps


# ---- the stub script engine: same expressions and timer functions, handlers replaced by results -------


def _office(suffix: str) -> tuple[str, str]:
    code = f"540102001-{suffix}"  # 八廓街道, the locality of the tests' registration
    return code, next(name for c, name, _, _ in demo.ORGANISATIONS if c == code)


def _number(pattern: str, now: datetime) -> str:
    return pattern.format(year=now.astimezone(SHANGHAI).year, n=1)


Stub = Callable[[WorkingCalendar, datetime, Mapping[str, Any], dict[str, Any]], Any]


def _assign_locality(cal: WorkingCalendar, now: datetime, data: Mapping[str, Any], p: dict[str, Any]) -> Any:
    (xf, xf_name), (tw, tw_name), (sf, sf_name) = _office("xf"), _office("tw"), _office("sf")
    return {
        "petition_office": xf,
        "petition_office_name": xf_name,
        "mediation_org": tw,
        "mediation_org_name": tw_name,
        "justice_org": sf,
        "justice_org_name": sf_name,
    }


def _check_prior(cal: WorkingCalendar, now: datetime, data: Mapping[str, Any], p: dict[str, Any]) -> Any:
    return {"found": False, "cases": []}


def _issue_referral(cal: WorkingCalendar, now: datetime, data: Mapping[str, Any], p: dict[str, Any]) -> Any:
    code, name = _office("tw")
    return {
        "referred_at": now.isoformat(),
        "mediation_org": code,
        "mediation_org_name": name,
        "document": _number("({year})访调移字第{n}号", now),
    }


def _accept_case(cal: WorkingCalendar, now: datetime, data: Mapping[str, Any], p: dict[str, Any]) -> Any:
    # Deadlines go through the same timer expression and calendar as the real handler: they cost the same.
    timers = Timers(TIMERS, cal, data)
    days, deadline = mediation_period(timers.due, {"accepted_at": now.isoformat(), "extension_days": 0})
    return {
        "accepted_at": now.isoformat(),
        "mediation_org": p["mediation_org"],
        "mediation_days": days,
        "mediation_deadline": deadline,
        "latest_deadline": cal.add_days(now, MAX_MEDIATION_DAYS).isoformat(),
        "extension_days": 0,
        "extensions": [],
        "document": _number("({year})访调受字第{n}号", now),
    }


def _record_agreement(cal: WorkingCalendar, now: datetime, data: Mapping[str, Any], p: dict[str, Any]) -> Any:
    effective_on = data.get("agreement_effective_on") or now.astimezone(SHANGHAI).date().isoformat()
    start_of_day = datetime.combine(date.fromisoformat(effective_on), day_time(0), tzinfo=SHANGHAI)
    timers, feedback = Timers(TIMERS, cal, data), {"agreement": {"mediation_ended_at": now.isoformat()}}
    return {
        "form": p["form"],
        "mediation_ended_at": now.isoformat(),
        "effective_on": effective_on,
        "judicial_confirmation_deadline": cal.add_days(start_of_day, JUDICIAL_CONFIRMATION_DAYS).isoformat(),
        "feedback_deadline": timers.due(SUCCESS_FEEDBACK_TIMER, feedback).isoformat(),
        "feedback_period": str(timers.period(SUCCESS_FEEDBACK_TIMER, feedback)),
        "document": _number("({year})人调字第{n}号", now),
    }


def _record_success_feedback(
    cal: WorkingCalendar, now: datetime, data: Mapping[str, Any], p: dict[str, Any]
) -> Any:
    return {"fed_back_on": data.get("fed_back_on"), "recorded_at": now.isoformat()}


def _close_case(cal: WorkingCalendar, now: datetime, data: Mapping[str, Any], p: dict[str, Any]) -> Any:
    return {"closed_at": now.isoformat(), "document": _number("({year})访调访字第{n}号", now)}


# The success path's operations. The diagram and handlers change: StubScriptEngine.check compares these
# with what the real handlers returned in a runtime case and replays the real result where one drifted.
STUBS: dict[str, Stub] = {
    "fangtiao/assign_locality": _assign_locality,
    "fangtiao/check_prior_mediation": _check_prior,
    "fangtiao/issue_referral": _issue_referral,
    "fangtiao/accept_case": _accept_case,
    "fangtiao/record_agreement": _record_agreement,
    "fangtiao/record_success_feedback": _record_success_feedback,
    "fangtiao/close_case": _close_case,
}


class StubScriptEngine(ServiceTaskEngine):
    """The runtime's script engine minus the database: the same globals for expressions and timers,
    and service tasks answered with the handlers' result shapes."""

    def __init__(self, calendar: WorkingCalendar, now: datetime) -> None:
        super().__init__(environment=TaskDataEnvironment(timer_functions(calendar)))
        self._calendar = calendar
        self._now = now
        self._replay: dict[str, Any] = {}

    def run_service(self, task: Task, name: str, params: dict[str, Any]) -> Any:
        if name in self._replay:
            return self._replay[name]
        return STUBS[name](self._calendar, self._now, task.data, params)

    def check(self, real: Mapping[str, Any], steps: list[tuple[str, dict[str, Any]]]) -> list[str]:
        """Compares each stub with the real handler's result for the same step (same frozen clock, same
        data); where the keys or the type differ, or no stub exists, replays the real result instead."""
        data = {key: value for _, step in steps for key, value in step.items()}
        drifted = []
        for name, result in real.items():
            stub = STUBS.get(name)
            expected = stub(self._calendar, self._now, data, _params(result)) if stub else None
            if _shape(expected) != _shape(result):
                self._replay[name] = result
                drifted.append(name.removeprefix("fangtiao/"))
        return drifted


def _params(result: Any) -> dict[str, Any]:
    """Parameters a stub reads (mediation_org, form) taken from the real result, which echoes them."""
    if not isinstance(result, dict):
        return {}
    return {"mediation_org": result.get("mediation_org"), "form": result.get("form")}


def _shape(value: Any) -> Any:
    return sorted(value) if isinstance(value, dict) else type(value).__name__


# ---- engine alone and floor ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InProcess:
    """What the in-process measures share: the spec parsed once, the cleaned data, the stub engine."""

    spec: BpmnProcessSpec
    subprocess_specs: Mapping[str, BpmnProcessSpec]
    registration: dict[str, Any]
    steps: list[tuple[str, dict[str, Any]]]
    script_engine: StubScriptEngine
    codec: StateCodec

    @classmethod
    def prepare(cls) -> InProcess:
        files = read_directories(SETTINGS.processes_dir, SETTINGS.forms_dir)
        spec, subprocess_specs = parse_files(files, PROCESS_ID)
        registration, steps = _cleaned_path(spec)
        # The demo database has no admin calendar rows and no loaded official years: the same calendar.
        engine = StubScriptEngine(WorkingCalendar({}, []), START)
        return cls(spec, subprocess_specs, registration, steps, engine, StateCodec())

    def start(self, case_no: str) -> BpmnWorkflow:
        """What start_case does to the engine: a new instance, registration data at the root, run to
        the first user task with the timer refresh the runtime performs around every action."""
        workflow = BpmnWorkflow(self.spec, dict(self.subprocess_specs))
        workflow.script_engine = self.script_engine
        workflow.task_tree.data.update(self.registration, case_no=case_no, registered_at=START.isoformat())
        workflow.refresh_timers()
        workflow.do_engine_steps()
        return workflow


def _complete(workflow: BpmnWorkflow, task: Task, data: Mapping[str, Any]) -> list[Task]:
    """One user-task completion as the runtime performs it; returns the next ready user tasks, which
    every system needs (the runtime keeps them as its open-task list)."""
    task.data.update(data)
    task.run()
    workflow.refresh_timers()
    workflow.do_engine_steps()
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def _ready(workflow: BpmnWorkflow, name: str) -> Task:
    task = next(
        (t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.name == name), None
    )
    if task is None:
        raise AssertionError(f"{name} is not ready: the success path changed")
    return task


def run_engine_alone(env: InProcess, cases: int) -> Measure:
    measure = Measure("engine alone (memory)")
    for i in range(WARMUP_CASES + cases):
        sample = Measure("case")
        began = _now()
        workflow = env.start(f"BENCH-{i:06d}")
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        for name, data in env.steps:
            task = next(t for t in ready if t.task_spec.name == name)
            started = _now()
            ready = _complete(workflow, task, data)
            sample.add(name, started)
        total = time.perf_counter() - began[0]
        if not workflow.completed:
            raise AssertionError("engine alone: the success path did not complete the workflow")
        if i >= WARMUP_CASES:
            _merge(measure, sample, total)
    return measure


def _merge(measure: Measure, sample: Measure, total: float) -> None:
    measure.case_seconds.append(total)
    measure.wall += sample.wall
    measure.cpu += sample.cpu
    for step, values in sample.by_step.items():
        measure.by_step.setdefault(step, []).extend(values)
    for step, counts in sample.statements.items():
        measure.statements.setdefault(step, []).extend(counts)
    measure.checkouts += sample.checkouts


class Floor:
    """The engine plus restore, serialize and one durable single-row UPDATE per user action.

    Rows go to a table of its own in the runtime's database, written through the raw driver connection
    of an engine built by orchestration.store.db, so SQLite runs with WAL and synchronous=FULL and takes its
    write lock at BEGIN as the runtime's write transactions do; no ORM, no extra statement."""

    def __init__(self, env: InProcess, engine: Engine, label: str) -> None:
        self.env = env
        self.measure = Measure(label)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS bench_floor")
            connection.exec_driver_sql(
                "CREATE TABLE bench_floor"
                " (id INTEGER PRIMARY KEY, state TEXT NOT NULL, revision INTEGER NOT NULL)"
            )
        self._raw = engine.raw_connection()
        self._sqlite = engine.dialect.name == "sqlite"
        self.durability = self._durability()
        mark = "?" if self._sqlite else "%s"
        self._insert = f"INSERT INTO bench_floor (id, state, revision) VALUES ({mark}, {mark}, 0)"
        self._update = f"UPDATE bench_floor SET state = {mark}, revision = revision + 1 WHERE id = {mark}"
        self._next = 0

    def _durability(self) -> str:
        """What a commit promises here; SQLite must be as orchestration.store.db configures it (WAL, FULL)."""
        cursor = self._raw.cursor()
        try:
            if self._sqlite:
                cursor.execute("PRAGMA journal_mode")
                journal = cursor.fetchone()[0]
                cursor.execute("PRAGMA synchronous")
                synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[cursor.fetchone()[0]]
                if (journal, synchronous) != ("wal", "FULL"):
                    raise AssertionError(f"SQLite runs journal_mode={journal}, synchronous={synchronous}")
                return f"journal_mode={journal}, synchronous={synchronous}"
            cursor.execute("SHOW synchronous_commit")
            commit = cursor.fetchone()[0]
            cursor.execute("SHOW fsync")
            fsync = cursor.fetchone()[0]
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}, synchronous_commit={commit}, fsync={fsync}"
        finally:
            cursor.close()
            self._raw.rollback()  # PostgreSQL's SHOW opened a transaction; leave the connection idle

    def _commit(self, sql: str, params: tuple[Any, ...]) -> None:
        cursor = self._raw.cursor()
        try:
            if self._sqlite:
                cursor.execute(
                    "BEGIN IMMEDIATE"
                )  # orchestration.store.db turns pysqlite's implicit BEGIN off
            cursor.execute(sql, params)
        finally:
            cursor.close()
        self._raw.commit()

    def run_case(self, keep: bool) -> None:
        env, codec = self.env, self.env.codec
        case_id = self._next
        self._next += 1
        sample = Measure("case")
        began = _now()
        workflow = env.start(f"BENCH-{case_id:06d}")
        state = codec.dump(workflow)
        self._commit(self._insert, (case_id, state))
        total = time.perf_counter() - began[0]
        for name, data in env.steps:
            task_id = _ready(workflow, name).id  # what the open-task row hands the runtime
            started = _now()
            workflow = codec.load(state, env.spec, env.subprocess_specs)
            workflow.script_engine = env.script_engine  # not serialized: set again after every restore
            _complete(workflow, workflow.get_task_from_id(task_id), data)
            state = codec.dump(workflow)
            self._commit(self._update, (state, case_id))
            total += sample.add(name, started)
        if not workflow.completed:
            raise AssertionError("floor: the success path did not complete the workflow")
        if keep:
            _merge(self.measure, sample, total)

    def close(self) -> None:
        self._raw.close()


# ---- runtime ----------------------------------------------------------------------------------------------


class StatementCounter:
    """Counts statements (before_cursor_execute) and pool checkouts on an engine while switched on.
    Checkouts matter on PostgreSQL: make_engine sets pool_pre_ping, a round trip per checkout that
    does not pass through the cursor events."""

    def __init__(self, engine: Engine) -> None:
        self.statements = 0
        self.checkouts = 0
        self.on = False
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine.pool, "checkout", self._checkout)

    def _statement(self, *_: Any) -> None:
        if self.on:
            self.statements += 1

    def _checkout(self, *_: Any) -> None:
        if self.on:
            self.checkouts += 1

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.statements = self.checkouts = 0
        self.on = True
        try:
            yield
        finally:
            self.on = False


def build_runtime(url: str) -> tuple[Engine, Runtime]:
    """As tests/conftest.py builds one: migrated, demo seeded, the procedure deployed, clock frozen."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    runtime = Runtime(
        make_session_factory(engine),
        FrozenClock(START),
        processes_dir=SETTINGS.processes_dir,
        forms_dir=SETTINGS.forms_dir,
    )
    with runtime.sessions() as session, session.begin():
        demo.seed(session)
    runtime.deploy()
    return engine, runtime


Call = Callable[[Callable[[], Any]], Any]


def _direct(fn: Callable[[], Any]) -> Any:
    return fn()


class RuntimeBench:
    def __init__(self, engine: Engine, runtime: Runtime, label: str) -> None:
        self.runtime = runtime
        self.measure = Measure(label)
        self.counter = StatementCounter(engine)
        self.actors: dict[str, Actor] = {user: actor(runtime, user) for _, user, _ in SUCCESS_PATH}
        self._next = 0

    def run_case(self, keep: bool, complete: Call = _direct) -> int:
        """One case through the success path. Only the runtime calls are timed: the open-task lookups
        stand in for the user's task list. Parties differ per case, or the prior-mediation check would
        find the earlier (mediated) cases and route the new one out of mediation."""
        index = self._next
        self._next += 1
        registration = {**REGISTRATION, "petitioner_name": f"张三{index:05d}"}
        sample = Measure("case")
        began = time.perf_counter()
        case_id = self.runtime.start_case(registration, self.actors["clerk"]).case_id
        total = time.perf_counter() - began
        for name, user, data in SUCCESS_PATH:
            task_id = open_task(self.runtime, case_id, name).id
            with self.counter.counting():
                started = _now()
                # file fields' names become uploads (a form lookup more than a browser's step costs)
                complete(lambda t=task_id, d=data, u=user: complete_step(self.runtime, t, d, self.actors[u]))
                total += sample.add(name, started)
            sample.statements[name] = [self.counter.statements]
            sample.checkouts.append(self.counter.checkouts)
        with self.runtime.sessions() as session:
            status = session.execute(
                text("SELECT status FROM cases WHERE id = :id"), {"id": case_id}
            ).scalar()
        if status != "completed":
            raise AssertionError(f"runtime: case {case_id} ended {status!r}, not completed")
        if keep:
            _merge(self.measure, sample, total)
        return case_id

    def profile(self, cases: int) -> tuple[pstats.Stats, int]:
        """cProfile switched on around the completions only (not registration, not task lookups)."""
        profiler = cProfile.Profile()

        def profiled(fn: Callable[[], Any]) -> Any:
            profiler.enable()
            try:
                return fn()
            finally:
                profiler.disable()

        for _ in range(cases):
            self.run_case(False, profiled)
        return pstats.Stats(profiler), cases * len(SUCCESS_PATH)


def handler_results(runtime: Runtime, env: InProcess, case_id: int) -> dict[str, Any]:
    """What the real handlers returned in one completed runtime case, per operation, read back from the
    stored state: every completed service task keeps its result under its result variable."""
    with runtime.sessions() as session:
        state = session.execute(text("SELECT state FROM cases WHERE id = :id"), {"id": case_id}).scalar_one()
    workflow = env.codec.load(state, env.spec, env.subprocess_specs)
    results = {}
    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        operation = getattr(task.task_spec, "operation_name", None)
        if operation is not None:
            results[operation] = task.data.get(task.task_spec.result_variable)
    return results


def measure_database(
    env: InProcess, db: str, url: str, cases: int, first: Callable[[Runtime, int], None] | None = None
) -> tuple[Measure, Measure, tuple[pstats.Stats, int] | None]:
    """Floor and runtime on one database, a case of each in turn, so that load from other processes
    on the machine falls on both alike and their ratio stays meaningful. `first` runs after the first
    runtime case (which also warms up) and before any floor case; SQLite is profiled."""
    engine, runtime = build_runtime(url)
    bench = RuntimeBench(engine, runtime, f"runtime {db}")
    floor: Floor | None = None
    try:
        case_id = bench.run_case(keep=False)
        if first is not None:
            first(runtime, case_id)
        floor = Floor(env, engine, f"floor {db}")
        print(f"{db:10} {floor.durability}")
        with engine_clock(FrozenClock(START)):  # the floor's timers; the runtime sets its own clock
            for i in range(WARMUP_CASES + cases):
                floor.run_case(keep=i >= WARMUP_CASES)
                bench.run_case(keep=i >= WARMUP_CASES)
        stats = bench.profile(PROFILE_CASES) if db == "sqlite" else None
    finally:
        if floor is not None:
            floor.close()
        engine.dispose()
    return floor.measure, bench.measure, stats


# ---- profile digest ----------------------------------------------------------------------------------------

OUR_CODE = (str(PROJECT_ROOT / "orchestration"), str(PROJECT_ROOT / "handlers"))
OTHER = "other (stdlib: copy, uuid, datetime, typing, ...)"
# (area, test on "file:function"), first match wins: names the area a frame's own time belongs to.
AREAS: list[tuple[str, Callable[[str], bool]]] = [
    ("our code (orchestration, handlers)", lambda s: s.startswith(OUR_CODE)),
    ("SpiffWorkflow", lambda s: "SpiffWorkflow" in s),
    ("SQLAlchemy", lambda s: "sqlalchemy" in s),
    ("sqlite3 driver (SQL execution, fsync at COMMIT)", lambda s: "sqlite3" in s),
    ("psycopg driver", lambda s: "psycopg" in s),
    ("json", lambda s: "/json/" in s or "_json" in s),
    ("marshmallow (form validation)", lambda s: "marshmallow" in s),
    ("builtins (eval of expressions, deepcopy, ...)", lambda s: s.startswith("~")),
]
Key = tuple[str, int, str]


def _area(key: Key) -> str:
    subject = f"{key[0]}:{key[2]}"
    return next((area for area, test in AREAS if test(subject)), OTHER)


def _interesting(key: Key) -> bool:
    """Our code, SQLAlchemy, SpiffWorkflow, json and the drivers; other builtins are noise there."""
    if key[0] == "~":
        return "sqlite3" in key[2] or "psycopg" in key[2]
    return _area(key) not in (OTHER, "marshmallow (form validation)")


def _frame(key: Key) -> str:
    filename, line, function = key
    if filename == "~":
        return function
    for prefix in (str(PROJECT_ROOT) + "/", "site-packages/"):
        filename = filename.split(prefix, 1)[-1]
    return f"{filename}:{line}({function})"


def print_profile(stats: pstats.Stats, calls: int) -> None:
    raw: dict[Key, tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    rows = sorted(((k, v) for k, v in raw.items() if _interesting(k)), key=lambda kv: kv[1][3], reverse=True)
    print(f"\nPROFILE  runtime on SQLite, {calls} complete_task calls under cProfile, ms per call")
    print("top 15 by cumulative time among our code, SQLAlchemy, SpiffWorkflow, json and the driver")
    print(f"{'cumul.':>8} {'own':>7} {'calls':>6}  function")
    for key, (_, ncalls, own, cumulative, _) in rows[:15]:
        print(
            f"{cumulative * 1000 / calls:8.3f} {own * 1000 / calls:7.3f} {ncalls / calls:6.1f}  {_frame(key)}"
        )
    ours = [(k, v) for k, v in rows if k[0].startswith(OUR_CODE)]
    print("our own functions by cumulative time (the runtime's phases)")
    for key, (_, ncalls, own, cumulative, _) in ours[:12]:
        print(
            f"{cumulative * 1000 / calls:8.3f} {own * 1000 / calls:7.3f} {ncalls / calls:6.1f}  {_frame(key)}"
        )
    by_area: dict[str, float] = {}
    for key, (_, _, own, _, _) in raw.items():
        by_area[_area(key)] = by_area.get(_area(key), 0.0) + own
    total = sum(by_area.values())
    print("own time by area, ms per call (under the profiler, which inflates Python-heavy areas)")
    for area, own in sorted(by_area.items(), key=lambda item: item[1], reverse=True):
        print(f"{own * 1000 / calls:8.3f} {own / total:6.1%}  {area}")


# ---- report ----------------------------------------------------------------------------------------------


def print_summary(engine_alone: Measure, results: dict[str, tuple[Measure, Measure]]) -> None:
    print(
        f"\n{'per task completion':30} {'cases':>5} {'cases/s':>8} {'median ms':>10} {'p95 ms':>8} "
        f"{'cpu ms':>7} {'×floor':>7}"
    )
    rows: list[tuple[Measure, str]] = [(engine_alone, "")]
    for floor, runtime in results.values():
        rows += [(floor, ""), (runtime, f"{runtime.median_ms / floor.median_ms:6.1f}×")]
    for measure, ratio in rows:
        print(
            f"{measure.label:30} {len(measure.case_seconds):5d} {measure.cases_per_second:8.1f} "
            f"{measure.median_ms:10.3f} {measure.p95_ms:8.3f} {measure.cpu_median_ms:7.3f} {ratio:>7}"
        )
    print(
        "cases/s: register + 9 completions, timed calls only; cpu ms: median process CPU per completion;\n"
        "×floor: runtime median / floor median on the same database (floor and runtime cases interleaved)"
    )
    print(f"\nTARGETS  a completion ≤ {TARGET_RATIO:.0f}× the floor and ≤ {TARGET_MS:.0f} ms median")
    for db, (floor, runtime) in results.items():
        ratio = runtime.median_ms / floor.median_ms
        print(
            f"  {db:10} {runtime.median_ms:6.2f} ms: {'met' if runtime.median_ms <= TARGET_MS else 'MISSED'}"
            f" (≤ {TARGET_MS:.0f} ms);  {ratio:4.1f}× floor: {'met' if ratio <= TARGET_RATIO else 'MISSED'}"
            f" (2× floor = {TARGET_RATIO * floor.median_ms:.2f} ms);  SpiffArena ≈ {SPIFFARENA_MS:.0f} ms"
            f" on SQLite is {SPIFFARENA_MS / runtime.median_ms:.1f}× this"
        )


def print_steps(engine_alone: Measure, results: dict[str, tuple[Measure, Measure]]) -> None:
    """Median ms per step, and the SQL statements each step's completion issued through the runtime."""
    print("\nPER STEP  median ms per completion; SQL = statements per runtime completion")
    print("          (before_cursor_execute: BEGIN counted on SQLite, implicit in the driver on PostgreSQL)")
    header = f"{'step':18} {'engine':>7}"
    for db in results:
        header += f" {'floor ' + db[:6]:>13} {'runtime ' + db[:6]:>15} {'SQL':>5}"
    print(header)
    for step in STEP_NAMES:
        line = f"{step:18} {engine_alone.step_median_ms(step):7.3f}"
        for floor, runtime in results.values():
            sql = statistics.mean(runtime.statements[step])
            line += f" {floor.step_median_ms(step):13.3f} {runtime.step_median_ms(step):15.3f} {sql:5.1f}"
        print(line)
    line = f"{'all (median)':18} {engine_alone.median_ms:7.3f}"
    for floor, runtime in results.values():
        sql = statistics.mean(n for counts in runtime.statements.values() for n in counts)
        line += f" {floor.median_ms:13.3f} {runtime.median_ms:15.3f} {sql:5.1f}"
    print(line)
    for db, (_, runtime) in results.items():
        print(
            f"pool checkouts per runtime completion on {db}: {statistics.mean(runtime.checkouts):.1f}"
            + (" (each also a pre-ping round trip, not counted above)" if db == "postgresql" else "")
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.referral", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases",
        type=int,
        default=50,
        help=f"cases per database (engine alone: {ENGINE_FACTOR}×); default 50",
    )
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        metavar="URL",
        help="PostgreSQL server (a schema is created in it and dropped); 'off' to skip; default %(default)s",
    )
    args = parser.parse_args(argv)
    logs.configure(SETTINGS)
    if args.cases < 2:
        parser.error("--cases must be at least 2 (a p95 needs two values)")

    began = time.perf_counter()
    steps = len(SUCCESS_PATH)
    print(f"访调对接 success path: register + {steps} user tasks; clock frozen at {START:%Y-%m-%d %H:%M %Z}")
    env = InProcess.prepare()
    measures: list[Measure] = []

    def engine_alone(runtime: Runtime, case_id: int) -> None:
        """Runs once the SQLite runtime has completed a case, so the stubs can be checked against it."""
        real = handler_results(runtime, env, case_id)
        drifted = env.script_engine.check(real, env.steps)
        print(
            f"stubs      checked against the {len(real)} real handler results of a runtime case: "
            + (f"drifted, real result replayed: {', '.join(drifted)}" if drifted else "all match")
        )
        with engine_clock(FrozenClock(START)):
            measures.append(run_engine_alone(env, ENGINE_FACTOR * args.cases))

    databases: dict[str, Callable[[], AbstractContextManager[str]]] = {
        "sqlite": lambda: sqlite_database(PREFIX)
    }
    if args.postgres != "off":
        require_postgres(args.postgres)  # before the SQLite half, not after it
        databases["postgresql"] = lambda: postgres_schema(args.postgres, PREFIX)
    results: dict[str, tuple[Measure, Measure]] = {}
    profile: tuple[pstats.Stats, int] | None = None
    for db, database in databases.items():
        with database() as url:
            first = engine_alone if db == "sqlite" else None
            floor, runtime, stats = measure_database(env, db, url, args.cases, first)
        results[db] = (floor, runtime)
        profile = stats or profile

    print_summary(measures[0], results)
    print_steps(measures[0], results)
    if profile is not None:
        print_profile(*profile)
    print(f"\n(whole run {time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    main()
