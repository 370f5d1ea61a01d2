"""Executable scenarios: a path through the procedure with data, clock moves and expected outcomes."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from orchestration.domain import petition_clock
from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Actor, Runtime
from orchestration.errors import FangtiaoError
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
from orchestration.tools import demo

SCENARIO_DIR = PROJECT_ROOT / "processes" / "scenarios"


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
    return sorted(SCENARIO_DIR.glob("*.json"))


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
    def __init__(self, engine: Engine, start: datetime) -> None:
        self.clock = FrozenClock(start)
        self.runtime = Runtime(make_session_factory(engine), self.clock)
        with self.runtime.sessions() as session, session.begin():
            demo.seed(session)
        self.runtime.deploy()
        self.cases: list[int] = []

    def actor(self, session: Session, username: str) -> Actor:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise Mismatch(f"场景中的用户不存在：{username}")
        return Actor.of(user)

    def case_id(self, step: Mapping[str, Any]) -> int:
        if not self.cases:
            raise Mismatch("还没有登记案件")
        return self.cases[int(step.get("case", -1))]

    def task_id(self, session: Session, case_id: int, name: str) -> str:
        rows = list(session.scalars(select(OpenTask).where(OpenTask.case_id == case_id)))
        for row in rows:
            if row.task_name == name:
                return row.id
        raise Mismatch(f"没有待办任务 {name}；当前待办：{sorted(r.task_name for r in rows)}")

    # -- steps --

    def step(self, step: Mapping[str, Any]) -> None:
        action = step["do"]
        handler: Callable[[Mapping[str, Any]], None] = getattr(self, f"do_{action}", None) or _unknown(action)
        expected_error = step.get("error")
        try:
            handler(step)
        except FangtiaoError as exc:
            if expected_error is None:
                raise Mismatch(f"意外的错误：{exc.message} {getattr(exc, 'errors', '') or ''}") from exc
            actual = f"{exc.message} {json.dumps(getattr(exc, 'errors', {}), ensure_ascii=False)}"
            if expected_error not in actual:
                raise Mismatch(f"错误信息应包含“{expected_error}”，实际为“{actual}”") from exc
            return
        if expected_error is not None:
            raise Mismatch(f"应当出错（{expected_error}），但操作成功了")

    def do_start(self, step: Mapping[str, Any]) -> None:
        with self.runtime.sessions() as session:
            actor = self.actor(session, step["as"])
        case = self.runtime.start_case(step["data"], actor)
        self.cases.append(case.id)

    def do_complete(self, step: Mapping[str, Any]) -> None:
        case_id = self.case_id(step)
        with self.runtime.sessions() as session:
            actor = self.actor(session, step["as"])
            task_id = self.task_id(session, case_id, step["task"])
        self.runtime.complete_task(case_id, task_id, step.get("data", {}), actor)

    def do_report_risk(self, step: Mapping[str, Any]) -> None:
        with self.runtime.sessions() as session:
            actor = self.actor(session, step["as"])
        self.runtime.report_risk(self.case_id(step), step["data"], actor)

    def do_clock(self, step: Mapping[str, Any]) -> None:
        target = datetime.fromisoformat(step["to"])
        if target < self.clock.now():
            raise Mismatch(f"时钟不能倒退到 {step['to']}")
        self.clock.set(target)

    def do_advance(self, step: Mapping[str, Any]) -> None:
        self.clock.advance(parse_duration(step["by"]))

    def do_timers(self, step: Mapping[str, Any]) -> None:
        self.runtime.run_due_timers()

    def do_expect(self, step: Mapping[str, Any]) -> None:
        with self.runtime.sessions() as session:
            case = session.get(Case, self.case_id(step))
            assert case is not None
            Expectations(self.runtime, session, case).check(step)


class Expectations:
    def __init__(self, runtime: Runtime, session: Session, case: Case) -> None:
        self.runtime, self.session, self.case = runtime, session, case

    def check(self, expect: Mapping[str, Any]) -> None:
        for key, value in expect.items():
            if key in ("do", "case"):
                continue
            checker = getattr(self, f"check_{key}", None)
            if checker is None:
                raise Mismatch(f"未知的期望项：{key}")
            checker(value)

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

    def check_notifications(self, value: list[Mapping[str, str]]) -> None:
        """Each expected notification (kind, and optionally org and role) must be among those sent."""
        rows = list(self.session.scalars(select(Notification).where(Notification.case_id == self.case.id)))
        orgs = {o.id: o.code for o in self.session.scalars(select(Organisation))}
        sent = [{"kind": r.kind, "org": orgs.get(r.org_id or 0), "role": r.role} for r in rows]
        for item in value:
            if not any(all(s.get(k) == v for k, v in item.items()) for s in sent):
                raise Mismatch(f"未发出通知 {item}；已发出：{sent}")

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


def _unknown(action: str) -> Callable[[Mapping[str, Any]], None]:
    def fail(_: Mapping[str, Any]) -> None:
        raise Mismatch(f"未知的场景步骤：{action}")

    return fail


def run_scenario(path: Path, url: str | None = None) -> ScenarioResult:
    try:
        scenario = json.loads(path.read_text(encoding="utf-8"))
        name = str(scenario.get("name", path.stem))
        start = datetime.fromisoformat(scenario["clock"])
        steps = list(scenario["steps"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return ScenarioResult(path, path.stem, False, f"无法读取场景文件：{exc}")
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return ScenarioResult(path, path.stem, False, f"场景文件格式错误（需要 name、clock、steps）：{exc!r}")
    with tempfile.TemporaryDirectory() as workdir:
        engine = fresh_database(url, Path(workdir))
        try:
            run = ScenarioRun(engine, start)
            for index, step in enumerate(steps, start=1):
                try:
                    run.step(step)
                except Mismatch as exc:
                    return ScenarioResult(path, name, False, f"第{index}步（{step.get('do')}）：{exc}")
        finally:
            engine.dispose()
    return ScenarioResult(path, name, True)


def run_files(files: list[Path], url: str | None = None) -> list[ScenarioResult]:
    return [run_scenario(f, url) for f in files]
