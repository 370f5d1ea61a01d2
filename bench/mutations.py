"""Mutation checks: deliberate bugs that the tests must catch.

Run as ``python -m bench.mutations [--only NAME …] [--postgres off] [--list] [--timeout SECONDS]``
(with the project's virtual environment's python; ``--only`` takes names or shell patterns such as
``'form:*'``).

Each mutation is a few exact text replacements in named files (or, for the generated form mutations,
one requirement taken out of a form file). It is applied to a throwaway copy of the tree, never to the
tree itself, and only the tests named for it are run there; it is *caught* when at least one of them
fails. A replacement whose ``old`` text is not found (or is found more than once) stops the whole run,
so the list cannot rot silently when the code it breaks is rewritten.

Before any mutation the run checks that the copy's modules are the ones imported (a syntax error put
into the copy must break the collection of its tests) and that every test selection passes unmutated
(a failing selection would make every mutation look caught). The databases are the tests' own: SQLite
and PostgreSQL (``FANGTIAO_TEST_POSTGRES_URL``) unless ``--postgres off``; a mutation only PostgreSQL
can catch (row locks) is then reported as not run.

Prints one row per mutation (its tests, caught or survived, tests failed of those run, seconds, the
first test that failed) and exits with status 1 if any survived, 2 if a run went wrong (a selection
failing unmutated, no test run, a timeout, an ``old`` text not found). Each run's pytest output is kept
in ``bench/results/mutations/``.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "mutations"
FORMS = "forms"
FORM_REQUIREMENTS_TESTS = "tests/orchestration/domain/test_form_requirements.py"
REQUIREMENT_TEST = "test_missing_required_field_is_refused_and_nothing_written"


def requirement_test(requirement: str) -> str:
    """The id of the test of one requirement, on either database (e.g. ``mediate.extension_days[…]``)."""
    return rf"::{REQUIREMENT_TEST}\[\w+-{re.escape(requirement)}\]$"


class MutationError(Exception):
    """A mutation that cannot be applied as written: the code it names has changed."""


@dataclass(frozen=True)
class Replace:
    """Exactly one occurrence of ``old`` in ``path`` becomes ``new``."""

    path: str
    old: str
    new: str

    def apply(self, text: str) -> str:
        count = text.count(self.old)
        if count != 1:
            found = "not found" if count == 0 else f"found {count} times"
            raise MutationError(f"{self.path}: the text to replace is {found}:\n{self.old}")
        return text.replace(self.old, self.new)


@dataclass(frozen=True)
class DropRequirement:
    """A form no longer requires ``field`` (always, or when ``when`` = (other field, value))."""

    form: str
    field: str
    when: tuple[str, str] | None = None

    @property
    def path(self) -> str:
        return f"{FORMS}/{self.form}.json"

    def __str__(self) -> str:
        condition = f"[{self.when[0]}={self.when[1]}]" if self.when else ""
        return f"{self.form}.{self.field}{condition}"

    def apply(self, text: str) -> str:
        document = json.loads(text)
        if self.when is None:
            required = document["schema"].get("required", [])
            if self.field not in required:
                raise MutationError(f"{self.path}: {self.field} is not in schema.required")
            required.remove(self.field)
        else:
            rules = document.get("ui", {}).get("required_when", {})
            other, value = self.when
            values = rules.get(self.field, {}).get(other, [])
            if value not in values:
                raise MutationError(f"{self.path}: ui.required_when has no {self}")
            # the form loader refuses empty conditions, so what becomes empty goes
            values.remove(value)
            if not values:
                del rules[self.field][other]
            if not rules[self.field]:
                del rules[self.field]
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


Edit = Replace | DropRequirement


@dataclass(frozen=True)
class Mutation:
    name: str
    why: str  # what would go wrong in production
    edits: tuple[Edit, ...]
    tests: tuple[str, ...]  # pytest paths or node ids
    keyword: str | None = None  # pytest -k
    postgres_only: bool = False  # only PostgreSQL can catch it (row locks)
    expect: str | None = None  # a test whose id matches this (re.search) must be among those failing

    def meant(self, failed: Sequence[str]) -> list[str]:
        """The failed tests that are the ones meant to catch it (all of them when none is named)."""
        return [t for t in failed if self.expect is None or re.search(self.expect, t)]

    @property
    def selection(self) -> tuple[str, ...]:
        return (*self.tests, *(("-k", self.keyword) if self.keyword else ()))

    def describe_tests(self) -> str:
        names = [re.sub(r"^tests/(orchestration/)?", "", test) for test in self.tests]
        return " ".join(names) + (f" -k '{self.keyword}'" if self.keyword else "")


CALENDAR = "orchestration/domain/calendar.py"
ACCESS = "orchestration/domain/access.py"
RUNTIME = "orchestration/engine/runtime.py"
DERIVED = "orchestration/engine/derived.py"
TIMER_CLAIM = ".with_for_update(of=(Case, Timer), skip_locked=True)"
STEP_LOCK = ".with_for_update(of=(Case, OpenTask))"
CONCURRENT_COMPLETIONS = (
    "tests/orchestration/engine/test_runtime.py::test_concurrent_completions_of_one_task_store_exactly_one"
)

CALENDAR_TESTS = (
    "tests/orchestration/domain/test_calendar.py",
    "tests/orchestration/domain/test_calendar_oracle.py",
)

MUTATIONS: list[Mutation] = [
    Mutation(
        "calendar:rest-day-ignored",
        "a period ending on a rest day is not moved to the next working day",
        (
            Replace(
                CALENDAR,
                "        return _end_of(self._working_on_or_after(day0.toordinal() + n))\n",
                "        return _end_of(date.fromordinal(day0.toordinal() + n))\n",
            ),
        ),
        CALENDAR_TESTS,
    ),
    Mutation(
        "calendar:makeup-workdays-ignored",
        "调休 make-up working days (weekends worked) count as rest days",
        (Replace(CALENDAR, "            elif ordinal in makeup:\n                is_working = True\n", ""),),
        CALENDAR_TESTS,
    ),
    Mutation(
        "access:runtime-org-check",
        "the runtime lets a user complete a task of their role in another organisation",
        (
            Replace(
                RUNTIME,
                "    if actor.role != task.role or actor.org_id != task.org_id:\n",
                "    if actor.role != task.role:\n",
            ),
        ),
        (
            "tests/orchestration/engine/test_runtime.py::test_a_user_of_another_role_or_organisation_may_not_act",
        ),
    ),
    Mutation(
        "access:task-page-org-check",
        "the task page shows a task (and the case's particulars) to its role in another organisation",
        (
            Replace(
                "orchestration/services/tasks.py",
                "            if viewer.role != task.role or viewer.org_id != task.org_id:\n",
                "            if viewer.role != task.role:\n",
            ),
        ),
        (
            "tests/webapp/test_tasks.py::test_someone_elses_task_is_forbidden",
            "tests/webapp/test_access_table.py",
        ),
    ),
    Mutation(
        "access:can-act-on-org-check",
        "pages offer the form of a task to its role in another organisation",
        (Replace(ACCESS, "        and viewer.org_id == task.org_id\n", ""),),
        (
            "tests/orchestration/domain/test_access.py::test_can_act_on_requires_role_org_and_no_other_claimer",
        ),
    ),
    Mutation(
        "access:unreferred-cases-shown",
        "mediation and justice users see a petition before it was referred to mediation (or refused)",
        (
            Replace(
                ACCESS,
                "    if viewer.role in AFTER_REFERRAL_ROLES:\n        clause = and_(clause, _referred())\n",
                "",
            ),
        ),
        ("tests/orchestration/domain/test_access.py",),
    ),
    Mutation(
        "access:masking-disabled",
        "ID and phone numbers are shown in full to everyone",
        (
            Replace(
                ACCESS,
                "            masked[key] = mask_value(key, inner) if hidden else inner\n",
                "            masked[key] = inner\n",
            ),
        ),
        (
            "tests/orchestration/domain/test_access.py",
            "tests/webapp/test_cases.py",
            "tests/webapp/test_api.py",
        ),
        keyword="mask",
    ),
    Mutation(
        "locking:timer-claim-unlocked",
        "two workers take the same case and fire its timers twice",
        (Replace(RUNTIME, TIMER_CLAIM, ""),),
        (
            "tests/orchestration/engine/test_worker.py::test_each_timer_fires_exactly_once_with_four_workers",
            "tests/orchestration/engine/test_worker.py::"
            "test_a_case_locked_by_another_transaction_does_not_hold_up_other_cases_timers",
        ),
        postgres_only=True,
    ),
    Mutation(
        "locking:timer-claim-waits",
        "a worker waits for a case a user holds instead of firing other cases' timers (no SKIP LOCKED)",
        (Replace(RUNTIME, TIMER_CLAIM, ".with_for_update(of=(Case, Timer))"),),
        (
            "tests/orchestration/engine/test_worker.py::"
            "test_a_case_locked_by_another_transaction_does_not_hold_up_other_cases_timers",
        ),
        postgres_only=True,
    ),
    Mutation(
        "locking:completion-unlocked",
        "two users completing one task at once both get through",
        (Replace(RUNTIME, STEP_LOCK, ""),),
        (CONCURRENT_COMPLETIONS,),
        postgres_only=True,
    ),
    Mutation(
        "locking:completion-task-row-unlocked",
        "a completion that waited for the case's lock still sees the task the holder completed or claimed",
        (Replace(RUNTIME, STEP_LOCK, ".with_for_update(of=Case)"),),
        (CONCURRENT_COMPLETIONS,),
        postgres_only=True,
    ),
    Mutation(
        "revision:newer-accepted",
        "a completion naming a revision newer than the case's is stored",
        (
            Replace(
                RUNTIME,
                "expected_revision is not None and expected_revision != case.revision",
                "expected_revision is not None and expected_revision < case.revision",
            ),
        ),
        (
            "tests/orchestration/engine/test_runtime.py",
            "tests/webapp/test_tasks.py",
            "tests/webapp/test_api.py",
        ),
        keyword="stale_revision",
    ),
    Mutation(
        "revision:missing-accepted",
        "a form posted without a readable revision is stored over whatever changed meanwhile",
        (
            Replace(
                RUNTIME, "            if expected_revision == UNKNOWN_REVISION:\n", "            if False:\n"
            ),
        ),
        ("tests/webapp/test_tasks.py", "tests/webapp/test_api.py"),
        keyword="usable_revision",
    ),
    Mutation(
        "form:failure-reasons-optional",
        "a mediation can be reported failed without its reasons (实施意见 六(四))",
        (
            Replace(
                "forms/feedback_failure.json",
                '"required": [\n      "fed_back_on",\n      "failure_reasons",\n',
                '"required": [\n      "fed_back_on",\n',
            ),
        ),
        (FORM_REQUIREMENTS_TESTS, "tests/orchestration/domain/test_forms.py"),
        expect=requirement_test("feedback_failure.failure_reasons"),
    ),
    Mutation(
        "claims:no-candidates",
        "a leader cannot hand a task to anyone",
        (
            Replace(
                "orchestration/read/queries.py",
                'organisation and role."""\n',
                'organisation and role."""\n    return []\n',
            ),
        ),
        (
            "tests/orchestration/services/test_claims.py",
            "tests/webapp/test_tasks.py::test_team_page_offers_exactly_the_tasks_role_in_the_organisation",
        ),
    ),
    Mutation(
        "claims:open-tasks-recreated",
        "every step deletes and re-inserts the case's open-task rows, so claims on tasks still open are lost",
        (
            Replace(
                DERIVED,
                "    gone = before.tasks.keys() - after.tasks.keys()\n",
                "    gone = set(before.tasks)\n",
            ),
            Replace(
                DERIVED,
                "        for task_id, row in after.tasks.items()\n        if task_id not in before.tasks\n",
                "        for task_id, row in after.tasks.items()\n",
            ),
        ),
        ("tests/orchestration/services/test_claims.py",),
    ),
    Mutation(
        "petition-clock:not-paused",
        "mediation time counts toward the petition's own 60 days",
        (Replace("handlers/referral.py", "    ctx.pause_petition_clock()\n", ""),),
        (
            "tests/handlers/test_referral.py",
            "tests/orchestration/engine/test_runtime.py::test_petition_clock_pauses_for_mediation",
            "tests/orchestration/engine/test_worker.py::test_mediation_pauses_the_petition_deadline",
        ),
    ),
    Mutation(
        "petition-clock:pause-not-added",
        "the days paused for mediation are not added to the petition deadline",
        (
            Replace(
                "orchestration/domain/petition_clock.py",
                "    days = HANDLING_DAYS + (EXTENSION_DAYS if extended_at else 0) + paused_days\n",
                "    days = HANDLING_DAYS + (EXTENSION_DAYS if extended_at else 0)\n",
            ),
        ),
        ("tests/orchestration/services/test_scenarios.py",),
        keyword="test_scenario and (07_prior or 17_mediator)",
    ),
    Mutation(
        "timers:fired-twice",
        "a fired timer's row is kept, so it is fired (and audited, and counted) again and again",
        (Replace(DERIVED, "Timer.task_id.in_(gone)", "Timer.task_id.in_(set())"),),
        ("tests/orchestration/engine/test_worker.py::test_a_fired_timer_is_due_no_more",),
    ),
]


