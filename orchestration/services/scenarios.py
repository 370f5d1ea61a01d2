"""Executable scenarios: a path through the procedure with data, clock moves and expected outcomes.

The file format is written down in processes/scenarios/README.md; each file is checked against
scenario.schema.json there before it runs, so that a misspelt or unknown key fails instead of being ignored.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from pypdf import PdfWriter
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from orchestration.domain import petition_clock, scenario_schema
from orchestration.domain.access import Viewer
from orchestration.domain.forms import FormDefinition, Upload
from orchestration.domain.personal_data import findings, identifying_values
from orchestration.engine.clock import SHANGHAI, FrozenClock
from orchestration.engine.runtime import Actor, Runtime
from orchestration.engine.specs import PROCESS_ID, SpecCache, store_version
from orchestration.errors import FangtiaoError
from orchestration.services import demo
from orchestration.services.documents import DocumentService
from orchestration.services.petitions import PetitionService
from orchestration.settings import PROJECT_ROOT
from orchestration.store import migrate
from orchestration.store.db import make_engine, make_session_factory
from orchestration.store.models import (
    AuditEvent,
    Base,
    Case,
    Document,
    Notification,
    OpenTask,
    Organisation,
    Timer,
    User,
)

SCENARIO_DIR = PROJECT_ROOT / "processes" / "scenarios"
# A step with one of these must fail: "error" and "field_errors" exactly, "error_contains" by substring.
ERROR_KEYS = ("error", "field_errors", "error_contains")


class Mismatch(Exception):
    """The first difference between what a scenario expects and what happened."""


@dataclass(frozen=True)
class ScenarioResult:
    file: Path
    name: str
    passed: bool
    message: str = ""

    def line(self) -> str:
        status = "PASSED" if self.passed else "FAILED"
        detail = f"\n    {self.message}" if self.message else ""
        return f"{status} {self.file.name}：{self.name}{detail}"


def default_files() -> list[Path]:
    return sorted(p for p in SCENARIO_DIR.glob("*.json") if p != scenario_schema.SCHEMA_FILE)


def fresh_database(url: str | None, workdir: Path) -> Engine:
    """An empty, migrated database: a new SQLite file, or the given database wiped."""
    if url is None or url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{workdir / 'scenario.sqlite'}")
    else:
        engine = make_engine(url)
        with engine.begin() as connection:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    migrate.upgrade(engine)
    return engine


def parse_duration(value: Mapping[str, float]) -> timedelta:
    return timedelta(**{k: float(v) for k, v in value.items()})


class ScenarioRun:
    """A scenario's run on a throwaway database: the demo network, and the procedure's folders deployed
    (or the given files stored as a version as they are: a draft runs even when its check finds errors,
    since the script engine refuses what the expression rule forbids whatever was stored)."""

    def __init__(
        self,
        engine: Engine,
        start: datetime,
        files: Mapping[str, str] | None = None,
        process_id: str = PROCESS_ID,
        seeded: bool = False,
        specs: SpecCache | None = None,
    ) -> None:
        self.clock = FrozenClock(start)
        self.runtime = Runtime(make_session_factory(engine), self.clock, specs=specs)
        if not seeded:
            with self.runtime.sessions() as session, session.begin():
                demo.seed(session)
        if files is None:
            self.runtime.deploy()
        else:
            with self.runtime.transaction() as session:
                store_version(session, files, process_id, "scenario", start)
        self.cases: list[int] = []

    def user(self, session: Session, username: str) -> User:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise Mismatch(f"场景中的用户不存在：{username}")
        return user

    def actor(self, session: Session, username: str) -> Actor:
        return Actor.of(self.user(session, username))

    def case_id(self, step: Mapping[str, Any]) -> int:
        index = step.get("case", -1)
        if not -len(self.cases) <= index < len(self.cases):
            raise Mismatch(f"没有这件案件（case: {index}；已登记 {len(self.cases)} 件，从 0 数起）")
        return self.cases[index]

    def task_id(self, session: Session, case_id: int, name: str) -> str:
        rows = list(session.scalars(select(OpenTask).where(OpenTask.case_id == case_id)))
        for row in rows:
            if row.task_name == name:
                return row.id
        raise Mismatch(f"没有待办任务 {name}；当前待办：{sorted(r.task_name for r in rows)}")

    # -- steps --

    def step(self, step: Mapping[str, Any]) -> None:
        """Runs one step the schema has passed; a step naming an error must fail with just that error."""
        expected = {k: step[k] for k in ERROR_KEYS if k in step}
        try:
            self.act(step)
        except FangtiaoError as exc:
            fields: dict[str, str] = getattr(exc, "errors", {})
            if not expected:
                raise Mismatch(f"意外的错误：{_error_text(exc.message, fields)}") from exc
            if "error_contains" in expected:
                actual = _error_text(exc.message, fields)
                if expected["error_contains"] not in actual:
                    raise Mismatch(f"错误信息应包含“{expected['error_contains']}”，实际为“{actual}”") from exc
                return
            if "error" in expected:
                _same("错误信息", expected["error"], exc.message)
            _same("字段错误", expected.get("field_errors", {}), fields)
            return
        if expected:
            raise Mismatch(f"应当出错（{json.dumps(expected, ensure_ascii=False)}），但操作成功了")

    def act(self, step: Mapping[str, Any]) -> None:
        """Does what a step says; a refusal is the runtime's own error, whatever the step expects."""
        getattr(self, f"do_{step['do']}")(step)

    def do_start(self, step: Mapping[str, Any]) -> None:
        with self.runtime.sessions() as session:
            actor = self.actor(session, step["as"])
        self.cases.append(self.runtime.start_case(step["data"], actor).case_id)

    def do_complete(self, step: Mapping[str, Any]) -> None:
        case_id = self.case_id(step)
        with self.runtime.sessions() as session:
            actor = self.actor(session, step["as"])
            task_id = self.task_id(session, case_id, step["task"])
            form = self.runtime.forms_of(session, self.version_of(session, case_id)).get(
                self.form_name(session, task_id)
            )
        data, files = with_uploads(form, step.get("data", {}))
        self.runtime.complete_task(task_id, data, actor, files=files)

    @staticmethod
    def version_of(session: Session, case_id: int) -> int:
        version_id = session.scalar(select(Case.version_id).where(Case.id == case_id))
        if version_id is None:
            raise Mismatch(f"案件不存在：{case_id}")
        return version_id

    @staticmethod
    def form_name(session: Session, task_id: str) -> str:
        return session.scalar(select(OpenTask.form_name).where(OpenTask.id == task_id)) or ""

    def do_report_risk(self, step: Mapping[str, Any]) -> None:
        with self.runtime.sessions() as session:
            actor = self.actor(session, step["as"])
        self.runtime.report_risk(self.case_id(step), step["data"], actor)

    def do_correct_document(self, step: Mapping[str, Any]) -> None:
        case_id = self.case_id(step)
        with self.runtime.sessions() as session:
            viewer = Viewer.of(self.user(session, step["as"]))
            document = _in_force(session, case_id, step["kind"])
        DocumentService(self.runtime).correct(viewer, document.id, step["changes"], step["reason"])

    def do_extend_petition(self, step: Mapping[str, Any]) -> None:
        case_id = self.case_id(step)
        with self.runtime.sessions() as session:
            viewer = Viewer.of(self.user(session, step["as"]))
            case = session.get(Case, case_id)
            assert case is not None
            case_no = case.case_no
        PetitionService(self.runtime).extend(viewer, case_no, step["reason"])

    def do_clock(self, step: Mapping[str, Any]) -> None:
        target = datetime.fromisoformat(step["to"])
        if target < self.clock.now():
            raise Mismatch(f"时钟不能倒退到 {step['to']}")
        self.clock.set(target)

    def do_advance(self, step: Mapping[str, Any]) -> None:
        self.clock.advance(parse_duration(step["by"]))

    def do_timers(self, step: Mapping[str, Any]) -> None:
        self.runtime.run_due_timers()

    def observe(self) -> Observation:
        """What each case registered so far looks like now: what a change to the procedure shows in."""
        with self.runtime.sessions() as session:
            return tuple(_observe(session, case_id) for case_id in self.cases)

    def do_expect(self, step: Mapping[str, Any]) -> None:
        with self.runtime.sessions() as session:
            case = session.get(Case, self.case_id(step))
            assert case is not None
            Expectations(self.runtime, session, case).check(step)

    # -- after the last step --

    def check_notifications_hold_no_personal_data(self) -> None:
        """Every scenario, whatever it expects: a notification names the case and at most the parties."""
        with self.runtime.sessions() as session:
            for case_id in self.cases:
                case = session.get(Case, case_id)
                assert case is not None
                known = identifying_values(self.runtime.case_data(session, case))
                rows = session.scalars(select(Notification).where(Notification.case_id == case_id))
                for row in rows:
                    found = findings(row.message, known)
                    if found:
                        raise Mismatch(
                            f"案件 {case.case_no} 的通知含有个人信息（{'、'.join(found)}）：{row.message}"
                        )


