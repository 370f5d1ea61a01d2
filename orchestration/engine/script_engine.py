"""The script engine for SpiffWorkflow: deadline functions for expressions, handlers for service tasks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

import handlers.operations  # noqa: F401  (registers the operations)
from handlers import registry
from handlers.context import HandlerContext
from handlers.deadlines import timer_functions
from orchestration.domain.calendar import WorkingCalendar

ContextFactory = Callable[[Any], HandlerContext]


class FangtiaoScriptEngine(PythonScriptEngine):
    """Calls our handlers directly, so a handler's own message reaches the user instead of the
    library's `NameError: name 'script' is not defined`."""

    def __init__(self, calendar: WorkingCalendar, context_factory: ContextFactory) -> None:
        super().__init__(environment=TaskDataEnvironment(timer_functions(calendar)))
        self._context_factory = context_factory

    def call_service(self, task: Any, **kwargs: Any) -> str:
        name = kwargs["operation_name"]
        params = {key: spec["value"] for key, spec in kwargs["operation_params"].items()}
        try:
            result = registry.call(name, self._context_factory(task), params)
        except registry.HandlerError as exc:
            raise WorkflowTaskException(str(exc), task=task, exception=exc) from exc
        except Exception as exc:
            message = (
                f"“{task.task_spec.bpmn_name or task.task_spec.name}”处理出错：{type(exc).__name__}: {exc}"
            )
            raise WorkflowTaskException(message, task=task, exception=exc) from exc
        return json.dumps(result, ensure_ascii=False)
