"""What engine/compat.py relies on in SpiffWorkflow: these fail when the library changes under it."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions import timer as timer_module
from SpiffWorkflow.task import Task

from handlers import api
from orchestration.domain.calendar import WorkingCalendar
from orchestration.engine.clock import FrozenClock
from orchestration.engine.compat import EngineDatetime, ServiceTaskEngine, engine_clock
from orchestration.engine.script_engine import FangtiaoScriptEngine
from orchestration.engine.specs import parse_files
from tests.handlers.fakes import FakeContext

# Far from today, so a timer that read the system clock instead of ours could neither be due at the
# time we expect nor fire when we move our clock.
START = datetime(2031, 3, 3, 8, 0, tzinfo=UTC)

DEFINITIONS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="compat_definitions" targetNamespace="http://fangtiao.local/test">
  <bpmn:process id="compat" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="middle"/>
    {middle}
    <bpmn:sequenceFlow id="f2" sourceRef="middle" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

TIMER = """<bpmn:intermediateCatchEvent id="middle" name="等待">
      <bpmn:timerEventDefinition>{definition}</bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>"""

SERVICE = """<bpmn:serviceTask id="middle" name="回显">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="fangtiao/compat_echo" resultVariable="result">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="greeting" type="str" value="'你好，' + name"/>
            <spiffworkflow:parameter id="days" type="int" value="3"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>"""


def workflow(middle: str, engine: PythonScriptEngine) -> BpmnWorkflow:
    spec, subprocesses = parse_files({"compat.bpmn": DEFINITIONS.format(middle=middle)}, "compat")
    wf = BpmnWorkflow(spec, subprocesses, script_engine=engine)
    wf.task_tree.data["name"] = "卓玛"
    return wf


def step(wf: BpmnWorkflow) -> None:
    wf.refresh_timers()
    wf.do_engine_steps()


# ---- timers: SpiffWorkflow reads `datetime.now` from its timer module's global -------------------------


@pytest.fixture
def clock() -> Iterator[FrozenClock]:
    frozen = FrozenClock(START)
    with engine_clock(frozen):
        yield frozen


def test_the_stand_in_is_the_timer_modules_datetime() -> None:
    assert timer_module.datetime is EngineDatetime
    # the module compares what it parses with plain datetimes
    assert isinstance(datetime(2031, 1, 1, tzinfo=UTC), timer_module.datetime)


def test_a_duration_timer_is_due_and_fires_by_our_clock(clock: FrozenClock) -> None:
    wf = workflow(
        TIMER.format(definition='<bpmn:timeDuration>"P1D"</bpmn:timeDuration>'), PythonScriptEngine()
    )
    step(wf)
    (event,) = wf.waiting_events()
    assert datetime.fromisoformat(event.value) == START + timedelta(days=1)
    clock.advance(timedelta(hours=23, minutes=59))
    step(wf)
    assert not wf.completed
    clock.advance(timedelta(minutes=2))
    step(wf)
    assert wf.completed


def test_a_date_timer_fires_by_our_clock(clock: FrozenClock) -> None:
    due = START + timedelta(hours=5)
    definition = f'<bpmn:timeDate>"{due.isoformat()}"</bpmn:timeDate>'
    wf = workflow(TIMER.format(definition=definition), PythonScriptEngine())
    step(wf)
    assert not wf.completed
    clock.set(due + timedelta(seconds=1))
    step(wf)
    assert wf.completed


def test_engine_clock_applies_only_inside_its_block() -> None:
    with engine_clock(FrozenClock(START)):
        assert timer_module.datetime.now(UTC) == START
        with engine_clock(FrozenClock(START + timedelta(days=9))):
            assert timer_module.datetime.now(UTC) == START + timedelta(days=9)
        assert timer_module.datetime.now(UTC) == START
    assert abs(timer_module.datetime.now(UTC) - datetime.now(UTC)) < timedelta(minutes=1)


# ---- service tasks: call_service(task, operation_name=..., operation_params=...) --------------------------


def test_call_service_is_still_the_hook_we_override() -> None:
    parameters = inspect.signature(PythonScriptEngine.call_service).parameters
    assert list(parameters) == ["self", "task", "kwargs"]
    assert parameters["kwargs"].kind is inspect.Parameter.VAR_KEYWORD


def test_the_library_still_hides_a_service_error_behind_a_name_error() -> None:
    """Why ServiceTaskEngine exists; when this fails the library has fixed it and the override may go."""

    class Failing(TaskDataEnvironment):
        def call_service(self, context: dict[str, Any], **kwargs: Any) -> str:
            raise ValueError("服务不可用")

    wf = workflow(SERVICE, PythonScriptEngine(environment=Failing()))
    with pytest.raises(NameError, match="script"):
        wf.do_engine_steps()


class Recording(ServiceTaskEngine):
    def __init__(self, result: Any = None, error: Exception | None = None) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.result = result
        self.error = error

    def run_service(self, task: Task, name: str, params: dict[str, Any]) -> Any:
        self.calls.append((task.task_spec.name, name, params))
        if self.error is not None:
            raise self.error
        return self.result


def test_a_service_task_reaches_run_service_with_its_evaluated_parameters() -> None:
    engine = Recording(result={"回执": "已收到", "days": 3})
    wf = workflow(SERVICE, engine)
    wf.do_engine_steps()
    assert engine.calls == [("middle", "fangtiao/compat_echo", {"greeting": "你好，卓玛", "days": 3})]
    assert wf.completed
    assert wf.last_task is not None and wf.last_task.data["result"] == {"回执": "已收到", "days": 3}


def test_a_service_error_surfaces_with_its_own_message() -> None:
    wf = workflow(SERVICE, Recording(error=ValueError("服务不可用")))
    with pytest.raises(WorkflowTaskException) as caught:
        wf.do_engine_steps()
    assert caught.value.args[0] == "“回显”处理出错：ValueError: 服务不可用"
    assert isinstance(caught.value.__cause__, ValueError)


# ---- our script engine on top: handlers through the registry and their context --------------------------


def fangtiao_engine(monkeypatch: pytest.MonkeyPatch, handler: api.Operation) -> FangtiaoScriptEngine:
    monkeypatch.setitem(api.OPERATIONS, "fangtiao/compat_echo", handler)
    return FangtiaoScriptEngine(
        WorkingCalendar(), lambda task: FakeContext(task.data, task_name=task.task_spec.name)
    )


def test_a_handler_gets_the_context_made_for_its_task_and_the_parameters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def echo(ctx: api.HandlerContext, greeting: str, days: int) -> dict[str, Any]:
        return {"task": ctx.task_name, "name": ctx.data["name"], "greeting": greeting, "days": days}

    wf = workflow(SERVICE, fangtiao_engine(monkeypatch, echo))
    wf.do_engine_steps()
    assert wf.last_task is not None
    assert wf.last_task.data["result"] == {
        "task": "middle",
        "name": "卓玛",
        "greeting": "你好，卓玛",
        "days": 3,
    }


def test_a_handler_refusal_reaches_the_user_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(ctx: object, **params: object) -> None:
        raise api.HandlerError("调解期限合计不得超过30日")

    wf = workflow(SERVICE, fangtiao_engine(monkeypatch, refuse))
    with pytest.raises(WorkflowTaskException) as caught:
        wf.do_engine_steps()
    assert caught.value.args[0] == "调解期限合计不得超过30日"


def test_a_handler_bug_names_the_task_and_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: object, **params: object) -> None:
        raise KeyError("accepted_at")

    wf = workflow(SERVICE, fangtiao_engine(monkeypatch, broken))
    with pytest.raises(WorkflowTaskException) as caught:
        wf.do_engine_steps()
    assert caught.value.args[0] == "“回显”处理出错：KeyError: 'accepted_at'"