def in_force_by_kind(documents: Sequence[Document]) -> dict[str, Document]:
    """Of a case's documents in the order made, the latest of each kind that no correction superseded."""
    replaced = {d.supersedes_id for d in documents}
    return {d.kind: d for d in documents if d.id not in replaced}


def _in_force(session: Session, case_id: int, kind: str) -> Document:
    rows = session.scalars(
        select(Document).where(Document.case_id == case_id, Document.kind == kind).order_by(Document.id)
    )
    live = in_force_by_kind(list(rows)).get(kind)
    if live is None:
        raise Mismatch(f"案件没有现行有效的 {kind} 文书")
    return live


@dataclass(frozen=True)
class CaseState:
    status: str
    outcome: str | None
    open_tasks: tuple[tuple[str, datetime | None], ...]  # (task, due), by task
    timers: tuple[tuple[str, datetime], ...]  # (name, due), by due time
    documents: tuple[str, ...]  # kinds, in the order made


Observation = tuple[CaseState, ...]  # the cases in the order registered


def _observe(session: Session, case_id: int) -> CaseState:
    case = session.get(Case, case_id)
    assert case is not None
    tasks = session.execute(
        select(OpenTask.task_name, OpenTask.due_at)
        .where(OpenTask.case_id == case_id)
        .order_by(OpenTask.task_name)
    )
    timers = session.execute(
        select(Timer.name, Timer.due_at).where(Timer.case_id == case_id).order_by(Timer.due_at, Timer.name)
    )
    documents = session.scalars(
        select(Document.kind).where(Document.case_id == case_id).order_by(Document.id)
    )
    return CaseState(
        case.status,
        case.outcome,
        tuple((name, due) for name, due in tasks),
        tuple((name, due) for name, due in timers),
        tuple(documents),
    )


