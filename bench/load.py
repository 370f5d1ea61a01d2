"""Load: N concurrent simulated users drive whole cases through a real server, on PostgreSQL and on SQLite.

Run as ``python -m bench.load [--users 8] [--seconds 60] [--workers 4] [--threads 2] [--timer-workers 2]
[--postgres URL|off] [--sqlite on|off] [--floor-cases 40]``. For each database (a PostgreSQL schema of its
own, created and dropped here; the embedded SQLite default in a temporary folder):

1. the database is migrated, seeded with the demo network and the procedure deployed (``fangtiao``);
   integration tokens are made for the clerk, leader and mediator of two townships;
2. gunicorn serves ``webapp.wsgi:app`` (--workers processes × --threads threads, gthread), and
   --timer-workers ``fangtiao worker`` processes poll for due timers beside it, as in production;
3. --users threads, each a user of one of the two townships in turn, drive whole cases for --seconds
   through /api/v1 with an ``http.client`` connection each: register (POST /cases), then for each of the
   nine steps of the success path the step's user lists the case's tasks (GET /tasks?case_no=…) and
   completes the task (POST /tasks/…/complete, with an Idempotency-Key and the revision read);
4. throughput, p50/p95/p99/max and errors per request kind are printed; any status but the expected
   one is an error (there are no expected conflicts: each user drives its own cases);
5. the runtime-only floor of the same run: SpiffWorkflow in memory on the same procedure (bench/referral's
   engine alone, one thread), what a completion costs without HTTP and without a database.

Dates in the forms' data are today's (the server runs on the real clock), so no timer comes due.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.databases import DEFAULT_POSTGRES, postgres_schema, require_postgres, sqlite_database
from bench.referral import START, InProcess, RuntimeBench, build_runtime, handler_results, run_engine_alone
from orchestration.domain.calendar import SHANGHAI
from orchestration.engine.clock import FrozenClock
from orchestration.engine.compat import engine_clock
from orchestration.services import Services
from orchestration.settings import Settings
from tests.helpers import FILE_FIELDS, REGISTRATION, SUCCESS_PATH

PREFIX = "bench_load"
KINDS = ("register", "list", "complete")
SCAN = base64.b64encode(b"%PDF-1.4 load bench").decode()
# Two townships, each with its own petition office, mediation committee and users (the demo network).
TOWNSHIPS = [
    {"locality": "540102001", "committee": "540102001-tw", "clerk": "clerk", "leader": "leader",
     "mediator": "mediator"},
    {"locality": "540103001", "committee": "540103001-tw", "clerk": "clerk2", "leader": "leader2",
     "mediator": "mediator2"},
]  # fmt: skip
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ---- the database and the processes ---------------------------------------------------------------


def fangtiao(url: str, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "orchestration.tools.cli", "--database", url, *args],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def prepare(url: str) -> dict[str, str]:
    """Migrated, seeded and deployed; a token per user the simulated users act as."""
    for command in ("migrate", "seed-demo", "deploy"):
        fangtiao(url, command)
    services = Services.open(Settings.from_env(), url)
    try:
        admin = services.users.viewer("admin")
        assert admin is not None
        usernames = {"admin", *(t[role] for t in TOWNSHIPS for role in ("clerk", "leader", "mediator"))}
        return {u: services.api_tokens.create(admin, u, f"load {u}", 1).secret for u in sorted(usernames)}
    finally:
        services.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running(url: str, args: argparse.Namespace, log: Path) -> Iterator[int]:
    """gunicorn and the timer workers on the database, stopped (SIGTERM) afterwards."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="fangtiao-load-instance-") as instance:
        env = dict(os.environ)
        env.update(
            FANGTIAO_DATABASE_URL=url,
            FANGTIAO_INSTANCE_PATH=instance,
            FANGTIAO_SECRET_KEY=uuid.uuid4().hex,
            FANGTIAO_LOG_LEVEL="WARNING",
        )
        commands = [
            [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--worker-class", "gthread",
             "--threads", str(args.threads), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
             "webapp.wsgi:app"],
        ] + [
            [sys.executable, "-m", "orchestration.tools.cli", "worker"] for _ in range(args.timer_workers)
        ]  # fmt: skip
        with log.open("ab") as out:
            processes = [subprocess.Popen(c, env=env, stdout=out, stderr=out) for c in commands]
        try:
            wait_until_up(port, processes[0])
            yield port
        finally:
            for p in processes:
                p.send_signal(signal.SIGTERM)
            for p in processes:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()


def wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited before it answered; see the log")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/api/v1/openapi.json")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 60 s")


# ---- the simulated users ------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    ms: float
    ok: bool


