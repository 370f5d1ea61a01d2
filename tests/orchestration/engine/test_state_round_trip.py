"""Every scenario ends the same whether each step restores its workflow from the stored state or takes
the live workflow from the cache, and every state saved on the way restores to the same text.

Each scenario runs twice on a fresh database: as usual, and with a workflow cache that keeps nothing.
Then every row the steps write is compared. Task ids are random and `last_state_change` is wall-clock
time, so both are replaced by stable placeholders first; everything else runs on the frozen clock and
on fresh sequences, so it must match exactly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestration.engine.state import StateCodec
from orchestration.engine.workflow_cache import WorkflowCache
from orchestration.services.scenarios import Mismatch, ScenarioRun, default_files, fresh_database
from orchestration.store.models import (
    AuditEvent,
    Base,
    Case,
    ClockEvent,
    Counter,
    Document,
    Incident,
    Notification,
    OpenTask,
    Timer,
)

FILES = default_files()
# What the steps write; the seeded network, users and calendar are the same in both runs by construction.
WRITTEN = [Case, OpenTask, Timer, Document, Notification, AuditEvent, ClockEvent, Incident, Counter]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STATE_CHANGE = re.compile(r'"last_state_change":[-+.0-9eE]+')


class CheckedCodec(StateCodec):
    """Checks on every save that the state restores to a workflow that dumps the same text, and counts
    the restores the runtime asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.saves = 0
        self.restores = 0

    def dump(self, workflow: BpmnWorkflow) -> str:
        text = super().dump(workflow)
        again = super().dump(super().load(text, workflow.spec, workflow.subprocess_specs))
        assert again == text, "load(dump(workflow)) does not dump to the same text"
        self.saves += 1
        return text

    def load(self, text: str, spec: BpmnProcessSpec, subprocess_specs: Any) -> BpmnWorkflow:
        self.restores += 1
        return super().load(text, spec, subprocess_specs)


@dataclass
class Outcome:
    rows: dict[str, list[str]]
    saves: int
    restores: int
    revisions: int
    cases: int


def _run(path: Path, url: str | None, workdir: Path, cached: bool) -> Outcome:
    scenario = json.loads(path.read_text(encoding="utf-8"))
    workdir.mkdir()
    engine = fresh_database(url, workdir)
    try:
        run = ScenarioRun(engine, datetime.fromisoformat(scenario["clock"]))
        codec = run.runtime.codec = CheckedCodec()
        if not cached:
            run.runtime.workflows = WorkflowCache(size=0)
        for index, step in enumerate(scenario["steps"], start=1):
            try:
                run.step(step)
            except Mismatch as exc:
                pytest.fail(f"{'' if cached else '不用缓存时'}第{index}步（{step.get('do')}）：{exc}")
        with Session(engine) as session:
            rows = _rows(session)
            revisions = sum(session.scalars(select(Case.revision)))
    finally:
        engine.dispose()
    return Outcome(rows, codec.saves, codec.restores, revisions, len(run.cases))


def _rows(session: Session) -> dict[str, list[str]]:
    """Every written row as text, task ids numbered in order of first appearance (cases first, in id
    order, so that both runs number them alike), sorted so that random ids do not order them."""
    numbers: dict[str, str] = {}

    def stable(text: str) -> str:
        text = STATE_CHANGE.sub('"last_state_change":"…"', text)
        return UUID.sub(lambda m: numbers.setdefault(m.group(), f"<task {len(numbers)}>"), text)

    def cell(value: Any) -> Any:
        if isinstance(value, dict | list):
            value = json.dumps(value, sort_keys=True, ensure_ascii=False)
        return stable(value) if isinstance(value, str) else value

    snapshot = {}
    for model in WRITTEN:
        table = Base.metadata.tables[model.__tablename__]
        result = session.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        snapshot[table.name] = sorted(
            json.dumps({k: cell(v) for k, v in row.items()}, sort_keys=True, ensure_ascii=False, default=str)
            for row in result
        )
    return snapshot


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_a_scenario_ends_the_same_when_every_step_restores_its_state(
    path: Path, database_url: str, tmp_path: Path
) -> None:
    url = None if database_url.startswith("sqlite") else database_url
    cached = _run(path, url, tmp_path / "cached", cached=True)
    restored = _run(path, url, tmp_path / "restored", cached=False)

    for outcome in (cached, restored):
        assert outcome.saves == outcome.revisions > 0  # every save was checked
    # Without the cache every step after a case's first restores it; with the cache fewer do, or the
    # two runs would not have taken different paths.
    assert restored.restores >= restored.saves - restored.cases
    assert cached.restores < restored.restores
    assert cached.rows["cases"] and cached.rows["audit_events"]
    for table, rows in cached.rows.items():
        assert restored.rows[table] == rows, table