class Expectations:
    def __init__(self, runtime: Runtime, session: Session, case: Case) -> None:
        self.runtime, self.session, self.case = runtime, session, case

    def check(self, expect: Mapping[str, Any]) -> None:
        for key, value in expect.items():
            if key not in ("do", "case"):
                getattr(self, f"check_{key}")(value)

    def check_status(self, value: str) -> None:
        _same("案件状态", value, self.case.status)

    def check_outcome(self, value: str | None) -> None:
        _same("办理结果", value, self.case.outcome)

    def check_open_tasks(self, value: list[Any]) -> None:
        rows = list(self.session.scalars(select(OpenTask).where(OpenTask.case_id == self.case.id)))
        _same("待办任务", sorted(_name(v) for v in value), sorted(r.task_name for r in rows))
        by_name = {r.task_name: r for r in rows}
        for item in value:
            if isinstance(item, dict):
                row = by_name[item["task"]]
                if "role" in item:
                    _same(f"{row.task_name} 的办理角色", item["role"], row.role)
                if "org" in item:
                    org = self.session.get(Organisation, row.org_id) if row.org_id else None
                    _same(f"{row.task_name} 的办理机构", item["org"], org.code if org else None)
                if "due" in item:
                    _same_time(f"{row.task_name} 的期限", item["due"], row.due_at)

    def check_timers(self, value: list[Mapping[str, str]]) -> None:
        rows = self.session.scalars(select(Timer).where(Timer.case_id == self.case.id).order_by(Timer.due_at))
        actual = [(r.name, r.due_at) for r in rows]
        _same("定时器数量", len(value), len(actual))
        for item, (name, due) in zip(value, actual, strict=True):
            _same("定时器", item["name"], name)
            _same_time(f"定时器“{name}”的到期时间", item["due"], due)

    def check_data(self, value: Mapping[str, Any]) -> None:
        data = self.runtime.case_data(self.session, self.case)
        for path, expected in value.items():
            actual: Any = data
            for part in path.split("."):
                if not isinstance(actual, dict) or part not in actual:
                    raise Mismatch(f"案件数据中没有 {path}")
                actual = actual[part]
            if isinstance(expected, str) and _looks_like_time(expected) and isinstance(actual, str):
                _same_time(f"数据 {path}", expected, datetime.fromisoformat(actual))
            else:
                _same(f"数据 {path}", expected, actual)

    def check_documents(self, value: list[str]) -> None:
        rows = self.session.scalars(
            select(Document).where(Document.case_id == self.case.id).order_by(Document.id)
        )
        _same("文书", value, [r.kind for r in rows])

    def check_document_numbers(self, value: list[str]) -> None:
        rows = list(
            self.session.scalars(
                select(Document).where(Document.case_id == self.case.id).order_by(Document.id)
            )
        )
        successor = {r.supersedes_id: r.number for r in rows if r.supersedes_id}
        numbers = [f"{r.number} → {successor[r.id]}" if r.id in successor else r.number for r in rows]
        _same("文号", value, numbers)

    def check_document_issuers(self, value: list[str]) -> None:
        rows = self.session.execute(
            select(Organisation.code)
            .join(Document, Document.issuer_org_id == Organisation.id)
            .where(Document.case_id == self.case.id)
            .order_by(Document.id)
        )
        _same("出具单位", value, list(rows.scalars()))

    def check_document_content(self, value: Mapping[str, Any]) -> None:
        for path, expected in value.items():
            kind, _, rest = path.partition(".")
            actual: Any = _in_force(self.session, self.case.id, kind).content
            for part in rest.split("."):
                if isinstance(actual, list) and part.isdigit() and int(part) < len(actual):
                    actual = actual[int(part)]
                elif isinstance(actual, dict) and part in actual:
                    actual = actual[part]
                else:
                    raise Mismatch(f"{kind} 文书中没有 {rest}")
            _same(f"文书内容 {path}", expected, actual)

    def sent_notifications(self) -> list[dict[str, str | None]]:
        rows = self.session.scalars(
            select(Notification).where(Notification.case_id == self.case.id).order_by(Notification.id)
        )
        orgs = {o.id: o.code for o in self.session.scalars(select(Organisation))}
        return [{"kind": r.kind, "org": orgs.get(r.org_id or 0), "role": r.role} for r in rows]

    def check_notifications(self, value: list[Mapping[str, str | None]]) -> None:
        """The notifications sent for the case so far are exactly these, in any order."""
        sent = self.sent_notifications()
        expected, actual = Counter(map(_notice, value)), Counter(map(_notice, sent))
        if expected != actual:
            missing, extra = list((expected - actual).elements()), list((actual - expected).elements())
            raise Mismatch(f"通知不符：未发出 {missing}，多发出 {extra}；已发出：{list(map(_notice, sent))}")

    def check_notifications_contains(self, value: list[Mapping[str, str | None]]) -> None:
        """Each listed notification (kind, and org and role where given) is among those sent."""
        sent = self.sent_notifications()
        for item in value:
            if not any(all(s[k] == v for k, v in item.items()) for s in sent):
                raise Mismatch(f"未发出通知 {dict(item)}；已发出：{list(map(_notice, sent))}")

    def check_audit(self, value: list[str]) -> None:
        rows = self.session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == self.case.id).order_by(AuditEvent.id)
        )
        _same("审计记录", value, [f"{r.action}:{r.task_name}" if r.task_name else r.action for r in rows])

    def check_petition_clock(self, value: Mapping[str, Any]) -> None:
        clock = petition_clock.compute(
            petition_clock.events(self.session, self.case.id), self.runtime.calendar(self.session)
        )
        if clock is None:
            raise Mismatch("案件没有信访办理时钟")
        if "paused" in value:
            _same("信访时钟是否暂停", value["paused"], clock.paused_since is not None)
        if "paused_days" in value:
            _same("暂停天数", value["paused_days"], clock.paused_days)
        if "deadline" in value:
            _same_time("信访办理期限", value["deadline"], clock.deadline)
        if "estimated" in value:
            _same("期限是否按估算日历", value["estimated"], clock.estimated)
        if "started" in value:
            _same_time("信访办理期限起算（受理）", value["started"], clock.started_at)
        if "extended" in value:
            _same("信访办理期限是否已延长", value["extended"], clock.extended_at is not None)
        if "concluded" in value:
            _same_time("办结时间", value["concluded"], clock.concluded_at)


