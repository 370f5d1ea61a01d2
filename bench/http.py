"""What the web app costs over real HTTP with 100,000 cases in the database: the 待办 list and a completion.

Run as ``python -m bench.http [--cases 100000] [--requests 200] [--postgres URL|off]``. For SQLite (temp
file) and PostgreSQL (a schema of its own, created and dropped here):

1. populate: one real case per township goes down the success path through the runtime and its rows
   are captured at every stop (each open step, and completed); the captures are cloned in bulk by
   INSERT … SELECT into --cases cases, 80 % completed, the open ones spread over the townships' offices.
   A clone gets its own id, case number, petitioner name (so the prior-mediation check finds no earlier
   case of "the same parties") and parties_key, and its own copy of the state and of every row of the
   case (open task, timers, audit events, documents, notifications, clock events) with each SpiffWorkflow
   task UUID replaced consistently by a new one (see `capture`); the clerk has read the notifications of
   closed cases; VACUUM ANALYZE on PostgreSQL. Populate time is reported apart.
2. the app (``webapp.create_app``, clock frozen) is served by werkzeug's threaded server on 127.0.0.1, as
   ``fangtiao serve`` serves it, and driven from this process by an ``http.client`` keep-alive
   connection with a cookie jar, logged in as the demo clerk through the login form;
3. the task list: ``GET /tasks`` (first and last page) and ``GET /api/tasks``;
4. a completion of ``screen_case`` on distinct cases of the clerk's office, three ways interleaved: the
   task form as a browser submits it (task page fetched, its form parsed, multipart POST with the CSRF
   token and expected_revision; only the POST is timed, the redirect is then followed untimed so the
   flash message leaves the session cookie), the JSON API, and ``Runtime.complete_task`` alone;
5. a cProfile of a few of each request in-process (Flask test client, same app and database).
"""

from __future__ import annotations

import argparse
import cProfile
import html.parser
import http.client
import json
import os
import pstats
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit

from flask import Flask
from sqlalchemy import Engine, Integer, event, func, insert, literal, select, text
from sqlalchemy.exc import DBAPIError
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bench.databases import (
    DEFAULT_POSTGRES,
    bench_settings,
    postgres_schema,
    require_postgres,
    sqlite_database,
)
from handlers.eligibility import parties_key
from orchestration import logs
from orchestration.domain.calendar import SHANGHAI
from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Actor, Runtime
from orchestration.services import demo
from orchestration.settings import PROJECT_ROOT
from orchestration.store import migrate
from orchestration.store.db import make_engine, make_session_factory
from orchestration.store.models import Base, Case, Counter, Notification, NotificationRead, OpenTask, User
from tests.helpers import REGISTRATION, SUCCESS_PATH, complete, open_task
from webapp import create_app
from webapp.context import SERVICES_KEY

# names of the throwaway databases and schemas this bench makes
PREFIX = "bench_http"

# The tests' frozen start (tests/conftest.py): every clone's deadlines are computed from it, so no timer
# is due and the due states of the list are those of a working morning.
START = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
SETTINGS = bench_settings()
TARGET_P95_MS = 20.0
SPIFFARENA_MEDIAN_MS, SPIFFARENA_P95_MS = 38.0, 44.0  # its task completion API, almost empty SQLite
WARMUP = 10  # requests of each kind before measuring: spec parse, template compile, SQL compile caches
PROFILE_REQUESTS = 20
PASSWORD = demo.DEMO_PASSWORD

DONE = "completed"
STEPS = [name for name, _, _ in SUCCESS_PATH]
STOPS = [*STEPS, DONE]
# Where a case stands, as a share of all cases: most are history; newly registered ones wait for
# screening, mediations and follow-up visits take weeks. Each township gets a quarter.
MIX = {
    "screen_case": 0.04,
    "guide_divert": 0.02,
    "draft_referral": 0.02,
    "approve_referral": 0.01,
    "review_referral": 0.01,
    "mediate": 0.04,
    "feedback_success": 0.01,
    "receive_success": 0.01,
    "follow_up_visit": 0.04,
    DONE: 0.80,
}
COMPLETED_STEP = "screen_case"  # what the completions complete: the clerk's first task of a case
CLERK = "clerk"
CLERK_OFFICE = next(org for user, _, _, org in demo.USERS if user == CLERK)
CLERK_TOWNSHIP = next(region for code, _, _, region in demo.ORGANISATIONS if code == CLERK_OFFICE)
TOWNSHIPS = [code for code, _, level, _ in demo.REGIONS if level == "township"]
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# The tables holding a case's rows (besides cases): cloned row for row.
CASE_TABLES = [t for t in Base.metadata.sorted_tables if "case_id" in t.c]


# ---- real cases: one per township, captured at every stop on the success path ----------------------


def _marker(township: int) -> str:
    """The template's petitioner name: fixed width, so no marker is part of another; a clone gets its
    own name in its place (in the state, the audit details and the documents)."""
    return f"张模板{township:02d}"


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


def build_templates(
    engine: Engine, runtime: Runtime
) -> tuple[dict[tuple[str, str], list[RowTemplate]], list[int]]:
    """(township, stop) -> the rows of a real case standing there, and the real cases' ids.

    One case per township goes down the success path through the runtime and is captured at each stop,
    done at last. The demo has users in two townships only; tasks elsewhere are completed by an actor
    with the task's role and organisation (what the runtime checks), so every template is a real case."""
    with runtime.sessions() as session:
        users = {(u.role, u.org_id): Actor.of(u) for u in session.scalars(select(User))}
    clerk = next(a for a in users.values() if a.username == CLERK)
    templates: dict[tuple[str, str], list[RowTemplate]] = {}
    real: list[int] = []
    for t, township in enumerate(TOWNSHIPS):
        marker = _marker(t)
        registration = {**REGISTRATION, "petitioner_name": marker, "locality": township}
        case_id = runtime.start_case(registration, clerk).case_id
        real.append(case_id)
        for name, _, data in SUCCESS_PATH:
            task = open_task(runtime, case_id, name)  # raises unless the case waits at this step
            templates[township, name] = capture(engine, case_id, marker)
            actor = users.get((task.role, task.org_id)) or Actor("bench", task.role, task.org_id)
            if name == "draft_referral":  # refer to the township's own mediation committee
                data = {**data, "mediation_org": f"{township}-tw"}
            complete(runtime, task.id, data, actor)  # file fields' names become uploads
        with runtime.sessions() as session:
            status = session.scalar(select(Case.status).where(Case.id == case_id))
        if status != "completed":
            raise AssertionError(f"template case of {township} ended {status!r}")
        templates[township, DONE] = capture(engine, case_id, marker)
    return templates, real


