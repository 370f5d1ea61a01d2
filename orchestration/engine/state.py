"""Instance state without the spec: the spec is stored once per version and cached parsed in memory."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

FORMAT = "fangtiao-state/1"


class StateCodec:
    """Serializes a workflow's own state (tasks, data, events) and restores it onto a cached spec."""

    def __init__(self) -> None:
        self._registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
        self._serializer = BpmnWorkflowSerializer(self._registry)
        # The library keeps its converters only inside the registry's partials; make our own handle.
        self._converter: Any = SPIFF_CONFIG[BpmnWorkflow](BpmnWorkflow, self._registry)

    def dump(self, workflow: BpmnWorkflow) -> str:
        registry = self._registry
        registry._encoder_mode = True
        try:
            dct = WorkflowConverter.to_dict(self._converter, workflow)
            dct["subprocesses"] = self._converter.mapping_to_dict(workflow.subprocesses)
            dct["bpmn_events"] = registry.convert(workflow.bpmn_events)
            dct["format"] = FORMAT
            return json.dumps(
                dct, cls=self._serializer._encoder_cls, ensure_ascii=False, separators=(",", ":")
            )
        finally:
            registry._encoder_mode = False

    def load(
        self, text: str, spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]
    ) -> BpmnWorkflow:
        dct = json.loads(text)
        if dct.pop("format", None) != FORMAT:
            raise ValueError("实例状态格式无法识别")
        converter = self._converter
        workflow = BpmnWorkflow(spec, dict(subprocess_specs), deserializing=True)
        workflow.tasks = converter.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        converter.set_default_attributes(workflow, dct)
        converter.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self._registry.restore(dct.pop("bpmn_events", []))
        return workflow
