"""Instance state without the spec: the spec is stored once per version and cached parsed in memory.

Each state records our format version and the SpiffWorkflow serializer version it was written with, so
that states already in the database can be migrated when either changes (`state_migrations`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from orchestration.engine import state_migrations
from orchestration.engine.state_migrations import StateVersionError


class _StateConverter(BpmnWorkflowConverter):
    """The library's workflow converter without the spec sections: the state restores onto a spec
    passed in, which is three times faster than restoring the spec from its dictionary."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        # BpmnWorkflowConverter.to_dict would convert the whole spec on every save: skip to its base.
        state = WorkflowConverter.to_dict(self, workflow)
        state["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        state["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return {"format": state_migrations.FORMAT, "version": state_migrations.VERSION, **state}

    def from_dict(
        self, dct: dict[str, Any], spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]
    ) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class _CompactEncoder(json.JSONEncoder):
    """Chinese as itself and no blanks, as version 1 wrote it: readable in the database, and a tenth
    smaller than with json.dumps's defaults."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{**kwargs, "ensure_ascii": False, "separators": (",", ":")})


class StateCodec:
    """Serializes a workflow's own state (tasks, data, events) and restores it onto a cached spec,
    migrating states written by an older SpiffWorkflow or an older version of this format."""

    def __init__(self) -> None:
        registry = BpmnWorkflowSerializer.configure({**SPIFF_CONFIG, BpmnWorkflow: _StateConverter})
        self._serializer = BpmnWorkflowSerializer(registry, json_encoder_cls=_CompactEncoder)

    @property
    def registry(self) -> object:
        """The converters of every spec class: what SpiffWorkflow's SpecDiff compares task specs with."""
        return self._serializer.registry

    @property
    def serializer_version(self) -> str:
        """The SpiffWorkflow serializer version states are written with."""
        return str(self._serializer.VERSION)

    def dump(self, workflow: BpmnWorkflow) -> str:
        return str(self._serializer.serialize_json(workflow))

    def rewrite(self, text: str, change: Callable[[Any], Any]) -> str:
        """A stored state with every value passed through `change` (anonymisation), written as `dump`
        writes: values only, so the structure the library restores is untouched."""
        return json.dumps(change(json.loads(text)), cls=_CompactEncoder)

    def load(
        self, text: str, spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]
    ) -> BpmnWorkflow:
        state = json.loads(text)
        version, serializer_version = state_migrations.read_versions(state)
        if serializer_version != self.serializer_version:
            self._migrate_library(state, serializer_version, spec, subprocess_specs)
        state_migrations.upgrade(state, version)
        return self._serializer.from_dict(state, spec=spec, subprocess_specs=dict(subprocess_specs))

    def _migrate_library(
        self,
        state: dict[str, Any],
        serializer_version: str,
        spec: BpmnProcessSpec,
        subprocess_specs: Mapping[str, BpmnProcessSpec],
    ) -> None:
        """Runs the library's own migration from `serializer_version`, as `deserialize_json` would.

        Its migrations upgrade a full serialization and read (and edit) the spec sections, which a
        state does not carry: they get the version's spec as the installed library converts it. What
        they change in those sections is dropped, since the state is restored onto the spec parsed from
        the version's files by the installed library, which is already in its current shape."""
        if serializer_version not in MIGRATIONS:
            raise StateVersionError(
                f"实例状态由 SpiffWorkflow 序列化格式 {serializer_version} 写入，当前安装的版本"
                f"（{self.serializer_version}）无法识别或迁移它：请安装与之相同或更新的 SpiffWorkflow"
            )
        state[BpmnWorkflowSerializer.VERSION_KEY] = serializer_version
        state["spec"] = self._serializer.to_dict(spec)
        state["subprocess_specs"] = {
            name: self._serializer.to_dict(s) for name, s in subprocess_specs.items()
        }
        self._serializer.migrate(state)
        del state["spec"], state["subprocess_specs"]