# ---- templates: every row of a real case, with holes where a clone differs ---------------------------

# The holes of a text value: control characters, which no stored text holds (JSON escapes them), each
# replaced by the clone's own value in SQL. UUIDs keep their first 24 characters (see capture).
TOKENS = {"suffix": "\x01", "case_no": "\x02", "name": "\x03", "name_escaped": "\x04"}


class Whole(NamedTuple):
    """A column value that is the clone's own as a whole: its id or its parties_key."""

    column: str


class Holed(NamedTuple):
    """A text value with TOKENS where the clone's UUID suffix, case number or names go."""

    text: str


@dataclass(frozen=True)
class RowTemplate:
    table: str
    columns: tuple[str, ...]
    values: tuple[Any, ...]  # as stored (constants), or Whole, or Holed


def _read_rows(engine: Engine, table: str, columns: Sequence[str], where: str, case_id: int) -> list[Any]:
    """The rows as the database stores them: on PostgreSQL every column read as text (and written back
    cast to its type), so values go through no conversion; on SQLite the driver's values are the stored
    ones."""
    postgres = engine.dialect.name == "postgresql"
    listed = ", ".join(f'"{c}"::text' if postgres else f'"{c}"' for c in columns)
    with engine.connect() as conn:
        return list(conn.execute(text(f"SELECT {listed} FROM {table} WHERE {where} = :id"), {"id": case_id}))


def capture(engine: Engine, case_id: int, marker: str) -> list[RowTemplate]:
    """Every row of the case (the cases row first), with holes where a clone differs.

    A clone's task UUIDs keep the first 24 characters of the template's and end in a 12-digit suffix
    of the clone's own: unique (suffixes are distinct per clone, prefixes per task: checked below),
    consistent across the state and every row, and one value per clone instead of ~40 uuid4() calls."""
    raw: list[tuple[str, tuple[str, ...], list[Any]]] = []
    case_columns = tuple(c.name for c in Case.__table__.columns)
    raw.append(("cases", case_columns, _read_rows(engine, "cases", case_columns, "id", case_id)))
    for table in CASE_TABLES:
        # Integer ids of the case's rows are left to the database; open_tasks.id is the task UUID.
        columns = tuple(c.name for c in table.columns if not (c.primary_key and isinstance(c.type, Integer)))
        raw.append((table.name, columns, _read_rows(engine, table.name, columns, "case_id", case_id)))
    case_no = str(raw[0][2][0][case_columns.index("case_no")])
    literals = {
        case_no: TOKENS["case_no"],
        marker: TOKENS["name"],
        json.dumps(marker)[1:-1]: TOKENS["name_escaped"],
    }
    pattern = re.compile("|".join([UUID_RE, *(re.escape(k) for k in literals)]))
    prefixes: dict[str, set[str]] = {}

    def hole(match: re.Match[str]) -> str:
        hit = match.group()
        if hit in literals:
            return literals[hit]
        prefixes.setdefault(hit[:24], set()).add(hit)
        return hit[:24] + TOKENS["suffix"]

    rows = []
    for table, columns, stored in raw:
        for row in stored:
            values: list[Any] = []
            for column, value in zip(columns, row, strict=True):
                if (table, column) == ("cases", "id") or column == "case_id":
                    values.append(Whole("case_id"))
                elif (table, column) == ("cases", "parties_key"):
                    values.append(Whole("parties_key"))
                elif isinstance(value, str) and pattern.search(value):
                    if any(token in value for token in TOKENS.values()):
                        raise AssertionError(f"case {case_id}: a control character in {table}.{column}")
                    values.append(Holed(pattern.sub(hole, value)))
                else:
                    values.append(value)
            rows.append(RowTemplate(table, columns, tuple(values)))
    holed = "".join(v.text for r in rows for v in r.values if isinstance(v, Holed))
    if TOKENS["case_no"] not in holed or (
        TOKENS["name"] not in holed and TOKENS["name_escaped"] not in holed
    ):
        raise AssertionError(f"case {case_id}: case number or petitioner not found in its rows")
    if any(len(uuids) > 1 for uuids in prefixes.values()):
        raise AssertionError(f"case {case_id}: two task UUIDs share their first 24 characters")
    return rows


# ---- clones ------------------------------------------------------------------------------------------


def clone_plan(cases: int, needed: int) -> list[tuple[str, str]]:
    """The template of each clone, in id order: completed cases first (the oldest), newly registered
    last, townships interleaved. The clerk's office gets at least `needed` cases waiting at screening."""
    counts = {
        (tw, stop): round(cases * share / len(TOWNSHIPS)) for tw in TOWNSHIPS for stop, share in MIX.items()
    }
    mine = (CLERK_TOWNSHIP, COMPLETED_STEP)
    extra = max(0, needed - counts[mine])
    counts[mine] += extra
    counts[CLERK_TOWNSHIP, DONE] = max(0, counts[CLERK_TOWNSHIP, DONE] - extra)
    plan: list[tuple[str, str]] = []
    for stop in reversed(STOPS):
        left = {tw: counts[tw, stop] for tw in TOWNSHIPS}
        while any(left.values()):
            for tw in TOWNSHIPS:
                if left[tw]:
                    plan.append((tw, stop))
                    left[tw] -= 1
    return plan


# A 48-bit odd multiplier: number -> suffix is a bijection modulo 2**48, so suffixes never repeat, yet
# consecutive clones' UUIDs land far apart in the open_tasks primary key as random ones would.
SCATTER = 0x9E3779B97F4B
CLONES = "bench_clones"  # a temporary table: one row per clone with its own values


