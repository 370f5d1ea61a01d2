"""Every scenario in processes/scenarios passes on each database; one written wrong fails, saying where."""

from __future__ import annotations

import functools
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from orchestration.domain import scenario_schema
from orchestration.domain.access import Viewer
from orchestration.domain.calendar import SHANGHAI
from orchestration.domain.procedure import read_directories
from orchestration.engine.specs import SpecCache
from orchestration.services.repository import RepositoryService
from orchestration.services.scenarios import (
    MAX_DIFFERENCES,
    SCENARIO_DIR,
    CaseState,
    Expectations,
    ScenarioRun,
    Setting,
    default_files,
    differences,
    fresh_database,
    run_scenario,
    run_text,
)

FILES = default_files()
Scenario = dict[str, Any]


def load(name: str) -> Scenario:
    scenario: Scenario = json.loads((SCENARIO_DIR / name).read_text(encoding="utf-8"))
    return scenario


def write(tmp_path: Path, scenario: Scenario) -> Path:
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(scenario, ensure_ascii=False), encoding="utf-8")
    return path


def server_url(database_url: str) -> str | None:
    return None if database_url.startswith("sqlite") else database_url


def test_there_are_scenarios() -> None:
    assert len(FILES) >= 25


def test_the_schema_beside_the_scenarios_is_no_scenario() -> None:
    assert scenario_schema.SCHEMA_FILE.parent == SCENARIO_DIR
    assert scenario_schema.SCHEMA_FILE not in FILES
    assert len(FILES) == len(list(SCENARIO_DIR.glob("*.json"))) - 1


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_scenario(path: Path, database_url: str) -> None:
    result = run_scenario(path, server_url(database_url))
    assert result.passed, result.message


def test_every_scenario_passes_on_an_exported_copy_of_the_deployed_version(tmp_path: Path) -> None:
    """What a policy officer exports and commits is the procedure: deployed, exported, read back as files
    and stored as a version again, it passes every scenario it carries. On SQLite only: the files are under
    test here; test_scenario runs the scenarios on both databases."""
    start = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
    run = ScenarioRun(fresh_database(None, tmp_path), start)
    with run.runtime.sessions() as session:
        policy = Viewer.of(run.user(session, "policy"))
    archive = RepositoryService(run.runtime).export(policy, 1)
    exported = tmp_path / "exported"
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        opened.extractall(exported)
    files = read_directories(exported / "processes", exported / "forms")
    scenarios = sorted((exported / "processes" / "scenarios").glob("*.json"))
    assert [p.name for p in scenarios] == [p.name for p in FILES]
    specs = SpecCache()
    failed = []
    for path in scenarios:
        (tmp_path / path.stem).mkdir()
        setting = Setting(
            functools.partial(fresh_database, None, tmp_path / path.stem), files=files, specs=specs
        )
        result, _ = run_text(path, path.read_text(encoding="utf-8"), setting)
        if not result.passed:
            failed.append(f"{path.name}: {result.message}")
    assert not failed, "\n".join(failed)


