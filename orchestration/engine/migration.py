"""Moving a running case's workflow from one version of its process to another, with SpiffWorkflow's own
diff and migration (`SpiffWorkflow.bpmn.util.diff`).

`diff_workflow` compares the two specs (a `SpecDiff`, which converts every task spec of both) and then
the instance (a `WorkflowDiff`); the spec comparison is the same for every case of the pair, so it is made
once here and each case gets only its `WorkflowDiff`, exactly as `diff_workflow` builds them.

A case can move when no task it has passed or stands on was removed, and no task it stands on changed in
a way a reset cannot carry: `migrate_workflow` resets the READY and WAITING tasks (a ready user task, a
waiting timer) onto the new spec, so a changed form, lane or timer expression is taken up (the timer's
expression is evaluated again, on the case's own data); a task STARTED (a subprocess) keeps its old shape,
and so does the split that made a ready task together with its boundary events: a change there cannot be
taken up mid-way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from orchestration.engine.changes import ASPECTS
from orchestration.engine.specs import ParsedVersion
from orchestration.errors import Conflict

# where a case stands: what it is doing or waiting for
CURRENT = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
# what migrate_workflow resets onto the new spec
RESET = TaskState.READY | TaskState.WAITING


class MigrationRefused(Conflict):
    """The case cannot move; nothing of it was changed. The message says why."""


@dataclass(frozen=True)
class Verdict:
    movable: bool
    reason: str  # why not, or "" when it can move


def step_name(task: Task) -> str:
    spec = task.task_spec
    if spec.bpmn_name:
        return str(spec.bpmn_name)
    # SpiffWorkflow's own specs (the split holding a task's boundary events) are named after the task
    owner = spec.name.split(".")[0]
    owner_spec = task.workflow.spec.task_specs.get(owner)
    return str(owner_spec.bpmn_name) if owner_spec is not None and owner_spec.bpmn_name else spec.name


@dataclass(frozen=True)
class _Part:
    """The workflow or one of its subprocesses, with its diff against the target (None: its spec is gone)."""

    workflow: Any
    diff: WorkflowDiff | None
    spec_diff: SpecDiff | None
    target: BpmnProcessSpec | None


def current_steps(workflow: BpmnWorkflow) -> list[str]:
    """What the case is doing: its ready user tasks, or else what it waits for."""
    tasks = workflow.get_tasks(state=TaskState.READY, manual=True)
    tasks = tasks or workflow.get_tasks(state=TaskState.WAITING)
    return list(dict.fromkeys(step_name(t) for t in tasks))


class Migration:
    """Cases of one version moving to another."""

    def __init__(self, registry: object, source: ParsedVersion, target: ParsedVersion) -> None:
        self.source, self.target = source, target
        self.spec_diff = SpecDiff(registry, source.spec, target.spec)
        self.subprocess_diffs = {
            name: SpecDiff(registry, spec, target.subprocess_specs[name])
            for name, spec in source.subprocess_specs.items()
            if name in target.subprocess_specs
        }

    def _parts(self, workflow: BpmnWorkflow) -> list[_Part]:
        """As `diff_workflow` returns them: the workflow's own diff and one per subprocess."""
        parts = [_Part(workflow, WorkflowDiff(workflow, self.spec_diff), self.spec_diff, self.target.spec)]
        for subprocess in workflow.subprocesses.values():
            name = subprocess.spec.name
            spec_diff = self.subprocess_diffs.get(name)
            diff = WorkflowDiff(subprocess, spec_diff) if spec_diff is not None else None
            parts.append(_Part(subprocess, diff, spec_diff, self.target.subprocess_specs.get(name)))
        return parts

    def verdict(self, workflow: BpmnWorkflow) -> Verdict:
        parts = self._parts(workflow)
        for part in parts:
            if part.diff is None:
                return Verdict(False, f"子流程 {part.workflow.spec.name} 在新版本中已删除")
            # the step waiting now is named first: a task with boundary events also has a finished split
            # of the same name before it
            for task in part.diff.removed:
                if task.state & CURRENT:
                    return Verdict(False, f"当前步骤“{step_name(task)}”在新版本中已删除")
            for task in part.diff.removed:
                if task.state & TaskState.FINISHED_MASK:
                    return Verdict(False, f"已办理的步骤“{step_name(task)}”在新版本中已删除，无法对应")
        for part in parts:
            assert part.diff is not None and part.spec_diff is not None
            for task in part.workflow.get_tasks(state=RESET, skip_subprocesses=True):
                # a boundary event added, removed or rewired on a task would not reach a case already on it
                holder = task.parent.task_spec
                if isinstance(holder, BoundaryEventSplit) and holder in part.spec_diff.changed:
                    message = f"当前步骤“{step_name(task)}”的边界事件在新版本中已修改，不能在办理中途迁移"
                    return Verdict(False, message)
            for task in part.diff.changed:
                if not task.state & CURRENT:
                    continue
                changes = part.spec_diff.changed[task.task_spec]
                if not task.state & RESET or "typename" in changes:
                    aspects = "、".join(dict.fromkeys(ASPECTS.get(c, c) for c in changes))
                    return Verdict(
                        False, f"当前步骤“{step_name(task)}”在新版本中已修改（{aspects}），不能在办理中途迁移"
                    )
        return Verdict(True, "")

    def apply(self, workflow: BpmnWorkflow) -> None:
        """`migrate_workflow` on the workflow and each of its subprocesses (the verdict must allow it). Run
        it where timers read the engine's clock and with the script engine set: the reset evaluates them."""
        for part in reversed(self._parts(workflow)):
            assert part.diff is not None and part.target is not None
            migrate_workflow(part.diff, part.workflow, part.target)
        workflow.subprocess_specs = dict(self.target.subprocess_specs)

    def stray_steps(self, workflow: BpmnWorkflow) -> list[str]:
        """Tasks still on a spec the target version does not have (none, after `apply`)."""
        specs = [self.target.spec, *self.target.subprocess_specs.values()]
        known = {id(task_spec) for spec in specs for task_spec in spec.task_specs.values()}
        tasks = [*workflow.get_tasks(), *(t for sp in workflow.subprocesses.values() for t in sp.get_tasks())]
        return sorted({step_name(t) for t in tasks if id(t.task_spec) not in known})
