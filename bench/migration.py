"""How long migrating running cases to a new version of the procedure takes: 10,000 cases, each moved in
its own locked transaction, with the engine-alone floor measured in the same run.

Run as ``python -m bench.migration [--cases 10000] [--postgres URL|off] [--floor-sample 2000]``.

1. populate (not measured): one real case per township goes down the success path through the runtime and
   is captured at every open step (bench/http.py's templates); the captures are cloned in bulk into
   ``--cases`` running cases spread over the open steps as bench/http.py spreads the open ones (a fifth
   of them in mediation), each with its own state, task UUIDs, case number and rows;
2. version 2 is deployed from a draft's files: the mediation deadline of 10 days instead of 15 (the
   change issue 9's browser test makes), so every case in mediation has two timers to recompute;
3. the preview (``RepositoryService.migration_preview``): every case decoded and migrated on a copy;
4. the migration (``RepositoryService.migrate``): every case locked, decoded, diffed, migrated with
   SpiffWorkflow's ``migrate_workflow``, its engine steps run, its state, open tasks and timers written
   and audited, one transaction each; the time of each ``Runtime.migrate_case`` is taken too;
5. the floor, in memory on the same cases' states: decode onto the cached spec, the case's
   ``WorkflowDiff`` over the pair's ``SpecDiff``, ``migrate_workflow``, engine steps, encode: what the
   engine costs whatever the database; and, on a smaller sample, the library's ``diff_workflow``, which
   compares the two specs again for every case.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from SpiffWorkflow.bpmn.util.diff import diff_workflow
from sqlalchemy import Engine, func, select

from bench.databases import (
    DEFAULT_POSTGRES,
    bench_settings,
    postgres_schema,
    require_postgres,
    sqlite_database,
)
from bench.http import (
    CASE_TABLES,
    DONE,
    MIX,
    STOPS,
    TOWNSHIPS,
    analyze,
    build_runtime,
    build_templates,
    write_clones,
)
from orchestration import logs
from orchestration.domain.access import Viewer
from orchestration.domain.calendar import SHANGHAI
from orchestration.domain.procedure import read_directories
from orchestration.engine.compat import engine_clock
from orchestration.engine.runtime import Runtime
from orchestration.engine.script_engine import FangtiaoScriptEngine
from orchestration.services.repository import RepositoryService
from orchestration.store.models import Case, OpenTask, User

PREFIX = "bench_migration"
SETTINGS = bench_settings()
POLICY = "policy"
MEDIATION_DEADLINE = 'deadline_days(acceptance["accepted_at"], 15 + acceptance["extension_days"])'
TEN_DAYS = 'deadline_days(acceptance["accepted_at"], 10 + acceptance["extension_days"])'
# the open steps of bench/http.py's mix, as shares of the running cases
RUNNING = {stop: share for stop, share in MIX.items() if stop != DONE}


def plan(cases: int) -> list[tuple[str, str]]:
    """(township, step) of each clone: the steps in bench/http.py's proportions, townships interleaved."""
    total = sum(RUNNING.values())
    counts = {stop: round(cases * share / total) for stop, share in RUNNING.items()}
    counts["screen_case"] += cases - sum(counts.values())
    result = []
    for stop in STOPS:
        for index in range(counts.get(stop, 0)):
            result.append((TOWNSHIPS[index % len(TOWNSHIPS)], stop))
    return result


def populate(url: str, cases: int) -> tuple[Engine, Runtime, float]:
    began = time.perf_counter()
    engine, runtime = build_runtime(url)
    templates, real = build_templates(engine, runtime)
    with engine.begin() as conn:  # the clones take their place (and their case numbers)
        for table in reversed(CASE_TABLES):
            conn.execute(table.delete().where(table.c.case_id.in_(real)))
        conn.execute(Case.__table__.delete().where(Case.id.in_(real)))
    write_clones(engine, templates, plan(cases))
    analyze(engine)
    return engine, runtime, time.perf_counter() - began


def policy_officer(runtime: Runtime) -> Viewer:
    with runtime.sessions() as session:
        user = session.scalar(select(User).where(User.username == POLICY))
        assert user is not None
        return Viewer.of(user)


def deploy_ten_days(repository: RepositoryService, policy: Viewer) -> int:
    files = read_directories(SETTINGS.processes_dir, SETTINGS.forms_dir)
    files["referral.bpmn"] = files["referral.bpmn"].replace(MEDIATION_DEADLINE, TEN_DAYS)
    draft = repository.create_draft(policy, 1)
    repository.save_draft(policy, draft.id, files, draft.revision)
    return repository.deploy(policy, draft.id).id


@dataclass
class Figures:
    database: str
    cases: int
    populate_s: float
    preview_s: float
    movable: int
    migrate_s: float
    moved: int
    per_case_ms: list[float]
    floor_ms: list[float]
    diff_workflow_ms: list[float]
    mediation_due: tuple[str, str]  # a case in mediation: (before, after)