def _notice(item: Mapping[str, str | None]) -> tuple[str | None, str | None, str | None]:
    return item["kind"], item["org"], item["role"]


def _error_text(message: str, fields: Mapping[str, str]) -> str:
    return message + "".join(f"；{name}：{problem}" for name, problem in fields.items())


def _name(item: Any) -> str:
    return item["task"] if isinstance(item, dict) else str(item)


def _same(what: str, expected: Any, actual: Any) -> None:
    if expected != actual:
        raise Mismatch(f"{what}：期望 {expected!r}，实际 {actual!r}")


def _looks_like_time(value: str) -> bool:
    return bool(re.match(r"^\d{4}-\d{2}-\d{2}T", value))


def _same_time(what: str, expected: str | None, actual: datetime | None) -> None:
    if expected is None or actual is None:
        _same(what, expected, actual)
        return
    if datetime.fromisoformat(expected) != actual:
        raise Mismatch(
            f"{what}：期望 {expected}，实际 {actual.astimezone(datetime.fromisoformat(expected).tzinfo)}"
        )


@dataclass(frozen=True)
class Setting:
    """Where and how a scenario runs."""

    database: Callable[[], Engine]  # a fresh database for the run, disposed afterwards
    files: Mapping[str, str] | None = None  # the procedure (None: the project's folders; see ScenarioRun)
    process_id: str = PROCESS_ID
    seeded: bool = False  # the database already holds the demo network
    specs: SpecCache | None = None  # parsed specs shared by runs of the same files
    # Run every step even after one failed: to compare where two versions of the procedure lead.
    keep_going: bool = False


