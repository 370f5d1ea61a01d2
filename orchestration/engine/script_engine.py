"""The script engine for SpiffWorkflow: deadline functions for expressions, handlers for service tasks, and
the expression rule (orchestration.domain.expressions) enforced on every evaluation."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.task import Task

import handlers.operations  # noqa: F401  (registers the operations)
from handlers import api
from handlers.deadlines import timer_functions
from orchestration.domain import expressions
from orchestration.domain.calendar import EveryDayCalendar, WorkingCalendar
from orchestration.engine.compat import ServiceTaskEngine

ContextFactory = Callable[[Task], api.HandlerContext]
_T = TypeVar("_T")

# The names timer expressions may call, whatever calendar they count with.
FUNCTIONS = frozenset(timer_functions(WorkingCalendar()))
# What eval sees as built-ins: the few an expression may call, so that even an expression that slipped past
# the rule finds no open, eval or __import__.
SAFE_BUILTINS = {name: getattr(builtins, name) for name in expressions.BUILTIN_FUNCTIONS}


def environment(calendar: WorkingCalendar, counted: list[api.Period] | None = None) -> dict[str, Any]:
    """The globals of every expression: the calendar functions (noting the periods they count in `counted`
    when given) and the safe built-ins."""
    return {**timer_functions(calendar, counted), "__builtins__": SAFE_BUILTINS}


def evaluate(
    expression: str,
    data: Mapping[str, Any],
    calendar: WorkingCalendar,
    counted: list[api.Period] | None = None,
) -> Any:
    """An expression of the diagram with `data` as the task's data, as the engine evaluates it; raises
    ExpressionRefused when it breaks the expression rule."""
    expressions.require(expression, FUNCTIONS)
    return eval(expression, {**environment(calendar, counted), **data})


def date_timers(specs: Iterable[BpmnProcessSpec]) -> dict[str, str]:
    """The expression of every date timer (timeDate) of a procedure's processes, by its event's id."""
    return {
        task_spec.bpmn_id: task_spec.event_definition.expression
        for spec in specs
        for task_spec in spec.task_specs.values()
        if task_spec.bpmn_id is not None
        and isinstance(getattr(task_spec, "event_definition", None), TimeDateEventDefinition)
    }


def timer_due(
    expression: str,
    data: Mapping[str, Any],
    calendar: WorkingCalendar,
    counted: list[api.Period] | None = None,
) -> datetime:
    """When a date timer with `expression` falls were `data` the task's data; raises ValueError when the
    expression gives no moment with its time zone (and whatever evaluating it raises)."""
    value = evaluate(expression, data, calendar, counted)
    moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    if moment is None or moment.tzinfo is None:
        raise ValueError(f"定时器表达式“{expression}”得出 {value!r}，不是带时区的日期时间")
    return moment


class UncountedPeriod(ValueError):
    """A date timer whose expression counts no period or several: no document can state its period."""


def timer_period(expression: str, data: Mapping[str, Any], calendar: WorkingCalendar) -> api.Period:
    """The period a date timer with `expression` counts were `data` the task's data: the one its deadline
    function is called with. Raises UncountedPeriod when it counts none or several, for then no single
    period can be written in a document (and whatever evaluating it raises)."""
    counted: list[api.Period] = []
    timer_due(expression, data, calendar, counted)
    if len(counted) != 1:
        raise UncountedPeriod(
            f"定时器表达式“{expression}”计算了{len(counted)}个期间，无法写明它的期间"
            "（应恰好用一次 deadline_days、deadline_working_days 或 deadline_months）"
        )
    return counted[0]


class Timers:
    """The date timers of a case's procedure (expressions by event id) evaluated over the task's `data` as
    the engine evaluates them: how a handler context answers `timer_due` and `timer_period`."""

    def __init__(
        self, expressions: Mapping[str, str], calendar: WorkingCalendar, data: Mapping[str, Any]
    ) -> None:
        self._expressions, self._calendar, self._data = expressions, calendar, data

    def due(self, event: str, data: Mapping[str, Any], *, rest_days: bool = True) -> datetime:
        calendar = self._calendar if rest_days else EveryDayCalendar()
        return self._evaluate(
            event, lambda expression: timer_due(expression, {**self._data, **data}, calendar)
        )

    def period(self, event: str, data: Mapping[str, Any]) -> api.Period:
        return self._evaluate(
            event, lambda expression: timer_period(expression, {**self._data, **data}, self._calendar)
        )

    def _evaluate(self, event: str, evaluate: Callable[[str], _T]) -> _T:
        expression = self._expressions.get(event)
        if expression is None:
            raise api.HandlerError(
                f"流程中没有按日期计时的定时事件“{event}”，无法确定期限，请流程管理员检查流程图"
            )
        try:
            return evaluate(expression)
        except Exception as exc:  # whatever the diagram's expression raises is the diagram's fault
            raise api.HandlerError(f"定时事件“{event}”的期限表达式无法计算：{exc}") from exc


class FangtiaoScriptEngine(ServiceTaskEngine):
    def __init__(self, calendar: WorkingCalendar, context_factory: ContextFactory) -> None:
        super().__init__(environment=TaskDataEnvironment(environment(calendar)))
        self._context_factory = context_factory

    def evaluate(self, task: Task, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        found = expressions.problems(expression, FUNCTIONS)
        if found:
            raise WorkflowTaskException(
                f"表达式“{expression}”不符合表达式规则，未执行：{'；'.join(found)}", task=task
            )
        return super().evaluate(task, expression, external_context)

    def execute(self, task: Task, script: str, external_context: dict[str, Any] | None = None) -> Any:
        # the procedure needs no scripts, and a script could do anything Python can
        raise WorkflowTaskException("流程中不允许脚本（脚本任务或前后置脚本），未执行", task=task)

    def run_service(self, task: Task, name: str, params: dict[str, Any]) -> Any:
        return api.call(name, self._context_factory(task), params)

    def error_message(self, task: Task, exc: Exception) -> str:
        # a handler's refusal is already written for the user
        if isinstance(exc, api.HandlerError):
            return str(exc)
        return super().error_message(task, exc)
