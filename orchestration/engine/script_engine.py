"""The script engine for SpiffWorkflow: deadline functions for expressions, handlers for service tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment
from SpiffWorkflow.task import Task

import handlers.operations  # noqa: F401  (registers the operations)
from handlers import api
from handlers.deadlines import timer_functions
from orchestration.domain.calendar import WorkingCalendar
from orchestration.engine.compat import ServiceTaskEngine

ContextFactory = Callable[[Task], api.HandlerContext]


class FangtiaoScriptEngine(ServiceTaskEngine):
    def __init__(self, calendar: WorkingCalendar, context_factory: ContextFactory) -> None:
        super().__init__(environment=TaskDataEnvironment(timer_functions(calendar)))
        self._context_factory = context_factory

    def run_service(self, task: Task, name: str, params: dict[str, Any]) -> Any:
        return api.call(name, self._context_factory(task), params)

    def error_message(self, task: Task, exc: Exception) -> str:
        # a handler's refusal is already written for the user
        if isinstance(exc, api.HandlerError):
            return str(exc)
        return super().error_message(task, exc)
