"""The expression rule at run time: the script engine refuses what the checks would have refused, even in a
version stored without them, and eval finds no dangerous built-ins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.task import Task

from handlers.api import Period
from orchestration.domain.calendar import WorkingCalendar
from orchestration.domain.procedure import read_directories
from orchestration.engine.runtime import Runtime
from orchestration.engine.script_engine import FangtiaoScriptEngine, UncountedPeriod, timer_period
from orchestration.engine.specs import latest_version, parse_files, store_version
from orchestration.errors import ProcedureError
from tests.helpers import SUCCESS_PATH, actor, advance_to, case_snapshot, complete, open_task, start

ROOT = Path(__file__).resolve().parents[3]
SPEC, SUBPROCESSES = parse_files(read_directories(ROOT / "processes", ROOT / "forms"))


def task_with(data: dict[str, Any]) -> Task:
    task: Task = BpmnWorkflow(SPEC, SUBPROCESSES).task_tree
    task.data = data
    return task


def engine() -> FangtiaoScriptEngine:
    def no_context(task: Any) -> Any:
        raise AssertionError("no service call expected")

    return FangtiaoScriptEngine(WorkingCalendar(), no_context)


def test_allowed_expressions_evaluate() -> None:
    task = task_with({"acceptance": {"accepted_at": "2026-11-02T09:00:00+08:00", "days": 15}})
    value = engine().evaluate(task, 'deadline_days(acceptance["accepted_at"], acceptance["days"] - 5)')
    assert value == "2026-11-12T23:59:59+08:00"


@pytest.mark.parametrize("expression", ['__import__("os").getcwd()', 'open("/etc/passwd")', "().__class__"])
def test_refused_expressions_are_never_evaluated(expression: str) -> None:
    with pytest.raises(WorkflowTaskException, match="不符合表达式规则，未执行"):
        engine().evaluate(task_with({}), expression)


START = {"start": "2026-11-02T09:00:00+08:00", "extension_days": 2}


@pytest.mark.parametrize(
    ("expression", "period"),
    [
        ("deadline_days(start, 15 + extension_days)", Period(17, "日")),
        ("deadline_working_days(start, 5)", Period(5, "个工作日")),
        ("deadline_months(start, 1)", Period(1, "个月")),
        # the warning a working day before is not a period of its own
        ("warning_time(deadline_days(start, 15), 1)", Period(15, "日")),
    ],
)
def test_a_timer_states_the_period_its_deadline_function_counts(expression: str, period: Period) -> None:
    assert timer_period(expression, START, WorkingCalendar()) == period


def test_a_period_is_written_as_the_law_writes_it() -> None:
    assert (str(Period(5, "个工作日")), str(Period(15, "日"))) == ("5个工作日", "15日")


@pytest.mark.parametrize(
    ("expression", "count"),
    [("start", 0), ("deadline_days(deadline_working_days(start, 1), 2)", 2)],
)
def test_a_timer_counting_no_single_period_states_none(expression: str, count: int) -> None:
    with pytest.raises(UncountedPeriod, match=f"计算了{count}个期间，无法写明它的期间"):
        timer_period(expression, START, WorkingCalendar())


def test_scripts_are_never_run() -> None:
    with pytest.raises(WorkflowTaskException, match="不允许脚本"):
        engine().execute(task_with({}), "x = 1")


def test_eval_sees_only_the_safe_builtins() -> None:
    environment = engine().environment
    assert environment.evaluate("len([1, 2])", {}) == 2
    for name in ("open", "__import__", "eval", "getattr"):
        with pytest.raises(NameError):
            environment.evaluate(name, {})


def test_a_stored_version_breaking_the_rule_fails_its_step_and_stores_nothing(runtime: Runtime) -> None:
    """A version written before the rule existed (stored here without the checks) cannot run a condition
    outside it: the step is refused and the case is as it was."""
    with runtime.transaction() as session:
        current = latest_version(session)
        assert current is not None
        files = dict(current.files)
        files["referral.bpmn"] = files["referral.bpmn"].replace(
            'consent == "agree"', 'consent == "agree" and open("/etc/passwd")'
        )
        store_version(session, files, current.process_id, "test", runtime.clock.now())
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "guide_divert")
    before = case_snapshot(runtime, case_id)
    _, username, data = next(step for step in SUCCESS_PATH if step[0] == "guide_divert")
    with pytest.raises(ProcedureError, match="不符合表达式规则"):
        complete(runtime, task.id, data, actor(runtime, username))
    after = case_snapshot(runtime, case_id)
    assert {k: v for k, v in after.items() if k not in ("audits", "last_error")} == {
        k: v for k, v in before.items() if k not in ("audits", "last_error")
    }
    assert open_task(runtime, case_id, "guide_divert").id == task.id