def test_a_wrong_expectation_is_reported(tmp_path: Path, database_url: str) -> None:
    original = FILES[0].read_text(encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text(
        original.replace('"due": "2026-11-05T23:59:59+08:00"', '"due": "2026-11-06T23:59:59+08:00"')
    )
    result = run_scenario(broken, server_url(database_url))
    assert not result.passed
    assert "期望 2026-11-06T23:59:59+08:00" in result.message


# ---- the schema ---------------------------------------------------------------------------------------


def test_the_schema_is_a_valid_json_schema_and_matches_the_runner() -> None:
    schema = scenario_schema.schema()
    Draft202012Validator.check_schema(schema)
    defs = schema["$defs"]
    kinds = defs["step"]["properties"]["do"]["enum"]
    assert sorted(kinds) == sorted(
        name.removeprefix("do_") for name in vars(ScenarioRun) if name.startswith("do_")
    )
    assert all(defs[kind]["properties"]["do"] == {"const": kind} for kind in kinds)
    checks = set(defs["expect"]["properties"]) - {"do", "case"}
    assert checks == {name.removeprefix("check_") for name in vars(Expectations) if name.startswith("check_")}
    assert {branch["required"][0] for branch in defs["expect"]["anyOf"]} == checks


def step_index(scenario: Scenario, predicate: Callable[[dict[str, Any]], bool]) -> int:
    return next(i for i, step in enumerate(scenario["steps"]) if predicate(step))


def rename(mapping: dict[str, Any], old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


def first(do: str, key: str) -> Callable[[dict[str, Any]], bool]:
    return lambda step: step["do"] == do and key in step


def break_top_level(s: Scenario) -> str:
    rename(s, "name", "nmae")
    return (
        "场景文件：缺少键“name”\n    场景文件：未知的键“nmae”（是否应为“name”？可写的键：name、clock、steps）"
    )


def break_step_key(s: Scenario) -> str:
    i = step_index(s, first("complete", "data"))
    rename(s["steps"][i], "data", "dat")
    return (
        f"第{i + 1}步（complete）：未知的键“dat”（是否应为“data”？"
        "可写的键：do、case、task、as、data、error、error_contains、field_errors）"
    )


def break_expectation_key(s: Scenario) -> str:
    i = step_index(s, first("expect", "documents"))
    rename(s["steps"][i], "documents", "document")
    return (
        f"第{i + 1}步（expect）：未知的键“document”（是否应为“documents”？"
        "可写的键：do、case、status、outcome、open_tasks、timers、data、documents、document_numbers、"
        "document_issuers、document_content、notifications、notifications_contains、audit、petition_clock）"
    )


def break_an_unknown_expectation(s: Scenario) -> str:
    i = step_index(s, first("expect", "status"))
    s["steps"][i]["Due"] = "2026-11-05T23:59:59+08:00"
    return f"第{i + 1}步（expect）：未知的键“Due”"


def break_open_task_key(s: Scenario) -> str:
    i = step_index(
        s, lambda step: any(isinstance(t, dict) and "due" in t for t in step.get("open_tasks", []))
    )
    tasks = s["steps"][i]["open_tasks"]
    j = next(j for j, task in enumerate(tasks) if isinstance(task, dict) and "due" in task)
    rename(tasks[j], "due", "duee")
    return (
        f"第{i + 1}步（expect）：未知的键“open_tasks[{j}].duee”"
        "（是否应为“due”？可写的键：task、role、org、due）"
    )


def break_petition_clock_key(s: Scenario) -> str:
    i = step_index(s, lambda step: "deadline" in step.get("petition_clock", {}))
    rename(s["steps"][i]["petition_clock"], "deadline", "deadlin")
    return f"第{i + 1}步（expect）：未知的键“petition_clock.deadlin”（是否应为“deadline”？"


def break_type(s: Scenario) -> str:
    i = step_index(s, first("advance", "by"))
    s["steps"][i]["by"] = {"days": "1"}
    return f'第{i + 1}步（advance）：“by.days”应为数字，实际为 "1"'


def break_list_type(s: Scenario) -> str:
    i = step_index(s, first("expect", "documents"))
    s["steps"][i]["documents"] = "referral_letter"
    return f'第{i + 1}步（expect）：“documents”应为列表，实际为 "referral_letter"'


def break_action(s: Scenario) -> str:
    i = step_index(s, first("complete", "task"))
    s["steps"][i]["do"] = "finish"
    return (
        f"第{i + 1}步（finish）：“do”应为 start、complete、report_risk、correct_document、extend_petition、"
        "clock、advance、timers、expect 之一"
    )


def break_time_zone(s: Scenario) -> str:
    s["clock"] = "2026-11-02T09:00:00"
    return '场景文件：“clock”应为带时区的时间，如 2026-11-02T09:00:00+08:00，实际为 "2026-11-02T09:00:00"'


def break_missing_key(s: Scenario) -> str:
    i = step_index(s, first("complete", "task"))
    del s["steps"][i]["task"]
    return f"第{i + 1}步（complete）：缺少键“task”"


def break_empty_expectation(s: Scenario) -> str:
    s["steps"].insert(1, {"do": "expect", "case": 0})
    return "第2步（expect）：没有写任何检查项，至少写一项：status、outcome、open_tasks"


def break_error_forms(s: Scenario) -> str:
    i = step_index(s, first("complete", "task"))
    s["steps"][i] |= {"error": "您无权办理该任务", "error_contains": "无权"}
    return f"第{i + 1}步（complete）：“error”与“error_contains”不能同时写"


SCHEMA_BREAKS = [
    break_top_level,
    break_step_key,
    break_expectation_key,
    break_an_unknown_expectation,
    break_open_task_key,
    break_petition_clock_key,
    break_type,
    break_list_type,
    break_action,
    break_time_zone,
    break_missing_key,
    break_empty_expectation,
    break_error_forms,
]


@pytest.mark.parametrize(
    "breaks", SCHEMA_BREAKS, ids=[b.__name__.removeprefix("break_") for b in SCHEMA_BREAKS]
)
def test_a_scenario_that_breaks_the_schema_fails_naming_the_step_and_key(
    tmp_path: Path, breaks: Callable[[Scenario], str]
) -> None:
    """Checked before any database is made, so no database is given: a run would fail to connect."""
    scenario = load("01_success_full_path.json")
    expected = breaks(scenario)
    result = run_scenario(write(tmp_path, scenario), "postgresql://nobody@127.0.0.1:1/none")
    assert not result.passed
    assert result.message.startswith("场景文件写法有误：\n    ")
    assert expected in result.message, result.message


def test_every_breach_is_reported_not_just_the_first() -> None:
    scenario = load("01_success_full_path.json")
    expected = [break_step_key(scenario), break_type(scenario)]
    assert scenario_schema.problems(scenario) == expected


def test_a_step_that_is_no_object_is_reported_once() -> None:
    scenario = load("01_success_full_path.json")
    scenario["steps"][1] = 3
    assert scenario_schema.problems(scenario) == ["第2步：应为对象，实际为 3"]


# ---- exact and contains -------------------------------------------------------------------------------


def up_to(name: str, predicate: Callable[[dict[str, Any]], bool]) -> Scenario:
    """The scenario cut after the first step that matches, so a test can change that step."""
    scenario = load(name)
    scenario["steps"] = scenario["steps"][: step_index(scenario, predicate) + 1]
    return scenario


REFERRAL = {"kind": "referral", "org": "540102001-tw", "role": "mediator"}
RETURN = {"kind": "return", "org": "540102001-xf", "role": "petition_clerk"}


def with_notifications(key: str, items: list[dict[str, Any]]) -> Scenario:
    scenario = up_to("10_return_accepted.json", lambda step: "notifications" in step)
    scenario["steps"][-1] = {"do": "expect", key: items}
    return scenario


@pytest.mark.parametrize(
    ("key", "items", "failure"),
    [
        ("notifications", [REFERRAL, RETURN], None),
        ("notifications", [RETURN, REFERRAL], None),
        (
            "notifications",
            [RETURN],
            "通知不符：未发出 []，多发出 [('referral', '540102001-tw', 'mediator')]",
        ),
        (
            "notifications",
            [REFERRAL, RETURN, RETURN],
            "通知不符：未发出 [('return', '540102001-xf', 'petition_clerk')]，多发出 []",
        ),
        ("notifications_contains", [RETURN], None),
        ("notifications_contains", [{"kind": "return"}], None),
        (
            "notifications_contains",
            [{"kind": "return", "role": "mediator"}],
            "未发出通知 {'kind': 'return', 'role': 'mediator'}",
        ),
    ],
    ids=[
        "exact",
        "exact-any-order",
        "exact-extra-sent",
        "exact-counts",
        "contains",
        "contains-kind",
        "contains-missing",
    ],
)
def test_notifications_exact_or_contains(
    tmp_path: Path, database_url: str, key: str, items: list[dict[str, Any]], failure: str | None
) -> None:
    result = run_scenario(write(tmp_path, with_notifications(key, items)), server_url(database_url))
    if failure is None:
        assert result.passed, result.message
    else:
        assert not result.passed
        assert f"（expect）：{failure}" in result.message, result.message


FORM_ERROR = "提交的内容有误，请按提示修改"
RISK_REFUSED = "案件当前不在调解阶段，不能报告风险"


@pytest.mark.parametrize(
    ("scenario", "key", "expected", "failure"),
    [
        ("19_risk_report.json", "error", RISK_REFUSED, None),
        (
            "19_risk_report.json",
            "error",
            "案件当前不在调解阶段",
            f"错误信息：期望 '案件当前不在调解阶段'，实际 '{RISK_REFUSED}'",
        ),
        ("19_risk_report.json", "error_contains", "不在调解阶段", None),
        (
            "19_risk_report.json",
            "error_contains",
            "不能办理",
            f"错误信息应包含“不能办理”，实际为“{RISK_REFUSED}”",
        ),
        (
            "19_risk_report.json",
            "field_errors",
            {"description": "请填写风险情况"},
            "字段错误：期望 {'description'",
        ),
        ("10_return_accepted.json", "field_errors", {"return_reason": "请填写不予受理的理由"}, None),
        (
            "10_return_accepted.json",
            "field_errors",
            {"return_reason": "请填写"},
            "字段错误：期望 {'return_reason': '请填写'}",
        ),
        ("10_return_accepted.json", "error", FORM_ERROR, "字段错误：期望 {}，实际 {'return_reason'"),
        ("10_return_accepted.json", "error_contains", "return_reason", None),
        ("10_return_accepted.json", "error_contains", "请填写不予受理的理由", None),
    ],
    ids=[
        "exact-message",
        "exact-message-partial",
        "contains-message",
        "contains-wrong",
        "field-errors-none-given",
        "exact-fields",
        "exact-fields-partial",
        "message-without-fields",
        "contains-field-name",
        "contains-field-message",
    ],
)
def test_errors_exact_or_contains(
    tmp_path: Path, database_url: str, scenario: str, key: str, expected: Any, failure: str | None
) -> None:
    cut = up_to(scenario, lambda step: bool(set(step) & {"error", "field_errors"}))
    failing = cut["steps"][-1]
    for form in ("error", "field_errors", "error_contains"):
        failing.pop(form, None)
    failing[key] = expected
    result = run_scenario(write(tmp_path, cut), server_url(database_url))
    if failure is None:
        assert result.passed, result.message
    else:
        assert not result.passed
        assert failure in result.message, result.message


def test_error_and_field_errors_together(tmp_path: Path, database_url: str) -> None:
    cut = up_to("10_return_accepted.json", lambda step: "field_errors" in step)
    cut["steps"][-1]["error"] = FORM_ERROR
    assert run_scenario(write(tmp_path, cut), server_url(database_url)).passed
    cut["steps"][-1]["error"] = "上传的文件有误"
    result = run_scenario(write(tmp_path, cut), server_url(database_url))
    assert not result.passed
    assert f"错误信息：期望 '上传的文件有误'，实际 '{FORM_ERROR}'" in result.message


def test_a_step_that_should_fail_but_succeeds(tmp_path: Path, database_url: str) -> None:
    cut = up_to("01_success_full_path.json", first("complete", "task"))
    cut["steps"][-1]["error"] = "您无权办理该任务"
    result = run_scenario(write(tmp_path, cut), server_url(database_url))
    assert not result.passed
    assert (
        result.message
        == f'第{len(cut["steps"])}步（complete）：应当出错（{{"error": "您无权办理该任务"}}），但操作成功了'
    )


def test_differences_between_two_runs_are_said_once_where_they_first_show() -> None:
    due = datetime(2026, 11, 17, 23, 59, 59, tzinfo=SHANGHAI)
    mediating = CaseState(
        "running", None, (("mediate", due),), (("调解期限届满", due),), ("referral_letter",)
    )
    sooner = replace(mediating, open_tasks=(("mediate", due - timedelta(days=5)),), timers=())
    ended = replace(mediating, status="completed", outcome="terminated", open_tasks=(), documents=())
    deployed = [(mediating,), (mediating,), (mediating, mediating)]
    draft = [(mediating,), (sooner,), (ended,), (ended,)]
    assert differences(deployed, draft) == [
        "第2步后 案件0：待办 mediate 的期限 已部署版本：2026-11-17 23:59；草稿：2026-11-12 23:59",
        "第2步后 案件0：定时器 已部署版本：调解期限届满 2026-11-17 23:59；草稿：无",
        "第3步后 案件0：案件状态 已部署版本：running；草稿：completed",
        "第3步后 案件0：办理结果 已部署版本：无；草稿：terminated",
        "第3步后 案件0：待办 已部署版本：mediate；草稿：无",
        "第3步后 案件0：文书 已部署版本：referral_letter；草稿：无",
        "第3步后 案件1：只在已部署版本中登记",
        "已部署版本运行了 3 步，草稿运行了 4 步",
    ]
    each_step_another = [(replace(mediating, status=f"s{i}"),) for i in range(40)]
    capped = differences([(mediating,)] * 40, each_step_another)
    assert len(capped) == MAX_DIFFERENCES + 1 and capped[-1] == "……另有 10 处不同"
