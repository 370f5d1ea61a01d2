"""What changed from one version of a process to the next: elements added, removed and changed (by
SpiffWorkflow's own SpecDiff, which also aligns a renamed element with its old self), deadlines (timer
expressions) changed, forms and scenarios changed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.diff import SpecDiff
from SpiffWorkflow.specs.base import TaskSpec

from orchestration.domain.procedure import form_texts, scenario_texts
from orchestration.engine.specs import ParsedVersion

# SpecDiff's names for the attributes of a task spec, as a policy officer would say them
ASPECTS = {
    "typename": "类型",
    "bpmn_name": "名称",
    "name": "标识",
    "lane": "泳道",
    "extensions": "扩展属性（表单、服务操作等）",
    "event_definition": "事件（期限等）",
    "cond_task_specs": "条件",
    "default_task_spec": "默认流",
    "inputs": "连线",
    "outputs": "连线",
    "cancel_activity": "是否中断",
    "operation_name": "服务操作",
    "operation_params": "服务参数",
    "result_variable": "结果变量",
    "decision_ref": "决策表",
}


@dataclass(frozen=True)
class Element:
    """A BPMN element: its id (what the modeler highlights), name and kind (the BPMN tag, e.g. userTask)."""

    id: str
    name: str
    kind: str
    changes: tuple[str, ...] = ()  # for a changed element: what about it changed


@dataclass(frozen=True)
class ChangeSummary:
    added: list[Element] = field(default_factory=list)
    removed: list[Element] = field(default_factory=list)
    changed: list[Element] = field(default_factory=list)
    deadlines_changed: list[str] = field(default_factory=list)
    forms_changed: list[str] = field(default_factory=list)
    scenarios_changed: list[str] = field(default_factory=list)


def summarise(
    registry: object,
    old: ParsedVersion,
    new: ParsedVersion,
    old_files: Mapping[str, str],
    new_files: Mapping[str, str],
) -> ChangeSummary:
    """`registry` is the serializer registry SpecDiff compares task specs with."""
    summary = ChangeSummary()
    pairs = [(old.spec, new.spec)]
    pairs += [(spec, new.subprocess_specs.get(name)) for name, spec in old.subprocess_specs.items()]
    pairs += [(None, spec) for name, spec in new.subprocess_specs.items() if name not in old.subprocess_specs]
    for before, after in pairs:
        _elements(summary, registry, before, after)
    for elements in (summary.added, summary.removed, summary.changed):
        elements.sort(key=lambda e: e.id)
    summary.forms_changed.extend(_texts_changed(form_texts(old_files), form_texts(new_files)))
    summary.scenarios_changed.extend(_texts_changed(scenario_texts(old_files), scenario_texts(new_files)))
    return summary


def _elements(
    summary: ChangeSummary, registry: object, before: BpmnProcessSpec | None, after: BpmnProcessSpec | None
) -> None:
    if before is None or after is None:
        gone = before is not None
        only = before if before is not None else after
        assert only is not None
        for spec in _visible(only.task_specs.values()):
            (summary.removed if gone else summary.added).append(_element(spec))
            summary.deadlines_changed.extend(_timer_line(spec, None) if gone else _timer_line(None, spec))
        return
    diff = SpecDiff(registry, before, after)
    for spec in _visible(diff.added):
        summary.added.append(_element(spec))
        summary.deadlines_changed.extend(_timer_line(None, spec))
    for spec in _visible(diff.removed):
        summary.removed.append(_element(spec))
        summary.deadlines_changed.extend(_timer_line(spec, None))
    for spec, attributes in diff.changed.items():
        aligned = diff.alignment[spec]
        if spec.bpmn_id is None or aligned is None:
            continue
        aspects = tuple(dict.fromkeys(ASPECTS.get(a, a) for a in attributes))
        summary.changed.append(_element(aligned, aspects))
        if "event_definition" in attributes:
            summary.deadlines_changed.extend(_timer_line(spec, aligned))


def _visible(specs: Iterable[TaskSpec]) -> list[TaskSpec]:
    """The specs that are BPMN elements (SpiffWorkflow adds internal ones without a BPMN id)."""
    return sorted((s for s in specs if s.bpmn_id is not None), key=lambda s: s.bpmn_id)


def _element(spec: TaskSpec, changes: tuple[str, ...] = ()) -> Element:
    typename = type(spec).__name__
    return Element(spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, typename[0].lower() + typename[1:], changes)


def _timer(spec: TaskSpec | None) -> str | None:
    definition = getattr(spec, "event_definition", None)
    return definition.expression if isinstance(definition, TimerEventDefinition) else None


def _timer_line(old: TaskSpec | None, new: TaskSpec | None) -> list[str]:
    before, after = _timer(old), _timer(new)
    if before == after:
        return []
    spec = new if new is not None else old
    assert spec is not None
    name = spec.bpmn_name or spec.bpmn_id
    if before is None:
        return [f"{name}（新增）：{after}"]
    if after is None:
        return [f"{name}（删除）：{before}"]
    return [f"{name}：{before} → {after}"]


def _texts_changed(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Names added, removed or changed in meaning (JSON compared parsed, so formatting does not count)."""
    lines = []
    for name in sorted(old.keys() | new.keys()):
        if name not in old:
            lines.append(f"{name}（新增）")
        elif name not in new:
            lines.append(f"{name}（删除）")
        elif _parsed(old[name]) != _parsed(new[name]):
            lines.append(f"{name}（修改）")
    return lines


def _parsed(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
