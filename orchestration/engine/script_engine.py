"""The script engine for SpiffWorkflow: deadline functions for expressions, handlers for service tasks, and
the expression rule (orchestration.domain.expressions) enforced on every evaluation."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.task import Task

import handlers.operations  # noqa: F401  (registers the operations)
from handlers import api
from handlers.deadlines import timer_functions
from orchestration.domain import expressions
from orchestration.domain.calendar import WorkingCalendar
from orchestration.engine.compat import ServiceTaskEngine

ContextFactory = Callable[[Task], api.HandlerContext]

# The names timer expressions may call, whatever calendar they count with.
FUNCTIONS = frozenset(timer_functions(WorkingCalendar()))
# What eval sees as built-ins: the few an expression may call, so that even an expression that slipped past
# the rule finds no open, eval or __import__.
SAFE_BUILTINS = {name: getattr(builtins, name) for name in expressions.BUILTIN_FUNCTIONS}


def environment(calendar: WorkingCalendar) -> dict[str, Any]:
    """The globals of every expression: the calendar functions and the safe built-ins."""
    return {**timer_functions(calendar), "__builtins__": SAFE_BUILTINS}


def evaluate(expression: str, data: Mapping[str, Any], calendar: WorkingCalendar) -> Any:
    """An expression of the diagram with `data` as the task's data, as the engine evaluates it; raises
    ExpressionRefused when it breaks the expression rule."""
    expressions.require(expression, FUNCTIONS)
    return eval(expression, {**environment(calendar), **data})


def date_timers(specs: Iterable[BpmnProcessSpec]) -> dict[str, str]:
    """The expression of every date timer (timeDate) of a procedure's processes, by its event's id."""
    return {
        task_spec.bpmn_id: task_spec.event_definition.expression
        for spec in specs
        for task_spec in spec.task_specs.values()
        if task_spec.bpmn_id is not None
        and isinstance(getattr(task_spec, "event_definition", None), TimeDateEventDefinition)
    }


def timer_due(expression: str, data: Mapping[str, Any], calendar: WorkingCalendar) -> datetime:
    """When a date timer with `expression` falls were `data` the task's data; raises ValueError when the
    expression gives no moment with its time zone (and whatever evaluating it raises)."""
    value = evaluate(expression, data, calendar)
    moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    if moment is None or moment.tzinfo is None:
        raise ValueError(f"定时器表达式“{expression}”得出 {value!r}，不是带时区的日期时间")
    return moment


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
