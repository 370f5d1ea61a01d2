"""Live workflows kept between steps, so a step on a case this process saved last need not
restore its state from JSON (the largest part of a step's cost)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from SpiffWorkflow.bpmn import BpmnWorkflow

from orchestration.engine.derived import Derived


class WorkflowCache:
    """Holds a workflow and the rows its state implies, with the case revision it was saved at.

    A workflow is taken out while a step uses it, so no two threads ever touch the same object, and
    put back only after its transaction committed; another process saving the case bumps the
    revision and makes it stale."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[int, tuple[int, BpmnWorkflow, Derived]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, case_id: int, revision: int) -> tuple[BpmnWorkflow, Derived] | None:
        with self._lock:
            entry = self._entries.pop(case_id, None)
        if entry is None or entry[0] != revision:
            return None
        return entry[1], entry[2]

    def put(self, case_id: int, revision: int, workflow: BpmnWorkflow, derived: Derived) -> None:
        with self._lock:
            self._entries[case_id] = (revision, workflow, derived)
            self._entries.move_to_end(case_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
