"""The state codec: round trips, the versions each state records, and migrating older states.

`state_v1/state.json` is a version-1 state exactly as the codec of commit adc4dda wrote it (format
"fangtiao-state/1", no serializer version) for `state_v1/process.bpmn`, stopped at its user task
"mediate" with two timers and a signal waiting. A small process of its own keeps the fixture valid
whatever becomes of the procedure's own diagram; it cannot be written again once version 1 is gone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.util.task import TaskState

from orchestration.engine import state_migrations
from orchestration.engine.clock import SHANGHAI, FrozenClock
from orchestration.engine.compat import engine_clock
from orchestration.engine.runtime import Runtime
from orchestration.engine.specs import parse_files
from orchestration.engine.state import StateCodec
from orchestration.engine.state_migrations import StateVersionError
from orchestration.store.models import Case
from tests.helpers import SUCCESS_PATH, actor, advance_to, open_task, start

FIXTURE = Path(__file__).parent / "state_v1"
STATE_V1 = (FIXTURE / "state.json").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def specs() -> tuple[BpmnProcessSpec, dict[str, Any]]:
    return parse_files({"process.bpmn": (FIXTURE / "process.bpmn").read_text(encoding="utf-8")}, "state_v1")


@pytest.fixture
def codec() -> StateCodec:
    return StateCodec()


def _load(codec: StateCodec, text: str, specs: tuple[BpmnProcessSpec, dict[str, Any]]) -> BpmnWorkflow:
    return codec.load(text, specs[0], specs[1])


def _ready(workflow: BpmnWorkflow) -> list[str]:
    return sorted(t.task_spec.name for t in workflow.get_tasks(state=TaskState.READY))


def _case(runtime: Runtime, case_id: int) -> Case:
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


# ---- round trip and the versions recorded -----------------------------------------------------------


def test_a_mid_flight_case_round_trips_to_the_same_text(runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    case = _case(runtime, case_id)
    with runtime.sessions() as session:
        parsed = runtime._parsed(session, case.version_id)
    workflow = runtime.codec.load(case.state, parsed.spec, parsed.subprocess_specs)
    assert [t.task_spec.name for t in workflow.get_tasks(state=TaskState.READY, manual=True)] == ["mediate"]
    assert len(list(workflow.waiting_events())) == 3  # two timers and the risk signal
    assert runtime.codec.dump(workflow) == case.state


def test_a_state_records_both_versions(runtime: Runtime) -> None:
    state = json.loads(_case(runtime, start(runtime)).state)
    assert (state["format"], state["version"]) == ("fangtiao-state", state_migrations.VERSION)
    assert state["serializer_version"] == runtime.codec.serializer_version == "1.5"


# ---- version 1, as states in existing databases hold it ---------------------------------------------


def test_a_version_1_state_loads_with_all_it_held(codec: StateCodec, specs: Any) -> None:
    upgraded = json.loads(codec.dump(_load(codec, STATE_V1, specs)))
    assert (upgraded.pop("format"), upgraded.pop("version")) == ("fangtiao-state", 2)
    assert (upgraded.pop("serializer_version"), upgraded.pop("typename")) == ("1.5", "BpmnWorkflow")
    original = json.loads(STATE_V1)
    assert original.pop("format") == "fangtiao-state/1"
    assert upgraded == original


def test_a_version_1_state_steps_on(codec: StateCodec, specs: Any) -> None:
    workflow = _load(codec, STATE_V1, specs)
    assert _ready(workflow) == ["mediate"]
    assert {(e.name, e.value) for e in workflow.waiting_events()} == {
        ("期限临近", "2026-11-19T09:00:00+08:00"),
        ("期限届满", "2026-11-20T23:59:59+08:00"),
        ("risk_report", None),
    }
    with engine_clock(FrozenClock(datetime(2026, 11, 19, 10, 0, tzinfo=SHANGHAI))):
        workflow.refresh_timers()
        workflow.do_engine_steps()
        assert [t.task_spec.name for t in workflow.get_tasks(state=TaskState.COMPLETED)][-1] == "near_end"
        mediate = workflow.get_tasks(state=TaskState.READY, spec_name="mediate")[0]
        mediate.data.update(mediation_outcome="agreement")
        mediate.run()
        workflow.do_engine_steps()
    assert _ready(workflow) == ["feedback"]
    data = workflow.get_tasks(state=TaskState.READY)[0].data
    assert data["acceptance"]["note"] == "院墙归属"
    assert data["received"] == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert data["case_no"] == "访调〔2026〕1号"
    text = codec.dump(workflow)
    assert codec.dump(_load(codec, text, specs)) == text


def _as_version_1(text: str) -> str:
    """A state as version 1 wrote it: the same content under the old marker, without the versions."""
    state = json.loads(text)
    for key in ("version", "serializer_version", "typename"):
        del state[key]
    state["format"] = "fangtiao-state/1"
    return json.dumps(state, ensure_ascii=False, separators=(",", ":"))


def test_the_runtime_reads_and_steps_on_a_version_1_case(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "mediate")
    with runtime.sessions() as session, session.begin():
        case = session.get(Case, case_id)
        assert case is not None
        case.state = _as_version_1(case.state)
    restarted = Runtime(runtime.sessions, runtime.clock)  # a new process: no live workflow cached
    with restarted.sessions() as session:
        assert restarted.case_data(session, _case(restarted, case_id))["acceptance"]["mediation_days"] == 15
    mediate = next(data for name, _, data in SUCCESS_PATH if name == "mediate")
    restarted.complete_task(task.id, mediate, actor(restarted, "mediator"))
    assert open_task(restarted, case_id, "feedback_success").role == "mediator"
    assert json.loads(_case(restarted, case_id).state)["version"] == state_migrations.VERSION


# ---- the library's own migrations ---------------------------------------------------------------


def _with_serializer_version(text: str, version: str) -> dict[str, Any]:
    state = json.loads(text)
    state["serializer_version"] = version
    return state


def test_a_state_from_serializer_1_2_goes_through_the_librarys_migration(
    codec: StateCodec, specs: Any
) -> None:
    """SpiffWorkflow 1.2 kept a "Root" task above the start task; its migration to 1.3 removes it.
    Restored without the migration, the task has no spec and the state cannot be read back."""
    current = codec.dump(_load(codec, STATE_V1, specs))
    state = _with_serializer_version(current, "1.2")
    start_id, root_id = state["root"], str(uuid4())
    state["tasks"][start_id]["parent"] = root_id
    state["tasks"][root_id] = {
        **state["tasks"][start_id],
        "id": root_id,
        "parent": None,
        "children": [start_id],
        "task_spec": "Root",
        "internal_data": {},
        "data": {},
    }
    state["root"] = root_id
    workflow = _load(codec, json.dumps(state), specs)
    assert workflow.task_tree.task_spec.name == "Start"
    assert codec.dump(workflow) == current


@pytest.mark.parametrize("version", sorted(MIGRATIONS))
def test_each_older_serializer_version_is_handed_to_the_librarys_migration(
    version: str, codec: StateCodec, specs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []
    monkeypatch.setitem(MIGRATIONS, version, lambda dct: seen.append(dict(dct)))
    current = codec.dump(_load(codec, STATE_V1, specs))
    workflow = _load(codec, json.dumps(_with_serializer_version(current, version)), specs)
    assert len(seen) == 1
    # what the library's migrations read: the whole serialization, spec sections included
    assert seen[0]["spec"]["name"] == "state_v1"
    assert seen[0]["subprocess_specs"] == {}
    assert seen[0]["tasks"] == json.loads(current)["tasks"]
    assert codec.dump(workflow) == current


def test_a_state_of_the_current_serializer_version_is_not_migrated(
    codec: StateCodec, specs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    called: list[str] = []
    for version in MIGRATIONS:
        monkeypatch.setitem(MIGRATIONS, version, lambda _dct, v=version: called.append(v))
    current = codec.dump(_load(codec, STATE_V1, specs))
    _load(codec, current, specs)
    assert called == []


# ---- what cannot be read is refused, clearly ------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"serializer_version": "1.6"}, "SpiffWorkflow 序列化格式 1.6"),
        ({"serializer_version": "0.9"}, "SpiffWorkflow 序列化格式 0.9"),
        ({"version": state_migrations.VERSION + 1}, f"实例状态格式版本 {state_migrations.VERSION + 1}"),
        ({"version": 0}, "实例状态格式版本 0"),
        ({"format": "other"}, "实例状态格式无法识别"),
        ({"serializer_version": None}, "未记录 SpiffWorkflow 序列化版本"),
    ],
    ids=[
        "newer-serializer",
        "unknown-serializer",
        "newer-format",
        "format-0",
        "foreign-format",
        "no-serializer",
    ],
)
def test_an_unknown_or_newer_version_is_refused(
    change: dict[str, Any], message: str, codec: StateCodec, specs: Any
) -> None:
    state = {**json.loads(codec.dump(_load(codec, STATE_V1, specs))), **change}
    with pytest.raises(StateVersionError, match=message):
        _load(codec, json.dumps(state), specs)
