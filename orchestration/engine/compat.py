"""The one place that patches or extends SpiffWorkflow (3.2). tests/orchestration/engine/test_compat.py
fails when the library changes under either of them.

* Timers read "now" as `datetime.now(timezone.utc)` from their module's global `datetime`, with no
  hook: a stand-in for that global makes them fire by our clock, which `engine_clock` sets.
* `PythonScriptEngine.call_service` hands the operation to its environment and, when that raises,
  hides the error behind `NameError: name 'script' is not defined`; `ServiceTaskEngine` replaces it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, tzinfo
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions import timer as timer_module
from SpiffWorkflow.task import Task

from orchestration.engine.clock import Clock, SystemClock

# ---- timers ---------------------------------------------------------------------------------------

_SYSTEM_CLOCK = SystemClock()
_engine_clock: ContextVar[Clock] = ContextVar("engine_clock", default=_SYSTEM_CLOCK)


class _EngineDatetimeMeta(type):
    def __instancecheck__(cls, instance: object) -> bool:
        # the timer module asks `isinstance(x, datetime)` of plain datetimes, such as our `now` returns
        return isinstance(instance, datetime)


class EngineDatetime(datetime, metaclass=_EngineDatetimeMeta):
    """Stands in for the `datetime` name of SpiffWorkflow's timer module."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        moment = _engine_clock.get().now()
        return moment.astimezone(tz) if tz is not None else moment


timer_module.datetime = EngineDatetime


@contextmanager
def engine_clock(clock: Clock) -> Iterator[None]:
    """Timers started or checked inside this block read `clock`; elsewhere the system clock."""
    token = _engine_clock.set(clock)
    try:
        yield
    finally:
        _engine_clock.reset(token)


# ---- service tasks --------------------------------------------------------------------------------


class ServiceTaskEngine(PythonScriptEngine):
    """A script engine whose service tasks call `run_service` directly. Whatever it raises reaches the
    workflow as a `WorkflowTaskException` carrying `error_message`, instead of the library's NameError."""

    def call_service(self, task: Task, **kwargs: Any) -> str:
        # the library's ServiceTask passes the evaluated parameters as {name: {"value", "type"}}
        name: str = kwargs["operation_name"]
        specs: Mapping[str, Mapping[str, Any]] = kwargs["operation_params"]
        params = {key: spec["value"] for key, spec in specs.items()}
        try:
            result = self.run_service(task, name, params)
        except Exception as exc:
            raise WorkflowTaskException(self.error_message(task, exc), task=task, exception=exc) from exc
        # the library json.loads what call_service returns into the task's result variable
        return json.dumps(result, ensure_ascii=False)

    def run_service(self, task: Task, name: str, params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def error_message(self, task: Task, exc: Exception) -> str:
        return f"“{task.task_spec.bpmn_name or task.task_spec.name}”处理出错：{type(exc).__name__}: {exc}"