def suffix(number: int) -> str:
    return f"{number * SCATTER % 2**48:012x}"


def _insert_select(engine: Engine, row: RowTemplate) -> tuple[str, dict[str, Any]]:
    """INSERT … SELECT of the row for every clone of its template: the database copies the text and
    fills the holes (replace() in C) with the clone's values from the CLONES table, so no 1.5 GB of
    state crosses from Python."""
    postgres = engine.dialect.name == "postgresql"
    table = Base.metadata.tables[row.table]
    expressions, params = [], {}
    for i, (column, value) in enumerate(zip(row.columns, row.values, strict=True)):
        if isinstance(value, Whole):
            expression = f"k.{value.column}"
        else:
            expression = f":v{i}"
            params[f"v{i}"] = value.text if isinstance(value, Holed) else value
            if isinstance(value, Holed):
                for name, token in TOKENS.items():
                    if token in value.text:
                        expression = f"replace({expression}, :t_{name}, k.{name})"
                        params[f"t_{name}"] = token
        if postgres:  # the values were read as text; a text expression needs a cast into json etc.
            expression = f"CAST({expression} AS {table.c[column].type.compile(dialect=engine.dialect)})"
        expressions.append(expression)
    names = ", ".join(f'"{c}"' for c in row.columns)
    sql = (
        f"INSERT INTO {row.table} ({names}) SELECT {', '.join(expressions)}"
        f" FROM {CLONES} k WHERE k.template = :template"
    )
    return sql, params


def write_clones(
    engine: Engine, templates: Mapping[tuple[str, str], list[RowTemplate]], plan: Sequence[tuple[str, str]]
) -> None:
    year = START.year
    keys = list(templates)
    respondent = REGISTRATION["respondent_name"]
    sqlite = engine.dialect.name == "sqlite"
    engine.dispose()  # SQLite changes its journal mode only with no other connection open
    with engine.connect() as conn:
        # The clones are copies of real rows, so the foreign keys hold by construction: checking
        # them row by row (some 900,000 lookups for 100,000 cases) is left out of the load, as
        # pg_restore --disable-triggers does. Durability of the load is no part of the measures either:
        # on SQLite no journal (every page would go to the WAL and then again to the database), no
        # fsync, and a cache that holds the indexes. This engine only loads and is disposed of before
        # the app starts; the journal goes back to WAL below.
        if sqlite:
            driver = conn.connection.driver_connection
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "foreign_keys=OFF", "cache_size=-262144"):
                driver.execute(f"PRAGMA {pragma}")
        else:
            try:
                conn.execute(text("SET session_replication_role = replica"))
            except DBAPIError:  # not a superuser: the load checks the foreign keys, and takes longer
                conn.rollback()
        first_id = (conn.scalar(select(func.max(Case.id))) or 0) + 1
        conn.execute(
            text(
                f"CREATE TEMPORARY TABLE {CLONES} (template INTEGER, case_id INTEGER, suffix VARCHAR(12),"
                " case_no VARCHAR(32), name VARCHAR(50), name_escaped VARCHAR(300), parties_key VARCHAR(64))"
            )
        )
        index_of = {key: index for index, key in enumerate(keys)}
        clones = []
        for offset, key in enumerate(plan):
            number = offset + 1
            name = f"张三{number:06d}"
            clones.append(
                {
                    "template": index_of[key],
                    "case_id": first_id + offset,
                    "suffix": suffix(number),
                    "case_no": f"FT{year}-{number:06d}",
                    "name": name,
                    "name_escaped": json.dumps(name)[1:-1],
                    "parties_key": parties_key([name, respondent]),
                }
            )
        conn.execute(
            text(
                f"INSERT INTO {CLONES} VALUES (:template, :case_id, :suffix, :case_no, :name, :name_escaped,"
                " :parties_key)"
            ),
            clones,
        )
        conn.execute(text(f"CREATE INDEX {CLONES}_template ON {CLONES} (template)"))
        used = {index_of[key] for key in plan}
        for index, key in enumerate(keys):
            if index not in used:
                continue
            for row in templates[key]:  # the cases row first: the others refer to it
                sql, params = _insert_select(engine, row)
                conn.execute(text(sql), {**params, "template": index})
        conn.execute(text(f"DROP TABLE {CLONES}"))
        if not sqlite:
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
            )
        # The case-number counter moves past the clones, so a case registered now gets a new number.
        conn.execute(Counter.__table__.update().where(Counter.key == f"case:{year}").values(last=len(plan)))
        conn.commit()
        if sqlite:
            conn.connection.driver_connection.execute("PRAGMA journal_mode=WAL")
    engine.dispose()


def mark_old_notifications_read(engine: Engine) -> int:
    """The clerk has read the notifications of closed cases (each person reads for themselves)."""
    with engine.begin() as conn:
        clerk_id, org_id = conn.execute(select(User.id, User.org_id).where(User.username == CLERK)).one()
        chosen = (
            select(
                Notification.id, literal(clerk_id), literal(START, NotificationRead.__table__.c.read_at.type)
            )
            .join(Case, Case.id == Notification.case_id)
            .where(
                Case.status == "completed",
                Notification.org_id == org_id,
                (Notification.role.is_(None)) | (Notification.role == "petition_clerk"),
            )
        )
        conn.execute(
            insert(NotificationRead.__table__).from_select(["notification_id", "user_id", "read_at"], chosen)
        )
        return int(conn.scalar(select(func.count()).select_from(NotificationRead)) or 0)


def analyze(engine: Engine) -> None:
    """PostgreSQL: fresh statistics for the planner and, with VACUUM, the visibility map set, so that
    autovacuum, which 100k inserted rows would set off, does not run during the measures. Our tables
    only: a bare VACUUM would go through every schema of the database, other people's included."""
    if engine.dialect.name != "postgresql":
        return  # SQLite as the app runs it: no sqlite_stat1, the planner goes by the indexes alone
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM ANALYZE {tables}"))


