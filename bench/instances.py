"""How fast the administrators' instance list answers with 100,000 cases: p50/p95 of one page (50 rows,
with the counts per status the page shows at its top) for several filters, on SQLite and PostgreSQL.

Run as ``python -m bench.instances [--cases 100000] [--repeat 20] [--postgres URL|off] [--sqlite off]``.

Data: one case is taken through the runtime to ``review_referral`` and cloned (bench/timers.py's
template and COPY/executemany loader) into ``--cases`` cases; the clones are then spread out: registered
over a year, in every township of the demo network, 30% completed and 1% terminated (their open task and
timer removed), 1% suspended, 5% waiting on a timer only (open task removed), 0.1% with an incident, 10%
with their task overdue, 10% on a second version (their state is the first version's: the list never
decodes it). What is timed is the service call the page makes (InstanceService.search), the
list query, the rows' details and the counts, each in its own read session.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select, text, update

from bench.databases import DEFAULT_POSTGRES, postgres_schema, require_postgres, sqlite_database
from bench.timers import SETTINGS, TEMPLATE_START, capture_template, vacuum, write_clones
from orchestration import logs
from orchestration.domain.access import Viewer
from orchestration.domain.procedure import read_directories
from orchestration.engine.clock import FrozenClock
from orchestration.read.instances import InstanceFilter
from orchestration.services import Services, demo
from orchestration.store import migrate
from orchestration.store.db import make_engine
from orchestration.store.models import Case, Incident, OpenTask, Region, Timer, User
from tests.helpers import advance_to, start
from tests.orchestration.services.procedure_edits import ten_day_mediation

NOW = TEMPLATE_START + timedelta(days=1)


def load(url: str, count: int) -> tuple[Services, float]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    services = Services(engine, FrozenClock(NOW), SETTINGS.processes_dir, SETTINGS.forms_dir)
    runtime = services.runtime
    with runtime.sessions() as session, session.begin():
        demo.seed(session)
    runtime.deploy()
    template_id = start(runtime)
    advance_to(runtime, template_id, "review_referral")
    template = capture_template(engine, template_id)
    with engine.begin() as conn:
        conn.execute(delete(Case.__table__).where(Case.id == template_id))
    began = time.perf_counter()
    dues = [NOW + timedelta(days=3 + (i % 300)) for i in range(count)]
    write_clones(engine, template, template_id + 1, dues)
    # a second version, so that the version filter selects some cases and not others
    second, _ = runtime.deploy_files(
        ten_day_mediation(read_directories(runtime.processes_dir, runtime.forms_dir))
    )
    spread(services, template_id + 1, count, second.id)
    vacuum(engine)
    return services, time.perf_counter() - began


def spread(services: Services, first: int, count: int, second_version: int) -> None:
    """Varied registrations, places, statuses and deadlines over the clones (see the module's text)."""
    rng = random.Random(7)
    engine = services.engine
    with engine.connect() as conn:
        townships = list(conn.scalars(select(Region.code).where(Region.level == "township")))
    rows, gone, waiting, overdue, incidents = [], [], [], [], []
    for case_id in range(first, first + count):
        created = NOW - timedelta(days=365 * rng.random())
        roll = rng.random()
        status, task_open = "running", True
        if roll < 0.30:
            status, ended, task_open = "completed", created + timedelta(days=20), False
            gone.append(case_id)
        elif roll < 0.31:
            status, ended, task_open = "terminated", created + timedelta(days=5), False
            gone.append(case_id)
        elif roll < 0.32:
            status = "suspended"
        elif roll < 0.37:
            waiting.append(case_id)
            task_open = False
        elif roll < 0.47:
            overdue.append(case_id)
        if rng.random() < 0.001:
            incidents.append(case_id)
        updated = min(NOW, created + timedelta(hours=240 * rng.random()))
        rows.append(
            {
                "b_id": case_id,
                "status": status,
                "locality_code": rng.choice(townships),
                "created_at": created,
                "updated_at": updated,
                "completed_at": ended if status in ("completed", "terminated") else None,
                "task_open": task_open,
                "version_id": second_version if rng.random() < 0.1 else second_version - 1,
            }
        )
    with engine.begin() as conn:
        conn.execute(
            update(Case.__table__).where(Case.__table__.c.id == bindparam("b_id")),
            rows,
        )
        for chunk in range(0, len(gone), 5000):
            part = gone[chunk : chunk + 5000]
            conn.execute(delete(OpenTask.__table__).where(OpenTask.__table__.c.case_id.in_(part)))
            conn.execute(delete(Timer.__table__).where(Timer.__table__.c.case_id.in_(part)))
        for chunk in range(0, len(waiting), 5000):
            part = waiting[chunk : chunk + 5000]
            conn.execute(delete(OpenTask.__table__).where(OpenTask.__table__.c.case_id.in_(part)))
        for chunk in range(0, len(overdue), 5000):
            part = overdue[chunk : chunk + 5000]
            conn.execute(
                update(OpenTask.__table__)
                .where(OpenTask.__table__.c.case_id.in_(part))
                .values(due_at=NOW - timedelta(days=2))
            )
        if incidents:
            conn.execute(
                insert(Incident.__table__),
                [
                    {"case_id": i, "kind": "timer", "message": "bench", "created_at": NOW, "attempts": 5}
                    for i in incidents
                ],
            )
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE cases, open_tasks, timers, incidents"))


def admin(services: Services) -> Viewer:
    with services.runtime.sessions() as session:
        user = session.scalar(select(User).where(User.username == "admin"))
        assert user is not None
        return Viewer.of(user)


def scenarios(services: Services, viewer: Viewer) -> list[tuple[str, InstanceFilter]]:
    middle = services.instances.search(viewer, InstanceFilter(sort="case_no", descending=False, per_page=200))
    # a cursor deep in the list: the 50,000th case number
    with services.runtime.sessions() as session:
        deep = session.scalar(select(Case.case_no).order_by(Case.case_no).offset(50_000).limit(1))
        deep_id = session.scalar(select(Case.id).where(Case.case_no == deep)) if deep else None
    cursor = f"{deep_id}~{deep}" if deep else middle.next_cursor
    month = NOW.date() - timedelta(days=60)
    return [
        ("no filter, latest first", InstanceFilter()),
        ("status running", InstanceFilter(status="running")),
        ("status suspended", InstanceFilter(status="suspended")),
        ("status waiting on a timer", InstanceFilter(status="timer")),
        ("status with an incident", InstanceFilter(status="incident")),
        ("status completed", InstanceFilter(status="completed")),
        ("county 城关区 with subtree", InstanceFilter(org="540102")),
        ("one township", InstanceFilter(org="540102001")),
        ("step review_referral", InstanceFilter(step="review_referral")),
        ("overdue", InstanceFilter(overdue=True)),
        ("registered in one month", InstanceFilter(since=month, until=month + timedelta(days=30))),
        ("case number fragment", InstanceFilter(case_no="B00123")),
        ("case number start", InstanceFilter(case_no="FT2026-B00123")),
        ("version 1 (90%)", InstanceFilter(process_id="fangtiao_referral", version=1)),
        ("version 2 (10%)", InstanceFilter(process_id="fangtiao_referral", version=2)),
        ("by case number, page at 50,000", InstanceFilter(sort="case_no", descending=False, after=cursor)),
        ("oldest first, page after 1st", InstanceFilter(sort="created_at", descending=False, after=None)),
    ]


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(label: str, services: Services, repeat: int) -> list[str]:
    viewer = admin(services)
    lines = []
    for name, filters in scenarios(services, viewer):
        services.instances.search(viewer, filters)  # warm: the spec cache, the plan cache
        timings = []
        rows = 0
        for _ in range(repeat):
            began = time.perf_counter()
            page = services.instances.search(viewer, filters)
            timings.append((time.perf_counter() - began) * 1000)
            rows = len(page.rows)
        lines.append(
            f"{label:<10} {name:<34} rows {rows:>3}  p50 {statistics.median(timings):7.1f} ms"
            f"  p95 {percentile(timings, 0.95):7.1f} ms"
        )
        print(lines[-1], flush=True)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instances", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20, help="timed calls per filter")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server URL, or 'off'")
    parser.add_argument("--sqlite", default="on", choices=["on", "off"])
    args = parser.parse_args(argv)
    logs.configure(SETTINGS)
    if args.postgres != "off":
        require_postgres(args.postgres)
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    print(f"instance list, {args.cases:,} cases, {args.repeat} calls per filter, {when}")
    if args.sqlite == "on":
        with sqlite_database("instances") as url:
            services, seconds = load(url, args.cases)
            print(f"SQLite loaded in {seconds:.0f} s", flush=True)
            measure("SQLite", services, args.repeat)
            services.close()
    if args.postgres != "off":
        with postgres_schema(args.postgres, "bench_instances") as url:
            services, seconds = load(url, args.cases)
            print(f"PostgreSQL loaded in {seconds:.0f} s", flush=True)
            measure("PostgreSQL", services, args.repeat)
            services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