def form_requirements(root: Path) -> list[DropRequirement]:
    """Every required and conditionally required field of every form, read from the files. A checkbox
    that must be ticked ("const": true) is left out: the form loader refuses it unless it is required, so
    dropping its requirement breaks the form file, not the check of what a user submits."""
    found = []
    for path in sorted((root / FORMS).glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8-sig"))
        properties = document["schema"].get("properties", {})
        found += [
            DropRequirement(path.stem, name)
            for name in document["schema"].get("required", [])
            if properties.get(name, {}).get("const") is not True
        ]
        for name, conditions in document.get("ui", {}).get("required_when", {}).items():
            found += [
                DropRequirement(path.stem, name, (other, value))
                for other, values in conditions.items()
                for value in values
            ]
    return found


def all_mutations(root: Path) -> list[Mutation]:
    generated = [
        Mutation(
            f"form:{requirement}",
            f"the form {requirement.form} no longer requires {requirement.field}",
            (requirement,),
            (FORM_REQUIREMENTS_TESTS,),
            expect=requirement_test(str(requirement)),
        )
        for requirement in form_requirements(root)
    ]
    mutations = [*MUTATIONS, *generated]
    names = [m.name for m in mutations]
    assert len(set(names)) == len(names), "mutation names must be unique"
    return mutations


# ---- the copy -------------------------------------------------------------------------------------


def copy_tree(destination: Path) -> None:
    """The files git would see (tracked, and new ones not ignored), as they are now in the tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the tree is left out, as in the tree
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


@dataclass
class Copy:
    root: Path
    postgres: bool
    timeout: float
    originals: dict[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(self.root)
        # No bytecode: a file restored within the same second and at the same size as its mutant could
        # otherwise be run from the mutant's cached bytecode.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if not self.postgres:
            env["FANGTIAO_TEST_POSTGRES"] = "off"
        return env

    def apply(self, edits: Sequence[Edit]) -> None:
        for edit in edits:
            path = self.root / edit.path
            text = path.read_text(encoding="utf-8")
            self.originals.setdefault(edit.path, text)
            mutated = edit.apply(text)
            if mutated == text:
                raise MutationError(f"{edit.path}: the edit changes nothing")
            path.write_text(mutated, encoding="utf-8")

    def restore(self) -> None:
        for name, text in self.originals.items():
            (self.root / name).write_text(text, encoding="utf-8")
        self.originals.clear()

    def pytest(self, selection: Sequence[str], log: Path) -> Run:
        report = log.with_suffix(".xml")
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
            *selection,
        ]
        started = time.monotonic()
        with log.open("w", encoding="utf-8") as output:
            process = subprocess.Popen(
                command,
                cwd=self.root,
                env=self.environment(),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its worker processes are ended with it on a timeout
            )
            code: int | None = None
            try:
                code = process.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                pass
            finally:
                # on a timeout or an interrupt, and any worker process left behind
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        seconds = time.monotonic() - started
        if code is None:
            return Run(None, [], 0, 0, seconds)
        failed, run, skipped = read_report(report) if report.exists() else ([], 0, 0)
        return Run(code, failed, run, skipped, seconds)


@dataclass(frozen=True)
class Run:
    code: int | None  # None: timed out
    failed: list[str]  # test ids that failed or errored
    run: int  # tests run (not skipped)
    skipped: int
    seconds: float


def read_report(path: Path) -> tuple[list[str], int, int]:
    failed, run, skipped = [], 0, 0
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        if case.find("skipped") is not None:
            skipped += 1
            continue
        run += 1
        if case.find("failure") is not None or case.find("error") is not None:
            # a module that cannot be collected is reported as an errored test named after the module
            module = (case.get("classname") or "").rsplit(".", 1)[-1]
            failed.append(f"{module}::{case.get('name')}" if module else str(case.get("name")))
    return failed, run, skipped


# ---- the run --------------------------------------------------------------------------------------

CANARY = Replace(RUNTIME, "\nclass Runtime:\n", "\nclass Runtime(:\n")


def check_isolation(copy: Copy) -> None:
    """The copy's modules, not the tree's (nor the editable install's), are the ones the tests import:
    a syntax error put into the copy must break the collection of the tests there."""
    copy.apply([CANARY])
    try:
        log = RESULTS / "_isolation.log"
        run = copy.pytest(["--collect-only", "tests/orchestration/engine/test_runtime.py"], log)
    finally:
        copy.restore()
    output = log.read_text(encoding="utf-8")
    if run.code in (None, 0) or "SyntaxError" not in output or str(copy.root / RUNTIME) not in output:
        raise SystemExit(f"the tests in the copy did not import the copy's modules; see {log}")


@dataclass(frozen=True)
class Outcome:
    mutation: Mutation
    result: str  # caught, survived, not run, or what went wrong
    run: Run | None = None

    @property
    def survived(self) -> bool:
        return self.result in ("survived", "caught elsewhere")

    @property
    def broken(self) -> bool:
        return not self.survived and self.result not in ("caught", "not run")

    def first_failure(self) -> str:
        if self.run is None or not self.run.failed:
            return ""
        return (self.mutation.meant(self.run.failed) or self.run.failed)[0]


def log_path(name: str) -> Path:
    return RESULTS / (re.sub(r"[^\w.=-]+", "_", name) + ".log")


def baseline(copy: Copy, mutations: Sequence[Mutation]) -> None:
    """Every test selection passes on the copy before it is mutated."""
    selections = list(dict.fromkeys(m.selection for m in mutations))
    for number, selection in enumerate(selections, 1):
        log = RESULTS / f"_baseline_{number}.log"
        run = copy.pytest(selection, log)
        print(f"unmutated {number}/{len(selections)}: {run.run} tests, {run.seconds:.0f} s", flush=True)
        if run.code != 0 or run.run == 0:
            what = "timed out" if run.code is None else "do not pass"
            raise SystemExit(f"the tests {' '.join(selection)} {what} unmutated; see {log}")


def check(copy: Copy, mutation: Mutation) -> Outcome:
    if mutation.postgres_only and not copy.postgres:
        return Outcome(mutation, "not run")
    copy.apply(mutation.edits)
    try:
        run = copy.pytest(mutation.selection, log_path(mutation.name))
    finally:
        copy.restore()
    if run.code is None:
        result = "timeout"
    elif run.failed:
        result = "caught" if mutation.meant(run.failed) else "caught elsewhere"
    elif run.code == 0 and run.run > 0:
        result = "survived"
    else:
        result = f"pytest exit {run.code}, {run.run} run"
    return Outcome(mutation, result, run)


def table(outcomes: Sequence[Outcome]) -> str:
    header = ("mutation", "tests", "result", "failed/run", "s", "first failure")
    rows = [header]
    for o in outcomes:
        run = o.run
        rows.append(
            (
                o.mutation.name,
                o.mutation.describe_tests(),
                o.result,
                f"{len(run.failed)}/{run.run}" if run else "",
                f"{run.seconds:.1f}" if run else "",
                o.first_failure(),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    )


def select(mutations: Sequence[Mutation], patterns: Sequence[str] | None) -> list[Mutation]:
    if not patterns:
        return list(mutations)
    chosen = [m for m in mutations if any(fnmatch.fnmatchcase(m.name, p) for p in patterns)]
    if not chosen:
        raise SystemExit(f"no mutation matches {', '.join(patterns)} (--list shows them)")
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mutations", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME", help="a name or shell pattern; repeatable")
    parser.add_argument("--postgres", choices=["on", "off"], default="on", help="run the PostgreSQL half")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per pytest run")
    parser.add_argument("--list", action="store_true", help="list the mutations and their tests, run nothing")
    args = parser.parse_args(argv)

    mutations = select(all_mutations(ROOT), args.only)
    if args.list:
        for m in mutations:
            print(f"{m.name}\n    {m.why}\n    {m.describe_tests()}")
        return 0

    started = time.monotonic()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fangtiao-mutations-") as directory:
        copy = Copy(Path(directory), postgres=args.postgres == "on", timeout=args.timeout)
        copy_tree(copy.root)
        # every edit is tried once before anything runs, so a stale one fails the run at once
        for m in mutations:
            copy.apply(m.edits)
            copy.restore()
        check_isolation(copy)
        runnable = [m for m in mutations if copy.postgres or not m.postgres_only]
        baseline(copy, runnable)
        outcomes = []
        for number, mutation in enumerate(mutations, 1):
            outcome = check(copy, mutation)
            outcomes.append(outcome)
            seconds = f", {outcome.run.seconds:.0f} s" if outcome.run else ""
            print(f"{number}/{len(mutations)} {mutation.name}: {outcome.result}{seconds}", flush=True)

    print()
    print(table(outcomes))
    survived = [o for o in outcomes if o.survived]
    broken = [o for o in outcomes if o.broken]
    not_run = [o for o in outcomes if o.result == "not run"]
    caught = len(outcomes) - len(survived) - len(broken) - len(not_run)
    skipped = f", {len(not_run)} not run (they need PostgreSQL)" if not_run else ""
    print(
        f"\n{caught} caught, {len(survived)} survived, {len(broken)} went wrong{skipped} of {len(outcomes)}; "
        f"{time.monotonic() - started:.0f} s in all; logs in {RESULTS}"
    )
    return 2 if broken else 1 if survived else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except MutationError as exc:
        print(f"mutation list out of date: {exc}", file=sys.stderr)
        sys.exit(2)