@dataclass
class Tally:
    samples: list[Sample] = field(default_factory=list)
    cases: int = 0
    case_seconds: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def today_data(data: dict[str, Any], today: str) -> dict[str, Any]:
    return {k: today if isinstance(v, str) and DATE.match(v) else v for k, v in data.items()}


class User:
    """One simulated person at a keyboard: a connection of their own, whole cases one after another."""

    def __init__(self, port: int, tokens: dict[str, str], township: dict[str, str], tally: Tally) -> None:
        self.port = port
        self.tokens = tokens
        self.township = township
        self.tally = tally
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, kind: str, username: str, method: str, path: str, body: Any, expected: int) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[username]}"}
        payload = None
        if body is not None:
            payload = json.dumps(body, ensure_ascii=False).encode()
            headers |= {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
        began = time.perf_counter()
        try:
            self.connection.request(method, f"/api/v1{path}", payload, headers)
            response = self.connection.getresponse()
            raw = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            raw, status = str(exc).encode(), 0
        ms = (time.perf_counter() - began) * 1000
        ok = status == expected
        with self.tally.lock:
            self.tally.samples.append(Sample(kind, ms, ok))
            if not ok and len(self.tally.problems) < 20:
                self.tally.problems.append(f"{kind} {path} → {status}: {raw[:200].decode(errors='replace')}")
        if not ok:
            raise CaseFailed()
        return json.loads(raw)

    def one_case(self) -> None:
        today = datetime.now(SHANGHAI).date().isoformat()
        t = self.township
        # Parties of their own: the same parties' earlier mediated case would make the case unsuitable.
        parties = {"petitioner_name": unique_name("张"), "respondent_name": unique_name("李")}
        registration = today_data({**REGISTRATION, **parties, "locality": t["locality"]}, today)
        began = time.perf_counter()
        created = self.call("register", t["clerk"], "POST", "/cases", {"data": registration}, 201)
        case_no = created["case_no"]
        for name, role_user, data in SUCCESS_PATH:
            username = t[{"clerk": "clerk", "leader": "leader", "mediator": "mediator"}[role_user]]
            step = today_data(data, today)
            if name == "draft_referral":
                step["mediation_org"] = t["committee"]
            listing = self.call("list", username, "GET", f"/tasks?case_no={case_no}", None, 200)
            found = [x for x in listing["tasks"] if x["task_name"] == name]
            if len(found) != 1:
                with self.tally.lock:
                    self.tally.problems.append(f"{case_no}: no open task {name} for {username}")
                raise CaseFailed()
            task = found[0]
            # a file field takes only files uploaded for the case: each named file goes up with its step
            files = {
                field: [{"filename": name, "content_base64": SCAN} for name in step.pop(field)]
                for field in FILE_FIELDS & step.keys()
            }
            self.call(
                "complete",
                username,
                "POST",
                f"/tasks/{task['id']}/complete",
                {"data": step, "expected_revision": task["revision"], "files": files},
                200,
            )
        with self.tally.lock:
            self.tally.cases += 1
            self.tally.case_seconds.append(time.perf_counter() - began)

    def run(self, until: float) -> None:
        while time.monotonic() < until:
            try:
                self.one_case()
            except CaseFailed:
                continue


class CaseFailed(Exception):
    pass


NAME_CHARACTERS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅玉兰春燕海波志宏文斌晓东"
_names = iter(range(10**9))
_names_lock = threading.Lock()


def unique_name(surname: str) -> str:
    with _names_lock:
        number = next(_names)
    given = ""
    while True:
        number, digit = divmod(number, len(NAME_CHARACTERS))
        given += NAME_CHARACTERS[digit]
        if number == 0:
            break
    return surname + given


def drive(port: int, tokens: dict[str, str], users: int, seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    simulated = [User(port, tokens, TOWNSHIPS[i % len(TOWNSHIPS)], tally) for i in range(users)]
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=u.run, args=(until,)) for u in simulated]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.perf_counter() - began


def completed_cases(port: int, admin_token: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(
        "GET", "/api/v1/admin/instances?status=completed", headers={"Authorization": f"Bearer {admin_token}"}
    )
    total: int = json.loads(connection.getresponse().read())["total"]
    return total


# ---- figures --------------------------------------------------------------------------------------------


def percentiles(values: list[float]) -> tuple[float, float, float, float]:
    if len(values) < 2:
        value = values[0] if values else float("nan")
        return value, value, value, value
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98], max(values)


