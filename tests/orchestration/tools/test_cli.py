"""The `fangtiao` command, run in-process on each database: what it prints, exits with and writes.

Bad input must exit with status 2, print exactly one line beginning `错误：` on stderr and write nothing.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from orchestration.domain.calendar import SHANGHAI
from orchestration.engine.runtime import Runtime
from orchestration.services.scenarios import placeholder_pdf
from orchestration.store.models import AuditEvent, Case, Document, OpenTask, ProcessVersion, User
from orchestration.tools.cli import main
from tests.helpers import FILE_FIELDS, REGISTRATION, SUCCESS_PATH

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SUCCESS_SCENARIO = PROJECT_ROOT / "processes" / "scenarios" / "01_success_full_path.json"
CASE_NO = re.compile(r"^FT\d{4}-\d{6}$")
SCREEN = json.dumps({"dispute_category": "citizen_property"})
EXTEND = {"session_record": "需要委托鉴定", "mediation_outcome": "extend", "extension_reason": "等待鉴定结论"}


# Dates of the success path the procedure checks against its own clock (not in the future, not before
# the step they follow); the command line runs on the real clock, so they are today's.
CHECKED_DATES = ("agreement_effective_on", "fed_back_on", "concluded_on", "visited_on")


def on_today(data: dict[str, Any]) -> dict[str, Any]:
    today = datetime.now(SHANGHAI).date().isoformat()
    return {key: today if key in CHECKED_DATES else value for key, value in data.items()}


@dataclass(frozen=True)
class Result:
    status: int
    out: str
    err: str


class Cli:
    """Runs `fangtiao --database URL ...` in this process and captures what it prints."""

    def __init__(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.url = url
        self.capsys = capsys

    def __call__(self, *args: str) -> Result:
        self.capsys.readouterr()
        status = main(["--database", self.url, *args])
        out, err = self.capsys.readouterr()
        return Result(status, out, err)

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert (result.status, result.err) == (0, ""), result
        return result.out

    def start(self, data: dict[str, Any] | None = None) -> str:
        return self.ok("start", "--as", "clerk", json.dumps(data or REGISTRATION, ensure_ascii=False)).strip()

    def complete(self, case_no: str, task: str, username: str, data: dict[str, Any]) -> str:
        """A file field's values on the command line are paths: the file names of the test data become
        small files to upload."""
        sent = dict(data)
        for name in FILE_FIELDS & set(sent):
            folder = Path(tempfile.mkdtemp(prefix="fangtiao-cli-"))
            paths = []
            for file_name in sent[name]:
                (folder / file_name).write_bytes(placeholder_pdf())
                paths.append(str(folder / file_name))
            sent[name] = paths
        return self.ok("complete", "--as", username, case_no, task, json.dumps(sent, ensure_ascii=False))

    def advance_to(self, case_no: str, task_name: str) -> None:
        """Completes the success path up to (not including) the named task."""
        for name, username, data in SUCCESS_PATH:
            if name == task_name:
                return
            self.complete(case_no, name, username, on_today(data))
        raise AssertionError(f"{task_name} is not on the success path")


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(database_url, capsys)


@pytest.fixture
def case_no(runtime: Runtime, cli: Cli) -> str:
    """A case started through the command line on the seeded, deployed database."""
    return cli.start()


def count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def snapshot(engine: Engine, case_no: str) -> dict[str, Any]:
    """Everything a bad command must leave as it was."""
    with Session(engine) as session:
        case = session.scalar(select(Case).where(Case.case_no == case_no))
        assert case is not None
        return {
            "cases": count(session, Case),
            "audit_events": count(session, AuditEvent),
            "open_tasks": count(session, OpenTask),
            "documents": count(session, Document),
            "revision": case.revision,
            "state": case.state,
            "status": case.status,
            "last_error": case.last_error,
        }


def get_case(engine: Engine, case_no: str) -> Case:
    with Session(engine) as session:
        case = session.scalar(select(Case).where(Case.case_no == case_no))
        assert case is not None, case_no
        return case


def open_task_names(engine: Engine, case_no: str) -> list[str]:
    with Session(engine) as session:
        return sorted(
            session.scalars(
                select(OpenTask.task_name)
                .join(Case, OpenTask.case_id == Case.id)
                .where(Case.case_no == case_no)
            )
        )


def assert_refused(result: Result, *fragments: str) -> str:
    assert result.status == 2, result
    assert result.out == "", result
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("错误："), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


# ---- database, demo data, deployment -------------------------------------------------------------


def test_migrate_is_idempotent(engine: Engine, cli: Cli) -> None:
    assert cli.ok("migrate") == "数据库已升级到最新版本\n"
    assert cli.ok("migrate") == "数据库已升级到最新版本\n"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    with Session(engine) as session:
        assert count(session, Case) == 0


def test_seed_demo_is_idempotent(engine: Engine, cli: Cli) -> None:
    assert cli.ok("seed-demo") == "已写入演示数据\n"
    with Session(engine) as session:
        users = count(session, User)
        assert session.scalar(select(User.role).where(User.username == "clerk")) == "petition_clerk"
    assert users > 0
    assert cli.ok("seed-demo") == "演示数据已存在\n"
    with Session(engine) as session:
        assert count(session, User) == users


def test_a_second_deploy_creates_nothing(engine: Engine, cli: Cli) -> None:
    cli.ok("seed-demo")
    first = cli.ok("deploy")
    match = re.fullmatch(r"已部署第 1 版（版本 (\d+)，([0-9a-f]{12})）\n", first)
    assert match, first
    with Session(engine) as session:
        version = session.scalar(select(ProcessVersion))
        assert version is not None
        assert (str(version.id), version.content_hash[:12]) == match.groups()
        audits = count(session, AuditEvent)
    assert cli.ok("deploy") == f"流程文件未变化，当前为第 1 版（版本 {match.group(1)}）\n"
    with Session(engine) as session:
        assert count(session, ProcessVersion) == 1
        assert count(session, AuditEvent) == audits


# ---- starting cases ---------------------------------------------------------------------------------


def _assert_started(engine: Engine, out: str) -> str:
    case_no = out.strip()
    assert out == case_no + "\n"
    assert CASE_NO.match(case_no), out
    case = get_case(engine, case_no)
    assert (case.status, case.title) == ("running", REGISTRATION["matter"])
    assert open_task_names(engine, case_no) == ["screen_case"]
    return case_no


def test_start_from_inline_json_prints_the_case_number(runtime: Runtime, engine: Engine, cli: Cli) -> None:
    first = _assert_started(
        engine, cli.ok("start", "--as", "clerk", json.dumps(REGISTRATION, ensure_ascii=False))
    )
    second = _assert_started(engine, cli.ok("start", "--as", "clerk", json.dumps(REGISTRATION)))
    assert first != second


def test_start_from_a_file(runtime: Runtime, engine: Engine, cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "登记.json"
    path.write_text(json.dumps(REGISTRATION, ensure_ascii=False, indent=2), encoding="utf-8")
    _assert_started(engine, cli.ok("start", "--as", "clerk", f"@{path}"))


def test_start_from_the_example_file(runtime: Runtime, engine: Engine, cli: Cli) -> None:
    example = PROJECT_ROOT / "processes" / "examples" / "registration.json"
    _assert_started(engine, cli.ok("start", "--as", "clerk", f"@{example}"))


def test_start_from_stdin(
    runtime: Runtime, engine: Engine, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(REGISTRATION, ensure_ascii=False)))
    _assert_started(engine, cli.ok("start", "--as", "clerk", "-"))


# ---- tasks and completing them ------------------------------------------------------------------------


def test_tasks_lists_the_screening_task_as_json(engine: Engine, cli: Cli, case_no: str) -> None:
    listed = json.loads(cli.ok("tasks", "--as", "clerk"))
    with Session(engine) as session:
        task_id = session.scalar(select(OpenTask.id))
    assert listed == [
        # acceptance is decided within 15 days of receipt (received 2026-11-02)
        {
            "case": case_no,
            "task": "screen_case",
            "title": "甄别适用范围",
            "id": task_id,
            "due": "2026-11-17T23:59:59+08:00",
        }
    ]
    assert json.loads(cli.ok("tasks", "--as", "mediator")) == []
    assert json.loads(cli.ok("tasks", "--as", "clerk2")) == []


def test_complete_by_task_name(engine: Engine, cli: Cli, case_no: str) -> None:
    assert (
        cli.complete(case_no, "screen_case", "clerk", SUCCESS_PATH[0][2])
        == f"已办理：{case_no} 甄别适用范围\n"
    )
    assert open_task_names(engine, case_no) == ["guide_divert"]
    assert get_case(engine, case_no).revision == 2


def test_complete_by_task_id(engine: Engine, cli: Cli, case_no: str) -> None:
    [listed] = json.loads(cli.ok("tasks", "--as", "clerk"))
    out = cli.ok("complete", "--as", "clerk", case_no, listed["id"], SCREEN)
    assert out == f"已办理：{case_no} 甄别适用范围\n"
    assert open_task_names(engine, case_no) == ["guide_divert"]
    [listed] = json.loads(cli.ok("tasks", "--as", "clerk"))
    assert listed["task"] == "guide_divert"


def test_the_success_path_through_the_command_line(engine: Engine, cli: Cli, case_no: str) -> None:
    for name, username, data in SUCCESS_PATH:
        assert open_task_names(engine, case_no) == [name]
        out = cli.complete(case_no, name, username, on_today(data))
        assert out.startswith(f"已办理：{case_no} "), out
    case = get_case(engine, case_no)
    assert (case.status, case.outcome) == ("completed", "mediated")
    assert case.completed_at is not None and case.last_error is None
    assert open_task_names(engine, case_no) == []
    for username in ("clerk", "leader", "mediator"):
        assert json.loads(cli.ok("tasks", "--as", username)) == []
    with Session(engine) as session:
        actions = list(
            session.scalars(
                select(AuditEvent.task_name).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id)
            )
        )
    assert actions == ["register", *(name for name, _, _ in SUCCESS_PATH)]
    # a completed case has no task left to complete
    refused = cli("complete", "--as", "mediator", case_no, "follow_up_visit", "{}")
    assert_refused(refused, f"案件 {case_no} 没有待办任务“follow_up_visit”", "当前待办：无")


def test_report_risk_during_mediation(engine: Engine, cli: Cli, case_no: str) -> None:
    cli.advance_to(case_no, "mediate")
    risk = {
        "risk_type": "leapfrog",
        "description": "一方扬言到市里上访",
        "urgent": True,
        "police_recipient": "八廓派出所",
        "government_recipient": "八廓街道办事处",
        "receipt": "值班人员接收",
    }
    assert cli.ok("report-risk", "--as", "mediator", case_no, json.dumps(risk, ensure_ascii=False)) == (
        f"已报告风险：{case_no}\n"
    )
    assert open_task_names(engine, case_no) == ["handle_risk", "mediate"]
    assert [t["task"] for t in json.loads(cli.ok("tasks", "--as", "clerk"))] == ["handle_risk"]
    with Session(engine) as session:
        last = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
        assert last is not None
        assert (last.action, last.actor, last.detail["data"]) == ("risk_report", "mediator", risk)


def test_timers_with_nothing_due(engine: Engine, cli: Cli, case_no: str) -> None:
    cli.advance_to(case_no, "review_referral")  # a waiting timer, due in three days
    before = snapshot(engine, case_no)
    assert cli.ok("timers") == "已触发 0 个到期定时器\n"
    assert cli.ok("timers", "--limit", "1") == "已触发 0 个到期定时器\n"
    assert snapshot(engine, case_no) == before


# ---- scenarios ----------------------------------------------------------------------------------------


def test_scenario_run_on_a_file(engine: Engine, cli: Cli) -> None:
    result = cli("scenario", "run", str(SUCCESS_SCENARIO), "--wipe")
    assert (result.status, result.err) == (0, ""), result
    lines = result.out.splitlines()
    assert lines[0].startswith("PASSED 01_success_full_path.json：")
    assert lines[-1] == "1 passed, 0 failed"


def test_scenario_run_reports_a_wrong_expectation(engine: Engine, cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    original = SUCCESS_SCENARIO.read_text(encoding="utf-8")
    changed = original.replace('"due": "2026-11-05T23:59:59+08:00"', '"due": "2026-11-06T23:59:59+08:00"')
    assert changed != original
    broken.write_text(changed, encoding="utf-8")
    result = cli("scenario", "run", str(SUCCESS_SCENARIO), str(broken), "--wipe")
    assert result.status == 1, result
    assert "PASSED 01_success_full_path.json" in result.out
    assert "FAILED broken.json" in result.out
    assert "期望 2026-11-06T23:59:59+08:00" in result.out
    assert result.out.splitlines()[-1] == "1 passed, 1 failed"


def test_scenario_run_reports_a_misspelt_key_as_failed(engine: Engine, cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    original = SUCCESS_SCENARIO.read_text(encoding="utf-8")
    changed = original.replace('"due": "2026-11-05T23:59:59+08:00"', '"duee": "2026-11-05T23:59:59+08:00"')
    assert changed != original
    broken.write_text(changed, encoding="utf-8")
    result = cli("scenario", "run", str(broken), str(SUCCESS_SCENARIO), "--wipe")
    assert result.status == 1, result
    name = json.loads(original)["name"]
    assert result.out.splitlines() == [
        f"FAILED broken.json：{name}",
        "    场景文件写法有误：",
        "    第11步（expect）：未知的键“open_tasks[0].duee”（是否应为“due”？可写的键：task、role、org、due）",
        f"PASSED 01_success_full_path.json：{name}",
        "1 passed, 1 failed",
    ]


@pytest.mark.parametrize(
    "content",
    ["[]", '{"name": "没有时钟", "steps": []}', "{not json"],
    ids=["array", "no-clock", "syntax"],
)
def test_scenario_run_reports_a_file_that_is_no_scenario(
    engine: Engine, cli: Cli, tmp_path: Path, content: str
) -> None:
    """Each file is reported passed or failed; a malformed one must not end the run with a traceback."""
    broken = tmp_path / "broken.json"
    broken.write_text(content, encoding="utf-8")
    result = cli("scenario", "run", str(broken), "--wipe")
    assert result.status == 1, result
    assert "FAILED broken.json" in result.out
    assert result.out.splitlines()[-1] == "0 passed, 1 failed"


# ---- bad input: exit status 2, one line on stderr, nothing written -----------------------------------

UNKNOWN_CASE = "FT1999-999999"
RISK_JSON = json.dumps(
    {
        "risk_type": "other",
        "description": "x",
        "police_recipient": "八廓派出所",
        "government_recipient": "八廓街道办事处",
        "receipt": "值班人员接收",
    },
    ensure_ascii=False,
)
MISSING_FILE = "{tmp}/no-such-file.json"
BAD_INPUT: list[tuple[str, list[str], list[str]]] = [
    ("unknown-user-start", ["start", "--as", "nobody", "{registration}"], ["未知用户：nobody"]),
    (
        "unknown-user-complete",
        ["complete", "--as", "nobody", "{case}", "screen_case", SCREEN],
        ["未知用户：nobody"],
    ),
    ("unknown-user-tasks", ["tasks", "--as", "nobody"], ["未知用户：nobody"]),
    (
        "unknown-user-risk",
        ["report-risk", "--as", "nobody", "{case}", RISK_JSON],
        ["未知用户：nobody"],
    ),
    (
        "unknown-case",
        ["complete", "--as", "clerk", UNKNOWN_CASE, "screen_case", SCREEN],
        [f"未知案件：{UNKNOWN_CASE}"],
    ),
    (
        "unknown-case-risk",
        ["report-risk", "--as", "mediator", UNKNOWN_CASE, RISK_JSON],
        [f"未知案件：{UNKNOWN_CASE}"],
    ),
    (
        "unknown-task-name",
        ["complete", "--as", "clerk", "{case}", "mediate", "{}"],
        ["没有待办任务“mediate”", "当前待办：screen_case（甄别适用范围）"],
    ),
    (
        "unknown-task-id",
        ["complete", "--as", "clerk", "{case}", "00000000-0000-0000-0000-000000000000", SCREEN],
        ["当前待办：screen_case（甄别适用范围）"],
    ),
    (
        "mediator-may-not-screen",
        ["complete", "--as", "mediator", "{case}", "screen_case", SCREEN],
        ["您无权办理该任务"],
    ),
    (
        "clerk2-other-township",
        ["complete", "--as", "clerk2", "{case}", "screen_case", SCREEN],
        ["您无权办理该任务"],
    ),
    (
        "leader-may-not-screen",
        ["complete", "--as", "leader", "{case}", "screen_case", SCREEN],
        ["您无权办理该任务"],
    ),
    (
        "missing-required-field",
        ["complete", "--as", "clerk", "{case}", "screen_case", "{}"],
        ["dispute_category"],
    ),
    (
        "bad-enum",
        ["complete", "--as", "clerk", "{case}", "screen_case", '{"dispute_category": "no-such"}'],
        ["dispute_category"],
    ),
    ("start-missing-matter", ["start", "--as", "clerk", "{registration_without_matter}"], ["matter"]),
    (
        "risk-not-in-mediation",
        ["report-risk", "--as", "mediator", "{case}", RISK_JSON],
        ["不在调解阶段"],
    ),
    (
        "risk-by-clerk",
        ["report-risk", "--as", "clerk", "{case}", RISK_JSON],
        ["只有承办案件的人民调解组织可以报告风险"],
    ),
    (
        "json-syntax",
        ["complete", "--as", "clerk", "{case}", "screen_case", '{"dispute_category": '],
        ["JSON 格式错误（第1行"],
    ),
    (
        "json-array",
        ["complete", "--as", "clerk", "{case}", "screen_case", '["citizen_property"]'],
        ["JSON 数据必须是一个对象"],
    ),
    ("json-array-start", ["start", "--as", "clerk", "[]"], ["JSON 数据必须是一个对象"]),
    (
        "missing-file",
        ["complete", "--as", "clerk", "{case}", "screen_case", "@" + MISSING_FILE],
        ["无法读取文件", "no-such-file.json"],
    ),
    ("missing-file-start", ["start", "--as", "clerk", "@" + MISSING_FILE], ["无法读取文件"]),
    (
        "start-as-mediator",
        ["start", "--as", "mediator", "{registration}"],
        ["只有信访部门经办人可以登记信访事项"],
    ),
    (
        "start-as-leader",
        ["start", "--as", "leader", "{registration}"],
        ["只有信访部门经办人可以登记信访事项"],
    ),
]


def fill(arg: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        arg = arg.replace("{" + key + "}", value)
    return arg


@pytest.mark.parametrize(("args", "fragments"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_refused_and_writes_nothing(
    engine: Engine, cli: Cli, case_no: str, tmp_path: Path, args: list[str], fragments: list[str]
) -> None:
    values = {
        "case": case_no,
        "tmp": str(tmp_path),
        "registration": json.dumps(REGISTRATION, ensure_ascii=False),
        "registration_without_matter": json.dumps(
            {k: v for k, v in REGISTRATION.items() if k != "matter"}, ensure_ascii=False
        ),
    }
    before = snapshot(engine, case_no)
    assert_refused(cli(*(fill(arg, values) for arg in args)), *fragments)
    assert snapshot(engine, case_no) == before


@pytest.mark.parametrize(
    "stdin",
    ['{"dispute_category": ', "[]", "", '{"dispute_category": "no-such"}'],
    ids=["syntax", "array", "empty", "enum"],
)
def test_bad_input_on_stdin_is_refused_and_writes_nothing(
    engine: Engine, cli: Cli, case_no: str, monkeypatch: pytest.MonkeyPatch, stdin: str
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    before = snapshot(engine, case_no)
    assert_refused(cli("complete", "--as", "clerk", case_no, "screen_case", "-"))
    assert snapshot(engine, case_no) == before


def test_a_file_that_is_not_utf8_is_refused_and_writes_nothing(
    engine: Engine, cli: Cli, case_no: str, tmp_path: Path
) -> None:
    """A GBK file (as saved by many Chinese Windows editors) is bad input, not a crash."""
    path = tmp_path / "gbk.json"
    path.write_bytes(json.dumps(REGISTRATION, ensure_ascii=False).encode("gbk"))
    before = snapshot(engine, case_no)
    assert_refused(cli("start", "--as", "clerk", f"@{path}"), "gbk.json")
    assert snapshot(engine, case_no) == before


# ---- mediation: extension days ------------------------------------------------------------------------


@pytest.fixture
def mediating(cli: Cli, case_no: str) -> str:
    cli.advance_to(case_no, "mediate")
    return case_no


def test_extension_days_above_the_laws_thirty_are_invalid_data(
    engine: Engine, cli: Cli, mediating: str
) -> None:
    before = snapshot(engine, mediating)
    data = json.dumps({**EXTEND, "extension_days": 31}, ensure_ascii=False)
    assert_refused(cli("complete", "--as", "mediator", mediating, "mediate", data), "extension_days")
    assert snapshot(engine, mediating) == before


def test_an_extension_beyond_thirty_days_is_refused(engine: Engine, cli: Cli, mediating: str) -> None:
    cli.complete(mediating, "mediate", "mediator", {**EXTEND, "extension_days": 10})
    assert open_task_names(engine, mediating) == ["mediate"]
    before = snapshot(engine, mediating)
    data = json.dumps({**EXTEND, "extension_days": 6}, ensure_ascii=False)
    line = assert_refused(
        cli("complete", "--as", "mediator", mediating, "mediate", data),
        "调解期限合计不得超过30日",
        "已延长10日，最多还可延长5日",
    )
    after = snapshot(engine, mediating)
    # nothing of the step is stored: no new revision, state, task, document or case
    unchanged = ("cases", "open_tasks", "documents", "revision", "state", "status")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    # the refusal itself is recorded against the case, as the runtime's step promises
    assert after["audit_events"] == before["audit_events"] + 1
    assert after["last_error"] is not None and line == f"错误：{after['last_error']}"
    with Session(engine) as session:
        last = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
        assert last is not None and last.action == "error" and last.detail["message"] == after["last_error"]
    # the five days still allowed are accepted
    cli.complete(mediating, "mediate", "mediator", {**EXTEND, "extension_days": 5})
    assert get_case(engine, mediating).last_error is None
    assert open_task_names(engine, mediating) == ["mediate"]


def test_scenario_run_on_a_named_server_database_needs_wipe(engine: Engine, cli: Cli) -> None:
    if engine.dialect.name == "sqlite":
        return
    result = cli("scenario", "run", str(SUCCESS_SCENARIO))
    assert result.status == 2 and "--wipe" in result.err


def test_db_revision_writes_nothing_when_models_and_migrations_agree(cli: Cli, project_root: Path) -> None:
    versions = project_root / "orchestration" / "store" / "migrations" / "versions"
    before = sorted(versions.glob("*.py"))
    assert cli.ok("db", "revision", "-m", "nothing to do").strip() == "模型与数据库一致，无需新迁移"
    assert sorted(versions.glob("*.py")) == before


# ---- organisations' document settings and the case file -------------------------------------------


def test_an_administrator_sets_an_organisations_document_prefix(runtime: Runtime, cli: Cli) -> None:
    before = {o["code"]: o for o in json.loads(cli.ok("org", "show"))}
    assert before["540102001-tw"]["document_prefix"] == "城八"
    changed = json.loads(cli.ok("org", "set", "--as", "admin", "540102001-tw", "--prefix", "城关八廓"))
    assert changed["document_prefix"] == "城关八廓" and changed["seal_name"] == "八廓街道人民调解委员会"
    case_no = cli.start()
    cli.advance_to(case_no, "mediate")
    with runtime.sessions() as session:
        numbers = set(session.scalars(select(Document.number)))
    assert numbers == {
        "(2026)城八访调移字第1号",
        "(2026)城关八廓访调受字第1号",
        "(2026)城关八廓人调告字第1号",
    }
    # another mediation organisation may not take it: their agreements would share numbers
    assert_refused(cli("org", "set", "--as", "admin", "540102002-tw", "--prefix", "城关八廓"), "已由")
    assert_refused(cli("org", "set", "--as", "admin", "540102002-tw", "--prefix", "(2026)"), "文号前缀")
    assert_refused(cli("org", "set", "--as", "clerk", "540102002-tw", "--prefix", "城吉二"), "不是系统管理员")


def test_the_case_file_is_exported(runtime: Runtime, cli: Cli, case_no: str, tmp_path: Path) -> None:
    cli.advance_to(case_no, "feedback_success")
    out = tmp_path / "卷宗.pdf"
    assert "卷宗已导出" in cli.ok("dossier", "--as", "mediator", case_no, str(out))
    assert out.read_bytes().startswith(b"%PDF")
    assert_refused(cli("dossier", "--as", "mediator2", case_no, str(tmp_path / "x.pdf")), "无权")
    assert not (tmp_path / "x.pdf").exists()


# ---- deploying and exporting the procedure's files ----------------------------------------------------


def _project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of processes/ and forms/ that `fangtiao deploy` reads."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "processes", root / "processes")
    shutil.copytree(PROJECT_ROOT / "forms", root / "forms")
    monkeypatch.setenv("FANGTIAO_PROCESSES_DIR", str(root / "processes"))
    monkeypatch.setenv("FANGTIAO_FORMS_DIR", str(root / "forms"))
    return root


def test_deploy_runs_the_checks_and_fails_with_the_findings(
    engine: Engine, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project_copy(tmp_path, monkeypatch)
    bpmn = root / "processes" / "referral.bpmn"
    bpmn.write_text(
        bpmn.read_text(encoding="utf-8").replace('value="mediate"/>', 'value="mediate_x"/>'), encoding="utf-8"
    )
    result = cli("deploy")
    assert (result.status, result.out) == (2, "")
    assert result.err.splitlines() == [
        "错误：流程检查发现 1 处错误，未部署",
        "  错误 referral.bpmn 依法调解（mediate）：表单 mediate_x 不存在（应有 forms/mediate_x.json）",
        "  提示 forms/mediate.json：表单 mediate 没有被任何用户任务使用",
    ]
    with Session(engine) as session:
        assert count(session, ProcessVersion) == 0


def test_deploy_refuses_a_hostile_file(
    engine: Engine, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project_copy(tmp_path, monkeypatch)
    (root / "processes" / "scope.dmn").write_text(
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
        encoding="utf-8",
    )
    result = cli("deploy")
    assert result.status == 2 and result.err.startswith("错误：文件“scope.dmn”含有 DOCTYPE 或 ENTITY 声明")
    assert len(result.err.splitlines()) == 1
    with Session(engine) as session:
        assert count(session, ProcessVersion) == 0


def test_an_exported_version_deploys_unchanged_and_a_change_to_it_is_a_new_version(
    engine: Engine, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("deploy")
    exported = tmp_path / "exported"
    (exported / "forms").mkdir(parents=True)
    (exported / "forms" / "stale.json").write_text("{}", encoding="utf-8")
    out = cli.ok("export", "1", str(exported))
    assert out.splitlines()[0].startswith("已导出第 1 版的")
    assert "已删除该版本中没有的文件：forms/stale.json" in out
    for folder in ("processes", "forms"):
        expected = sorted(
            str(p.relative_to(PROJECT_ROOT))
            for p in (PROJECT_ROOT / folder).rglob("*.*")
            if p.suffix in (".bpmn", ".dmn", ".json")
            and "examples" not in p.parts
            and "privacy_notices" not in p.parts  # versioned texts of their own, not the procedure's
            and p.name != "scenario.schema.json"
        )
        assert sorted(str(p.relative_to(exported)) for p in (exported / folder).rglob("*.*")) == expected
    # the privacy notices are versioned texts of their own, kept beside the forms but not in a version
    shutil.copytree(PROJECT_ROOT / "forms" / "privacy_notices", exported / "forms" / "privacy_notices")
    monkeypatch.setenv("FANGTIAO_PROCESSES_DIR", str(exported / "processes"))
    monkeypatch.setenv("FANGTIAO_FORMS_DIR", str(exported / "forms"))
    assert cli.ok("deploy").startswith("流程文件未变化，当前为第 1 版")
    form = exported / "forms" / "mediate.json"
    form.write_text(form.read_text(encoding="utf-8").replace("依法调解", "依法开展调解", 1), encoding="utf-8")
    assert cli.ok("deploy").startswith("已部署第 2 版")
    assert cli("export", "3", str(exported)).err == "错误：流程 fangtiao_referral 没有第 3 版\n"


def test_a_leader_extends_the_petition_limit_once(engine: Engine, cli: Cli, case_no: str) -> None:
    assert_refused(cli("extend-petition", "--as", "leader", case_no, "案情复杂"), "尚未受理")
    cli.advance_to(case_no, "guide_divert")  # accepted at screening: the 60 days run
    assert_refused(cli("extend-petition", "--as", "clerk", case_no, "案情复杂"), "分管领导")
    out = cli.ok("extend-petition", "--as", "leader", case_no, "需会同住建部门核实")
    assert out.startswith(f"已延长：{case_no} 信访办理期限至") and "延期告知书" in out
    with Session(engine) as session:
        kinds = list(session.scalars(select(Document.kind)))
    assert kinds == ["extension_notice"]
    assert_refused(cli("extend-petition", "--as", "leader", case_no, "再次"), "不能再次延长")