def run_scenario(path: Path, url: str | None = None) -> ScenarioResult:
    """A scenario file run on a fresh database (the given one wiped, or a new SQLite file) against the
    procedure's folders."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return ScenarioResult(path, path.stem, False, f"无法读取场景文件：{exc}")
    with tempfile.TemporaryDirectory() as workdir:
        return run_text(path, content, Setting(lambda: fresh_database(url, Path(workdir))))[0]


def run_text(path: Path, content: str, setting: Setting) -> tuple[ScenarioResult, list[Observation]]:
    """Runs a scenario, and returns with its result what each case looked like after each step run."""
    try:
        scenario = json.loads(content)
    except json.JSONDecodeError as exc:
        return ScenarioResult(path, path.stem, False, f"无法读取场景文件：{exc}"), []
    problems = scenario_schema.problems(scenario)
    if problems:
        name = scenario.get("name") if isinstance(scenario, dict) else None
        detail = "\n    ".join(problems)
        return ScenarioResult(
            path, name if isinstance(name, str) else path.stem, False, f"场景文件写法有误：\n    {detail}"
        ), []
    trace: list[Observation] = []
    failure = ""
    engine = setting.database()
    try:
        start = datetime.fromisoformat(scenario["clock"])
        run = ScenarioRun(engine, start, setting.files, setting.process_id, setting.seeded, setting.specs)
        for index, step in enumerate(scenario["steps"], start=1):
            try:
                run.step(step)
            except Mismatch as exc:
                failure = failure or f"第{index}步（{step['do']}）：{exc}"
                if not setting.keep_going:
                    break
            finally:
                trace.append(run.observe())
        if not failure:
            try:
                run.check_notifications_hold_no_personal_data()
            except Mismatch as exc:
                failure = str(exc)
    except FangtiaoError as exc:
        failure = failure or f"无法运行：{exc.message}"
    finally:
        engine.dispose()
    return ScenarioResult(path, scenario["name"], not failure, failure), trace


@cache
def placeholder_pdf() -> bytes:
    """A one-page blank PDF: what a scenario's named file holds (the case file binds it like any scan)."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def with_uploads(
    form: FormDefinition, data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, list[Upload]]]:
    """A scenario names the files a step attaches (["同意书.pdf"]); a file field accepts only files
    stored for the case, so each name becomes an upload of a small file of that name, stored with the
    step as a browser's would be."""
    rest = dict(data)
    files: dict[str, list[Upload]] = {}
    for form_field in form.fields:
        names = rest.get(form_field.name)
        if form_field.widget != "file" or names is None:
            continue
        del rest[form_field.name]
        listed = names if isinstance(names, list) else [names]
        files[form_field.name] = [Upload(str(name), "application/pdf", placeholder_pdf()) for name in listed]
    return rest, files


def run_files(files: list[Path], url: str | None = None) -> list[ScenarioResult]:
    return [run_scenario(f, url) for f in files]


# ---- a draft side by side with the deployed version --------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    file: str
    name: str
    draft: ScenarioResult
    deployed: ScenarioResult
    differences: list[str]  # what the draft does differently, step by step, each difference once