@contextmanager
def timed_migrations(runtime: Runtime) -> Iterator[list[float]]:
    """Wraps Runtime.migrate_case to collect the time of each call, in ms."""
    times: list[float] = []
    original = runtime.migrate_case

    def measured(*args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            times.append((time.perf_counter() - started) * 1000)

    runtime.migrate_case = measured  # type: ignore[method-assign]
    try:
        yield times
    finally:
        del runtime.migrate_case


def floor(runtime: Runtime, target_id: int, sample: int) -> tuple[list[float], list[float]]:
    """The engine alone on `sample` cases' stored states: (our path per case, diff_workflow per case)."""
    with runtime.sessions() as session:
        cases = list(
            session.scalars(select(Case).where(Case.status == "running").order_by(Case.id).limit(sample))
        )
        migration = runtime.migration(session, 1, target_id)
        engine = FangtiaoScriptEngine(runtime.calendar(session), _no_services)
    source, target = migration.source, migration.target
    states = [case.state for case in cases]
    ours = []
    with engine_clock(runtime.clock):
        for state in states:
            started = time.perf_counter()
            workflow = runtime.codec.load(state, source.spec, source.subprocess_specs)
            workflow.script_engine = engine
            if migration.verdict(workflow).movable:
                migration.apply(workflow)
                workflow.refresh_timers()
                workflow.do_engine_steps()
            runtime.codec.dump(workflow)
            ours.append((time.perf_counter() - started) * 1000)
        library = []
        for state in states[: max(1, sample // 10)]:
            workflow = runtime.codec.load(state, source.spec, source.subprocess_specs)
            started = time.perf_counter()
            diff_workflow(runtime.codec.registry, workflow, target.spec, target.subprocess_specs)
            library.append((time.perf_counter() - started) * 1000)
    return ours, library


def _no_services(task: object) -> object:
    raise AssertionError("no service task runs while a case is migrated in memory")


def mediation_due(runtime: Runtime, case_id: int) -> str:
    with runtime.sessions() as session:
        due = session.scalar(
            select(OpenTask.due_at).where(OpenTask.case_id == case_id, OpenTask.task_name == "mediate")
        )
    return due.astimezone(SHANGHAI).isoformat() if due else "-"


def measure(database: str, url: str, cases: int, floor_sample: int) -> Figures:
    engine, runtime, populate_s = populate(url, cases)
    try:
        repository = RepositoryService(runtime)
        policy = policy_officer(runtime)
        target_id = deploy_ten_days(repository, policy)
        with runtime.sessions() as session:
            mediating = session.scalar(
                select(OpenTask.case_id)
                .where(OpenTask.task_name == "mediate")
                .order_by(OpenTask.case_id)
                .limit(1)
            )
            assert mediating is not None
        due_before = mediation_due(runtime, mediating)

        started = time.perf_counter()
        moves = repository.migration_preview(policy, 1, target_id)
        preview_s = time.perf_counter() - started
        movable = [m.case_no for m in moves if m.movable]

        with timed_migrations(runtime) as per_case:
            started = time.perf_counter()
            report = repository.migrate(policy, 1, target_id, movable)
            migrate_s = time.perf_counter() - started
        with runtime.sessions() as session:
            on_target = session.scalar(
                select(func.count()).select_from(Case).where(Case.version_id == target_id)
            )
        if on_target != len(report.moved):
            raise AssertionError(f"{len(report.moved)} reported moved, {on_target} on the new version")
        ours, library = floor(runtime, target_id, floor_sample)
        return Figures(
            database,
            len(moves),
            populate_s,
            preview_s,
            len(movable),
            migrate_s,
            len(report.moved),
            list(per_case),
            ours,
            library,
            (due_before, mediation_due(runtime, mediating)),
        )
    finally:
        engine.dispose()


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):.2f} ms, p95 {p95:.2f} ms (n={len(ordered)})"


def report(figures: Figures) -> None:
    print(
        f"\n== {figures.database}: {figures.cases:,} running cases (populated in {figures.populate_s:.1f} s)"
    )
    print(
        f"preview:  {figures.preview_s:.1f} s, {figures.preview_s / figures.cases * 1000:.2f} ms per case; "
        f"{figures.movable:,} movable"
    )
    per_case = figures.migrate_s / max(1, figures.moved) * 1000
    print(f"migrate:  {figures.migrate_s:.1f} s in all, {per_case:.2f} ms per case; {figures.moved:,} moved")
    print(f"          each Runtime.migrate_case: {_ms(figures.per_case_ms)}")
    print(
        f"floor:    engine alone (decode, WorkflowDiff, migrate_workflow, engine steps, encode): "
        f"{_ms(figures.floor_ms)}"
    )
    print(f"          diff_workflow per case (compares the two specs again): {_ms(figures.diff_workflow_ms)}")
    print(f"a case in mediation: deadline {figures.mediation_due[0]} -> {figures.mediation_due[1]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.migration", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="running cases; default %(default)s")
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        metavar="URL",
        help="PostgreSQL server (a schema is created in it and dropped); 'off' to skip; default %(default)s",
    )
    parser.add_argument(
        "--floor-sample", type=int, default=2000, help="cases the engine-alone floor is measured on"
    )
    args = parser.parse_args(argv)
    logs.configure(SETTINGS)
    databases: dict[str, Callable[[], AbstractContextManager[str]]] = {
        "sqlite": lambda: sqlite_database(PREFIX)
    }
    if args.postgres != "off":
        require_postgres(args.postgres)
        databases["postgresql"] = lambda: postgres_schema(args.postgres, PREFIX)
    for name, database in databases.items():
        with database() as url:
            report(measure(name, url, args.cases, args.floor_sample))


if __name__ == "__main__":
    main()