@dataclass
class Population:
    cases: int
    completed: int
    open_tasks: int
    clerk_tasks: int
    read_marked: int  # notifications of closed cases the clerk has read
    real_seconds: float  # the template cases through the runtime
    clone_seconds: float
    analyze_seconds: float
    size: str


def _size(engine: Engine, url: str) -> str:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            size = conn.scalar(
                text(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                )
            )
        return f"{int(size or 0) / 2**30:.2f} GB in the schema"
    return f"{Path(url.split('///', 1)[1]).stat().st_size / 2**30:.2f} GB file"


def populate(url: str, cases: int, needed: int) -> Population:
    began = time.perf_counter()
    engine, runtime = build_runtime(url)
    try:
        templates, real = build_templates(engine, runtime)
        with engine.begin() as conn:  # the clones take their place (and their case numbers)
            for table in reversed(CASE_TABLES):
                conn.execute(table.delete().where(table.c.case_id.in_(real)))
            conn.execute(Case.__table__.delete().where(Case.id.in_(real)))
        cloning = time.perf_counter()
        plan = clone_plan(cases, needed)
        write_clones(engine, templates, plan)
        read_marked = mark_old_notifications_read(engine)
        analyzing = time.perf_counter()
        analyze(engine)
        done = time.perf_counter()
        with engine.connect() as conn:
            clerk_role, clerk_org = conn.execute(
                select(User.role, User.org_id).where(User.username == CLERK)
            ).one()
            completed = conn.scalar(select(func.count()).select_from(Case).where(Case.status == "completed"))
            tasks = conn.scalar(select(func.count()).select_from(OpenTask))
            mine = conn.scalar(
                select(func.count())
                .select_from(OpenTask)
                .where(OpenTask.role == clerk_role, OpenTask.org_id == clerk_org)
            )
        return Population(
            cases=len(plan),
            completed=int(completed or 0),
            open_tasks=int(tasks or 0),
            clerk_tasks=int(mine or 0),
            read_marked=read_marked,
            real_seconds=cloning - began,
            clone_seconds=analyzing - cloning,
            analyze_seconds=done - analyzing,
            size=_size(engine, url),
        )
    finally:
        engine.dispose()


# ---- measuring ----------------------------------------------------------------------------------------


class SqlMeter:
    """Statements, their execution time (cursor.execute as the driver returns it: no COMMIT, no fetch)
    and pool checkouts on the app's engine, for one request at a time. The server runs in another thread
    but requests are sequential, so plain counters suffice.

    On PostgreSQL it also learns the server process (backend) of each of the engine's connections, so
    the CPU the database spends on a request can be read from /proc: like process CPU it does not grow
    when other processes take the cores, which wall time on a shared machine does."""

    def __init__(self, engine: Engine) -> None:
        self.statements = 0
        self.seconds = 0.0
        self.checkouts = 0
        self._began = 0.0
        self.backends: list[int] = []
        self._tick = os.sysconf("SC_CLK_TCK")
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine.pool, "checkout", self._checkout)
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", self._connect)

    def _before(self, *_: Any) -> None:
        self._began = time.perf_counter()

    def _after(self, *_: Any) -> None:
        self.statements += 1
        self.seconds += time.perf_counter() - self._began

    def _checkout(self, *_: Any) -> None:
        self.checkouts += 1

    def _connect(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        self.backends.append(cursor.fetchone()[0])
        cursor.close()
        dbapi_connection.rollback()  # leave the new connection idle, as the pool expects

    def database_cpu(self) -> float:
        """CPU seconds used so far by the backends of this engine (utime + stime, in clock ticks: 10 ms,
        so per request only the mean of many is meaningful). 0 on SQLite, which runs in this process."""
        ticks = 0
        for pid in self.backends:
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:  # a backend whose connection the pool closed
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks / self._tick

    def reset(self) -> None:
        self.statements, self.seconds, self.checkouts = 0, 0.0, 0


@dataclass
class Series:
    label: str
    wall: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)
    checkouts: list[int] = field(default_factory=list)
    size: list[int] = field(default_factory=list)  # response bytes
    # Process CPU (client, server thread and, on SQLite, the database) and PostgreSQL's backend CPU:
    # unlike wall time they do not grow when other processes take the cores, so they tell cost from
    # noise on a shared machine (they miss disk waits: fsync at COMMIT).
    cpu: list[float] = field(default_factory=list)
    db_cpu: list[float] = field(default_factory=list)

    def percentile_ms(self, q: int) -> float:
        return statistics.quantiles(self.wall, n=100, method="inclusive")[q - 1] * 1000

    @property
    def median_ms(self) -> float:
        return statistics.median(self.wall) * 1000

    @property
    def cpu_ms(self) -> float:
        return statistics.mean(self.cpu) * 1000

    @property
    def db_cpu_ms(self) -> float:
        return statistics.mean(self.db_cpu) * 1000


@contextmanager
def timed(series: Series | None, meter: SqlMeter) -> Iterator[list[int]]:
    """Times the block into `series` (None: a warm-up, not kept); the block appends its response size.
    The backends' CPU is read outside the timed span, so reading /proc is not part of it."""
    size: list[int] = []
    meter.reset()
    database = meter.database_cpu()
    cpu = time.process_time()
    began = time.perf_counter()
    yield size
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu
    if series is not None:
        series.wall.append(elapsed)
        series.cpu.append(cpu)
        series.db_cpu.append(meter.database_cpu() - database)
        series.statements.append(meter.statements)
        series.sql.append(meter.seconds)
        series.checkouts.append(meter.checkouts)
        series.size.append(sum(size))


# ---- the browser ------------------------------------------------------------------------------------