def compare(
    scenarios: Mapping[str, str],
    draft_files: Mapping[str, str],
    deployed_files: Mapping[str, str],
    process_id: str = PROCESS_ID,
) -> list[Comparison]:
    """Every scenario run twice, each time on a throwaway SQLite database: on the draft's files and on the
    deployed version's. The databases are copies of one migrated and seeded template."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="fangtiao-scenarios-") as directory:
        workdir = Path(directory)
        template = fresh_database(None, workdir)
        with make_session_factory(template)() as session, session.begin():
            demo.seed(session)
        template.dispose()
        template_file = workdir / "template.sqlite"
        (workdir / "scenario.sqlite").rename(template_file)
        run_file = workdir / "run.sqlite"
        # One engine for every run, so SQL is compiled once; its connections are closed (dispose) before
        # the next run's copy of the template replaces the file.
        engine = make_engine(f"sqlite:///{run_file}")

        def database() -> Engine:
            shutil.copyfile(template_file, run_file)
            return engine

        sides = [
            Setting(database, files, process_id, seeded=True, specs=SpecCache(), keep_going=True)
            for files in (draft_files, deployed_files)
        ]
        for name, content in sorted(scenarios.items()):
            (draft, new), (deployed, old) = (run_text(Path(name), content, side) for side in sides)
            rows.append(Comparison(name, draft.name, draft, deployed, differences(old, new)))
    return rows


MAX_DIFFERENCES = 30


def differences(deployed: Sequence[Observation], draft: Sequence[Observation]) -> list[str]:
    """Where the cases differ after each step, each difference said once (where it first shows)."""
    lines: list[str] = []
    seen: set[object] = set()
    for index, (before, after) in enumerate(zip(deployed, draft, strict=False), start=1):
        for number in range(max(len(before), len(after))):
            old = before[number] if number < len(before) else None
            new = after[number] if number < len(after) else None
            for key, said in _case_differences(old, new):
                if (number, key) not in seen:
                    seen.add((number, key))
                    lines.append(f"第{index}步后 案件{number}：{said}")
    if len(deployed) != len(draft):
        lines.append(f"已部署版本运行了 {len(deployed)} 步，草稿运行了 {len(draft)} 步")
    if len(lines) > MAX_DIFFERENCES:
        lines[MAX_DIFFERENCES:] = [f"……另有 {len(lines) - MAX_DIFFERENCES} 处不同"]
    return lines


def _case_differences(old: CaseState | None, new: CaseState | None) -> list[tuple[object, str]]:
    if old is None or new is None:
        return [("exists", "只在草稿中登记" if old is None else "只在已部署版本中登记")]
    found: list[tuple[object, str]] = []
    if old.status != new.status:
        found.append((("status", old.status, new.status), f"案件状态 {_sides(old.status, new.status)}"))
    if old.outcome != new.outcome:
        outcomes = (old.outcome or "无", new.outcome or "无")
        found.append((("outcome", *outcomes), f"办理结果 {_sides(*outcomes)}"))
    old_tasks, new_tasks = dict(old.open_tasks), dict(new.open_tasks)
    if old_tasks.keys() != new_tasks.keys():
        names = (_names(old_tasks), _names(new_tasks))
        found.append((("tasks", *names), f"待办 {_sides(*names)}"))
    for task in sorted(old_tasks.keys() & new_tasks.keys()):
        if old_tasks[task] != new_tasks[task]:
            dues = (_when(old_tasks[task]), _when(new_tasks[task]))
            found.append((("due", task, *dues), f"待办 {task} 的期限 {_sides(*dues)}"))
    if old.timers != new.timers:
        timers = (_timers(old.timers), _timers(new.timers))
        found.append((("timers", *timers), f"定时器 {_sides(*timers)}"))
    if old.documents != new.documents:
        documents = ("、".join(old.documents) or "无", "、".join(new.documents) or "无")
        found.append((("documents", *documents), f"文书 {_sides(*documents)}"))
    return found


def _sides(deployed: object, draft: object) -> str:
    return f"已部署版本：{deployed}；草稿：{draft}"


def _names(tasks: Mapping[str, object]) -> str:
    return "、".join(sorted(tasks)) or "无"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment is not None else "无期限"


def _timers(timers: Sequence[tuple[str, datetime]]) -> str:
    return "、".join(f"{name} {_when(due)}" for name, due in timers) or "无"