def report(label: str, tally: Tally, elapsed: float, completed: int, server_errors: int) -> dict[str, Any]:
    print(
        f"\n== {label}: {len(tally.samples)} requests in {elapsed:.1f} s = "
        f"{len(tally.samples) / elapsed:.1f} req/s; {tally.cases} whole cases "
        f"({tally.cases / elapsed * 60:.1f}/min; {completed} completed in the database); "
        f"server log errors: {server_errors}"
    )
    print(
        f"   {'kind':<9} {'count':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} errors"
    )
    figures: dict[str, Any] = {}
    for kind in KINDS:
        chosen = [s for s in tally.samples if s.kind == kind]
        ms = [s.ms for s in chosen]
        errors = sum(not s.ok for s in chosen)
        p50, p95, p99, top = percentiles(ms)
        figures[kind] = (p50, p95, p99, top)
        print(
            f"   {kind:<9} {len(chosen):>6} {len(chosen) / elapsed:>7.1f} {p50:>8.0f} {p95:>8.0f} "
            f"{p99:>8.0f} {top:>8.0f} {errors}"
        )
    if tally.case_seconds:
        p50, p95, _, top = percentiles(tally.case_seconds)
        print(
            f"   whole case (register + {len(SUCCESS_PATH)} × list, complete): "
            f"p50 {p50:.2f} s, p95 {p95:.2f} s, max {top:.2f} s"
        )
    for problem in tally.problems:
        print(f"   ! {problem}")
    return figures


def server_errors(log: Path) -> int:
    text = log.read_text(errors="replace") if log.exists() else ""
    return text.count("Traceback") + text.count("[ERROR]")


def measure(label: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    tokens = prepare(url)
    with tempfile.TemporaryDirectory(prefix="fangtiao-load-log-") as folder:
        log = Path(folder) / "server.log"
        with running(url, args, log) as port:
            # a short warm-up (spec caches, connection pools in every worker), not counted
            drive(port, tokens, args.users, min(5.0, args.seconds / 6))
            before = completed_cases(port, tokens["admin"])
            tally, elapsed = drive(port, tokens, args.users, args.seconds)
            completed = completed_cases(port, tokens["admin"]) - before
        figures = report(label, tally, elapsed, completed, server_errors(log))
        if server_errors(log):
            print(log.read_text(errors="replace")[-3000:])
    return figures


def floor(cases: int) -> None:
    env = InProcess.prepare()
    # As bench.referral does: the stubs are checked against one real runtime case, and where the
    # procedure has operations they do not know (or answer in another shape), the real result is replayed.
    with sqlite_database(PREFIX) as url:
        engine, runtime = build_runtime(url)
        case_id = RuntimeBench(engine, runtime, "runtime sqlite").run_case(keep=False)
        env.script_engine.check(handler_results(runtime, env, case_id), env.steps)
        engine.dispose()
    with engine_clock(FrozenClock(START)):
        alone = run_engine_alone(env, cases)
    print(
        f"\n== runtime-only floor (SpiffWorkflow in memory, one thread, same procedure): "
        f"completion p50 {alone.median_ms:.1f} ms, p95 {alone.p95_ms:.1f} ms; "
        f"{alone.cases_per_second:.1f} whole cases/s"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8, help="concurrent simulated users (default 8)")
    parser.add_argument("--seconds", type=float, default=60, help="measured load per database (default 60)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker (default 2)")
    parser.add_argument("--timer-workers", type=int, default=2, help="`fangtiao worker` processes")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, metavar="URL", help="'off' to skip")
    parser.add_argument("--sqlite", choices=("on", "off"), default="on")
    parser.add_argument("--floor-cases", type=int, default=40, help="cases for the in-memory floor")
    args = parser.parse_args(argv)
    print(
        f"load: {args.users} users, {args.seconds:.0f} s per database; gunicorn {args.workers} workers × "
        f"{args.threads} threads (gthread); {args.timer_workers} timer workers; {os.cpu_count()} cores"
    )
    databases: dict[str, Callable[[], AbstractContextManager[str]]] = {}
    if args.postgres != "off":
        require_postgres(args.postgres)
        databases["PostgreSQL"] = lambda: postgres_schema(args.postgres, PREFIX)
    if args.sqlite == "on":
        databases["SQLite"] = sqlite_folder
    results = {}
    for label, database in databases.items():
        with ExitStack() as stack:
            url = stack.enter_context(database())
            results[label] = measure(label, url, args)
    floor(args.floor_cases)
    if len(results) == 2:
        pg, lite = results["PostgreSQL"]["complete"], results["SQLite"]["complete"]
        print(
            f"\ncompletion p95 SQLite / PostgreSQL: {lite[1] / pg[1]:.2f}× "
            f"(p99 {lite[2] / pg[2]:.2f}×, max {lite[3] / pg[3]:.2f}×); goal: within 2×"
        )


@contextmanager
def sqlite_folder() -> Iterator[str]:
    """The embedded default: a file in the instance folder (here a temporary one)."""
    with tempfile.TemporaryDirectory(prefix="fangtiao-load-sqlite-") as directory:
        yield f"sqlite:///{Path(directory) / 'fangtiao.sqlite'}"


if __name__ == "__main__":
    main()