class Reply(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8")


class Browser:
    """One keep-alive connection and a cookie jar: what a browser tab does, minus rendering."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> Reply:
        sent = {"Accept": "text/html,application/json", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.connection.request(method, path, body, sent)
        response = self.connection.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value, _, attributes = rest.partition(";")
            lowered = attributes.lower()
            if "max-age=0" in lowered or "expires=thu, 01 jan 1970" in lowered:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        return Reply(response.status, response.headers, data)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def close(self) -> None:
        self.connection.close()


class FormParser(html.parser.HTMLParser):
    """What a browser would submit from the form with the given id: enabled fields in document order,
    checked boxes and radios only, textareas' text, selected options, file inputs (sent empty)."""

    def __init__(self, form_id: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.disabled_depth = 0  # a disabled fieldset disables everything in it
        self.fields: list[tuple[str, str | None]] = []  # value None: an empty file input
        self._textarea: str | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and (self.form_id is None or a.get("id") == self.form_id):
            self.inside = True
            return
        if not self.inside:
            return
        disabled = "disabled" in a or self.disabled_depth > 0
        if tag == "fieldset":
            self.disabled_depth += 1 if (self.disabled_depth or "disabled" in a) else 0
        name = a.get("name")
        if tag == "input" and name and not disabled:
            kind = (a.get("type") or "text").lower()
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.fields.append((name, a.get("value") or "on"))
            elif kind == "file":
                self.fields.append((name, None))
            elif kind not in ("submit", "button", "reset", "image"):
                self.fields.append((name, a.get("value") or ""))
        elif tag == "textarea" and name and not disabled:
            self._textarea, self._text = name, []
        elif tag == "select" and name and not disabled:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value") or "", "selected" in a))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "form":
            self.inside = False
        elif tag == "fieldset" and self.disabled_depth:
            self.disabled_depth -= 1
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            self.fields.extend((self._select, v) for v in chosen)
            self._select = None


def form_fields(page: str, form_id: str | None = None) -> list[tuple[str, str | None]]:
    parser = FormParser(form_id)
    parser.feed(page)
    return parser.fields


def fill(fields: list[tuple[str, str | None]], data: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """The user's answers in place of what the page held: a radio chosen, a box (un)ticked, text typed."""
    kept = [(k, v) for k, v in fields if k not in data]
    for key, value in data.items():
        if value is True:
            kept.append((key, "true"))
        elif isinstance(value, list):
            kept.extend((key, str(v)) for v in value)
        elif value is not False and value is not None:
            kept.append((key, str(value)))
    return kept


def multipart(fields: Sequence[tuple[str, str | None]]) -> tuple[bytes, str]:
    """multipart/form-data as a browser encodes the task form (enctype="multipart/form-data")."""
    boundary = f"----FangtiaoBench{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields:
        if value is None:  # an empty file input: a part with an empty filename
            head = (
                f'Content-Disposition: form-data; name="{name}"; filename=""\r\n'
                "Content-Type: application/octet-stream"
            )
            value = ""
        else:
            head = f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{boundary}\r\n{head}\r\n\r\n{value}\r\n".encode())
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _expect(reply: Reply, status: int, what: str) -> Reply:
    if reply.status != status:
        raise AssertionError(f"{what}: HTTP {reply.status}, expected {status}: {reply.body[:600]!r}")
    return reply


def _path(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def log_in(browser: Browser, username: str) -> None:
    """Through the login form, with its CSRF token, and the redirect followed (it shows the welcome)."""
    page = _expect(browser.get("/login"), 200, "GET /login").text()
    fields = dict((k, v or "") for k, v in form_fields(page, "login-form"))
    fields.update(username=username, password=PASSWORD)
    reply = browser.request(
        "POST", "/login", urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    _expect(reply, 302, "POST /login")
    _expect(browser.get(_path(reply.headers["Location"])), 200, "after login")


# ---- the app over HTTP --------------------------------------------------------------------------------


class QuietHandler(WSGIRequestHandler):
    """No access-log line per request: a terminal write per request is not what is measured."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@contextmanager
def serve(app: WsgiApp) -> Iterator[int]:
    """werkzeug's threaded server (what `fangtiao serve` runs, through app.run) on a free port."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="bench-http", daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def trivial_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The HTTP floor: what the same server and client cost around an app that does nothing."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


@dataclass
class Target:
    task_id: str
    case_id: int
    revision: int


@dataclass
class DbResult:
    label: str
    population: Population
    series: dict[str, Series]
    profile: dict[str, tuple[pstats.Stats, int]]
    checked: str


LIST_HTML, LIST_LAST, LIST_API = "GET /tasks", "GET /tasks?page=<last>", "GET /api/tasks"
FORM, API, RUNTIME = "POST /tasks/<id> (form)", "POST /api/tasks/<id>/complete", "Runtime.complete_task"
TASK_PAGE = "GET /tasks/<id> (task page)"
FLOOR = "HTTP floor: app doing nothing"
SHORT = {LIST_HTML: "GET /tasks", LIST_API: "GET /api/tasks", FORM: "form POST", API: "API POST"}
SCREEN_DATA = next(data for name, _, data in SUCCESS_PATH if name == COMPLETED_STEP)


def measure_lists(
    browser: Browser, floor: Browser, meter: SqlMeter, requests: int, population: Population
) -> dict[str, Series]:
    last = max(1, -(-population.clerk_tasks // 20))
    kinds = {LIST_HTML: "/tasks", LIST_LAST: f"/tasks?page={last}", LIST_API: "/api/tasks", FLOOR: "/"}
    series = {label: Series(label) for label in kinds}
    for i in range(WARMUP + requests):
        for label, path in kinds.items():  # interleaved: load from elsewhere falls on all alike
            client = floor if label == FLOOR else browser
            with timed(series[label] if i >= WARMUP else None, meter) as size:
                reply = client.get(path)
                size.append(len(reply.body))
            _expect(reply, 200, path)
    body = json.loads(browser.get("/api/tasks").body)
    if body["total"] != population.clerk_tasks or len(body["tasks"]) != 20:
        raise AssertionError(
            f"/api/tasks lists {body['total']}, the clerk has {population.clerk_tasks} tasks"
        )
    return series


def complete_by_form(
    browser: Browser, meter: SqlMeter, target: Target, series: dict[str, Series] | None
) -> None:
    path = f"/tasks/{target.task_id}"
    with timed(series[TASK_PAGE] if series else None, meter) as size:
        page = _expect(browser.get(path), 200, f"GET {path}")
        size.append(len(page.body))
    fields = fill(form_fields(page.text(), "task-form"), SCREEN_DATA)
    body, content_type = multipart(fields)
    with timed(series[FORM] if series else None, meter) as size:
        reply = browser.request("POST", path, body, {"Content-Type": content_type})
        size.append(len(reply.body))
    _expect(reply, 302, f"POST {path}")
    # Not timed: the browser follows the redirect to 待办, which also takes the flash out of the cookie.
    _expect(browser.get(_path(reply.headers["Location"])), 200, "redirect after the form")


def complete_by_api(browser: Browser, meter: SqlMeter, target: Target, series: Series | None) -> None:
    body = json.dumps({"data": SCREEN_DATA, "expected_revision": target.revision}).encode()
    path = f"/api/tasks/{target.task_id}/complete"
    with timed(series, meter) as size:
        reply = browser.request("POST", path, body, {"Content-Type": "application/json"})
        size.append(len(reply.body))
    _expect(reply, 200, f"POST {path}")
    if not any(t["task_name"] == "guide_divert" for t in json.loads(reply.body)["open_tasks"]):
        raise AssertionError(f"{path}: the case did not move on to guide_divert")


def complete_by_runtime(
    runtime: Runtime, actor: Actor, meter: SqlMeter, target: Target, series: Series | None
) -> None:
    with timed(series, meter):
        runtime.complete_task(target.task_id, SCREEN_DATA, actor, expected_revision=target.revision)


def targets(engine: Engine, count: int) -> list[Target]:
    """Open screen_case tasks of the clerk's office, one per case."""
    with engine.connect() as conn:
        org_id = conn.scalar(select(User.org_id).where(User.username == CLERK))
        rows = conn.execute(
            select(OpenTask.id, OpenTask.case_id, Case.revision)
            .join(Case, Case.id == OpenTask.case_id)
            .where(OpenTask.task_name == COMPLETED_STEP, OpenTask.org_id == org_id)
            .order_by(OpenTask.case_id)
            .limit(count)
        ).all()
    if len(rows) < count:
        raise AssertionError(f"only {len(rows)} screen_case tasks in the clerk's office, {count} needed")
    return [Target(task_id, case_id, revision) for task_id, case_id, revision in rows]


def verify_completions(engine: Engine, done: Sequence[Target]) -> str:
    ids = [t.case_id for t in done]
    with engine.connect() as conn:
        screening = conn.scalar(
            select(func.count())
            .select_from(OpenTask)
            .where(OpenTask.case_id.in_(ids), OpenTask.task_name == COMPLETED_STEP)
        )
        diverting = conn.scalar(
            select(func.count())
            .select_from(OpenTask)
            .where(OpenTask.case_id.in_(ids), OpenTask.task_name == "guide_divert")
        )
    ok = screening == 0 and diverting == len(ids)
    return (
        f"{'OK' if ok else 'FAILED'}: {len(ids)} cases completed, {screening} still at screen_case, "
        f"{diverting} now at guide_divert"
    )


def measure_completions(
    app: Flask, browser: Browser, meter: SqlMeter, requests: int, chosen: list[Target]
) -> dict[str, Series]:
    runtime: Runtime = app.extensions[SERVICES_KEY].runtime
    with runtime.sessions() as session:
        clerk = Actor.of(session.scalars(select(User).where(User.username == CLERK)).one())
    series = {label: Series(label) for label in (FORM, API, RUNTIME, TASK_PAGE)}
    for i in range(WARMUP + requests):
        keep = i >= WARMUP
        form_target, api_target, runtime_target = chosen[3 * i : 3 * i + 3]
        complete_by_form(browser, meter, form_target, series if keep else None)
        complete_by_api(browser, meter, api_target, series[API] if keep else None)
        complete_by_runtime(runtime, clerk, meter, runtime_target, series[RUNTIME] if keep else None)
    return series


# ---- profile: a few of each request in-process ------------------------------------------------------


def profile_requests(app: Flask, chosen: list[Target]) -> dict[str, tuple[pstats.Stats, int]]:
    """cProfile around the WSGI app only (Flask test client: same app and database, no socket)."""
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    fields = dict((k, v or "") for k, v in form_fields(login_page, "login-form"))
    client.post("/login", data={**fields, "username": CLERK, "password": PASSWORD})
    results: dict[str, tuple[pstats.Stats, int]] = {}

    def run(label: str, calls: list[Callable[[], Any]], prepare: Callable[[int], Any] | None = None) -> None:
        profiler = cProfile.Profile()
        for index, call in enumerate(calls):
            if prepare is not None:
                prepare(index)
            profiler.enable()
            try:
                response = call()
            finally:
                profiler.disable()
            if response.status_code not in (200, 302):
                raise AssertionError(f"profile {label}: HTTP {response.status_code}")
        results[label] = (pstats.Stats(profiler), len(calls))

    n = PROFILE_REQUESTS
    run(LIST_HTML, [lambda: client.get("/tasks")] * n)
    run(LIST_API, [lambda: client.get("/api/tasks")] * n)
    form_targets, api_targets = chosen[:n], chosen[n : 2 * n]
    bodies: dict[int, dict[str, Any]] = {}

    def prepare_form(index: int) -> None:
        page = client.get(f"/tasks/{form_targets[index].task_id}").get_data(as_text=True)
        bodies[index] = dict((k, v or "") for k, v in fill(form_fields(page, "task-form"), SCREEN_DATA))

    def form_call(index: int) -> Callable[[], Any]:
        return lambda: client.post(
            f"/tasks/{form_targets[index].task_id}", data=bodies[index], content_type="multipart/form-data"
        )

    run(FORM, [form_call(i) for i in range(n)], prepare_form)
    client.get("/tasks")  # the redirects' flashes, collected once
    run(
        API,
        [
            (
                lambda t=t: client.post(
                    f"/api/tasks/{t.task_id}/complete",
                    json={"data": SCREEN_DATA, "expected_revision": t.revision},
                )
            )
            for t in api_targets
        ],
    )
    return results


OUR_CODE = tuple(str(PROJECT_ROOT / d) for d in ("webapp", "orchestration", "handlers"))
OTHER = "other (stdlib, builtins)"
AREAS: list[tuple[str, Callable[[str], bool]]] = [
    ("Jinja2 (template code and engine)", lambda s: ".html" in s or "jinja2" in s or "markupsafe" in s),
    ("our code (webapp, orchestration, handlers)", lambda s: s.startswith(OUR_CODE)),
    ("SpiffWorkflow", lambda s: "SpiffWorkflow" in s),
    ("SQLAlchemy", lambda s: "sqlalchemy" in s),
    ("database driver (SQL execution, COMMIT)", lambda s: "sqlite3" in s or "psycopg" in s),
    (
        "Flask, Werkzeug, Flask-Login/WTF, itsdangerous",
        lambda s: any(p in s for p in ("flask", "werkzeug", "itsdangerous", "wtforms")),
    ),
    ("json", lambda s: "/json/" in s or "_json" in s),
    ("marshmallow (form validation)", lambda s: "marshmallow" in s),
    ("calendar libraries", lambda s: "chinese_calendar" in s or "holidays" in s),
]
Key = tuple[str, int, str]


def _area(key: Key) -> str:
    subject = f"{key[0]}:{key[2]}"
    return next((area for area, test in AREAS if test(subject)), OTHER)


def _frame(key: Key) -> str:
    filename, line, function = key
    if filename == "~":
        return function
    for prefix in (str(PROJECT_ROOT) + "/", "site-packages/"):
        filename = filename.split(prefix, 1)[-1]
    return f"{filename}:{line}({function})"


def print_profiles(results: Mapping[str, DbResult], top: int) -> None:
    for db, result in results.items():
        print(
            f"\nPROFILE  {db}: {PROFILE_REQUESTS} requests of each kind in-process (Flask test client), "
            "ms per request"
        )
        print("         under cProfile, which inflates Python-heavy parts; own time by area")
        labels = list(result.profile)
        print(f"{'area':48}" + "".join(f"{SHORT[label]:>15}" for label in labels))
        by_label: dict[str, dict[str, float]] = {}
        totals: dict[str, float] = {}
        for label, (stats, calls) in result.profile.items():
            raw: dict[Key, tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
            areas: dict[str, float] = {}
            for key, (_, _, own, _, _) in raw.items():
                areas[_area(key)] = areas.get(_area(key), 0.0) + own * 1000 / calls
            by_label[label] = areas
            totals[label] = sum(areas.values())
        names = sorted(
            {a for areas in by_label.values() for a in areas},
            key=lambda a: -sum(by_label[lb].get(a, 0) for lb in labels),
        )
        for area in names:
            print(f"{area:48}" + "".join(f"{by_label[lb].get(area, 0.0):15.2f}" for lb in labels))
        print(f"{'total':48}" + "".join(f"{totals[lb]:15.2f}" for lb in labels))
        if top <= 0:
            continue
        for label, (stats, calls) in result.profile.items():
            raw = stats.stats  # type: ignore[attr-defined]
            ours = sorted(
                ((k, v) for k, v in raw.items() if k[0].startswith(OUR_CODE)), key=lambda kv: -kv[1][3]
            )
            print(f"  {label}: our functions by cumulative ms per request (cumul., own, calls)")
            for key, (_, ncalls, own, cumulative, _) in ours[:top]:
                print(
                    f"    {cumulative * 1000 / calls:7.2f} {own * 1000 / calls:6.2f} {ncalls / calls:6.1f}  "
                    f"{_frame(key)}"
                )


# ---- one database ---------------------------------------------------------------------------------------


def measure_database(label: str, url: str, args: argparse.Namespace) -> DbResult:
    needed = 3 * (WARMUP + args.requests) + 2 * PROFILE_REQUESTS
    print(f"... {label}: populating {args.cases:,} cases", file=sys.stderr, flush=True)
    population = populate(url, args.cases, needed)
    with tempfile.TemporaryDirectory(prefix="fangtiao-bench-http-") as instance:
        app = create_app(
            {
                "DATABASE_URL": url,
                "CLOCK": FrozenClock(START),
                "SECRET_KEY": uuid.uuid4().hex,
                "INSTANCE_PATH": instance,
            },
            SETTINGS,
        )
        engine: Engine = app.extensions[SERVICES_KEY].engine
        meter = SqlMeter(engine)
        chosen = targets(engine, needed)
        try:
            with serve(app) as port, serve(trivial_app) as floor_port:
                browser, floor = Browser(port), Browser(floor_port)
                try:
                    log_in(browser, CLERK)
                    print(f"... {label}: task lists", file=sys.stderr, flush=True)
                    series = measure_lists(browser, floor, meter, args.requests, population)
                    print(f"... {label}: completions", file=sys.stderr, flush=True)
                    series |= measure_completions(app, browser, meter, args.requests, chosen)
                finally:
                    browser.close()
                    floor.close()
            checked = verify_completions(engine, chosen[: 3 * (WARMUP + args.requests)])
            print(f"... {label}: profile", file=sys.stderr, flush=True)
            profile = profile_requests(app, chosen[3 * (WARMUP + args.requests) :])
        finally:
            engine.dispose()
    return DbResult(label, population, series, profile, checked)


# ---- report -------------------------------------------------------------------------------------------


def _row(db: str, s: Series, extra: str = "") -> str:
    database = f"{s.db_cpu_ms:6.2f}" if db == "postgresql" else f"{'-':>6}"
    return (
        f"{db:10} {s.label:31} {len(s.wall):4d} {s.median_ms:6.2f} {s.percentile_ms(95):6.2f} "
        f"{s.percentile_ms(99):6.2f} {s.cpu_ms:6.2f} {database} {statistics.mean(s.statements):4.1f} "
        f"{statistics.median(s.sql) * 1000:6.2f} {statistics.mean(s.checkouts):4.1f} "
        f"{statistics.median(s.size) / 1024:5.1f}{extra}"
    )


HEADER = (
    f"{'database':10} {'request':31} {'n':>4} {'p50':>6} {'p95':>6} {'p99':>6} {'cpu':>6} {'db cpu':>6} "
    f"{'SQL':>4} {'SQL ms':>6} {'pool':>4} {'KB':>5}"
)
LEGEND = """\
p50/p95/p99: wall ms of the request as the client sees it; cpu: mean process CPU ms (client, server thread
and SQLite itself); db cpu: mean CPU ms of the PostgreSQL backends (from /proc); SQL: statements per
request (SQLite counts its BEGIN); SQL ms: median time inside cursor.execute (no COMMIT, no fetch); pool:
connection checkouts (on PostgreSQL each also a pre-ping round trip); KB: response size"""


def fsync_ms(directory: str, count: int = 50) -> float:
    """Median fsync of a 4 KB append in `directory`: what a durable COMMIT waits for at least. The disk is
    shared too: this moved between 0.07 and 4 ms in one evening here, so each run reports its own."""
    path = Path(directory) / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    waits = []
    try:
        for _ in range(count):
            os.write(fd, b"x" * 4096)
            began = time.perf_counter()
            os.fsync(fd)
            waits.append(time.perf_counter() - began)
    finally:
        os.close(fd)
        path.unlink()
    return statistics.median(waits) * 1000


def report(
    results: Mapping[str, DbResult],
    args: argparse.Namespace,
    seconds: float,
    load: tuple[float, float],
    fsync: tuple[float, float],
) -> None:
    print(
        f"访调通 over HTTP: werkzeug threaded server on 127.0.0.1, http.client keep-alive client in the same "
        f"process;\n{os.cpu_count()} cores, Python {sys.version.split()[0]}; shared machine: load average "
        f"{load[0]:.2f} at the start, {load[1]:.2f} at the end (see the cpu columns), fsync p50 "
        f"{fsync[0]:.2f} ms at the start, {fsync[1]:.2f} ms at the end"
    )
    for db, r in results.items():
        p = r.population
        print(
            f"{db:10} {p.cases:,} cases ({p.completed:,} completed), {p.open_tasks:,} open tasks, "
            f"{p.clerk_tasks:,} in the clerk's 待办; {p.size}"
        )
        print(
            f"{'':10} populate {p.real_seconds + p.clone_seconds + p.analyze_seconds:.1f} s: real template "
            f"cases {p.real_seconds:.1f} s, clone + write {p.clone_seconds:.1f} s, "
            f"{'VACUUM ANALYZE' if db == 'postgresql' else 'no ANALYZE'} {p.analyze_seconds:.1f} s; "
            f"{p.read_marked:,} notifications of closed cases marked read by the clerk"
        )
    print(
        f"\nTASK LIST  --requests {args.requests} of each after {WARMUP} warm-up, interleaved, as the clerk"
    )
    print(HEADER)
    for db, r in results.items():
        for label in (LIST_HTML, LIST_LAST, LIST_API, FLOOR):
            print(_row(db, r.series[label]))
    print(
        "\nCOMPLETION  screen_case of distinct cases, the three ways interleaved; "
        "×rt and +rt: p50 against the runtime's p50"
    )
    print(HEADER + f" {'×rt':>5} {'+rt':>6}")
    for db, r in results.items():
        base = r.series[RUNTIME].median_ms
        for label in (FORM, API, RUNTIME, TASK_PAGE):
            s = r.series[label]
            extra = "" if label == TASK_PAGE else f" {s.median_ms / base:4.1f}× {s.median_ms - base:6.2f}"
            print(_row(db, s, extra))
    print(LEGEND)
    print(
        "The task page is what the browser fetched before each form POST (shown, not counted); the redirect "
        "after the POST\nwas followed untimed."
    )
    print(f"\nTARGETS  p95 ≤ {TARGET_P95_MS:.0f} ms for the task list and the completion")
    for db, r in results.items():
        verdicts = []
        for label in (LIST_HTML, LIST_API, FORM, API):
            p95 = r.series[label].percentile_ms(95)
            verdicts.append(f"{label.split(' (')[0]} {p95:.1f} {'met' if p95 <= TARGET_P95_MS else 'MISSED'}")
        print(f"  {db:10} " + "; ".join(verdicts))
    for db, r in results.items():
        api = r.series[API]
        print(
            f"  {db:10} SpiffArena's completion API ≈ {SPIFFARENA_MEDIAN_MS:.0f} ms p50 / "
            f"{SPIFFARENA_P95_MS:.0f} ms p95 on an almost empty SQLite; ours over the API "
            f"{api.median_ms:.1f} / {api.percentile_ms(95):.1f} ms with {r.population.cases:,} cases"
        )
    print("\nCHECKS")
    for db, r in results.items():
        print(f"  {db:10} {r.checked}")
    print_profiles(results, args.top)
    print(f"\n(whole run {seconds:.1f} s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases", type=int, default=100_000, help="cases in each database; default %(default)s"
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=200,
        help="measured requests of each kind (and completions of each way) per database; default %(default)s:"
        " 300 takes ~6.5 min on this shared 2-core machine, 200 keeps the run near 5 min",
    )
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        metavar="URL",
        help="PostgreSQL server (a schema is created in it and dropped); 'off' to skip; default %(default)s",
    )
    parser.add_argument("--top", type=int, default=6, help="our functions listed per profiled request kind")
    args = parser.parse_args(argv)
    logs.configure(SETTINGS)
    if args.requests < 2:
        parser.error("--requests must be at least 2 (a percentile needs two values)")
    began = time.perf_counter()
    databases: dict[str, Callable[[], AbstractContextManager[str]]] = {
        "sqlite": lambda: sqlite_database(PREFIX)
    }
    if args.postgres != "off":
        require_postgres(args.postgres)  # before the SQLite half, not minutes later
        databases["postgresql"] = lambda: postgres_schema(args.postgres, PREFIX)
    results: dict[str, DbResult] = {}
    load, fsync = os.getloadavg()[0], fsync_ms(tempfile.gettempdir())
    for db, database in databases.items():
        with database() as url:
            results[db] = measure_database(db, url, args)
    ends = (os.getloadavg()[0], fsync_ms(tempfile.gettempdir()))
    report(results, args, time.perf_counter() - began, (load, ends[0]), (fsync, ends[1]))


if __name__ == "__main__":
    main()
