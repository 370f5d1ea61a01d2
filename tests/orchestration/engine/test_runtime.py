"""The runtime's promises: versions, one transaction per step, locking, conflicts, timers, the clock."""

from __future__ import annotations

import json
import shutil
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from orchestration.domain.procedure import read_directories
from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.errors import Conflict, Forbidden, InvalidData, ProcedureError
from orchestration.store.models import AuditEvent, Case, ClockEvent, OpenTask, ProcessVersion, Timer
from tests.helpers import SUCCESS_PATH, actor, advance_to, case_snapshot, complete, open_task, start
from tests.orchestration.services.procedure_edits import ten_day_mediation


def counts(runtime: Runtime, case_id: int) -> tuple[int, int, int]:
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        audits = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id)
        )
        tasks = session.scalar(select(func.count()).select_from(OpenTask).where(OpenTask.case_id == case_id))
        return case.revision, audits or 0, tasks or 0


def test_deploying_unchanged_files_creates_no_version(runtime: Runtime) -> None:
    version, created = runtime.deploy()
    assert not created
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ProcessVersion)) == 1
    assert version.id == 1


def test_running_cases_stay_on_their_version(runtime: Runtime, tmp_path: Path) -> None:
    old_case = start(runtime)
    changed = tmp_path / "processes"
    shutil.copytree(runtime.processes_dir, changed)
    bpmn = changed / "referral.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace('name="甄别适用范围"', 'name="甄别受理范围"'))
    runtime.processes_dir = changed
    version, created = runtime.deploy()
    assert created and version.id == 2
    new_case = start(runtime)
    assert open_task(runtime, old_case, "screen_case").title == "甄别适用范围"
    assert open_task(runtime, new_case, "screen_case").title == "甄别受理范围"
    advance_to(runtime, old_case, "mediate")
    with runtime.sessions() as session:
        assert session.get(Case, old_case).version_id == 1  # type: ignore[union-attr]
        assert session.get(Case, new_case).version_id == 2  # type: ignore[union-attr]


def test_the_mediation_period_is_the_one_the_deployed_diagrams_timer_counts(runtime: Runtime) -> None:
    """A policy officer changed the mediation timer from 15 to 10 days and deployed it: the acceptance
    names the 10th day, the timer waits for it, and the law's 30 days in all leave 20 days to extend."""
    runtime.deploy_files(ten_day_mediation(read_directories(runtime.processes_dir, runtime.forms_dir)))
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "mediate")

    def state() -> tuple[dict[str, Any], datetime]:
        with runtime.sessions() as session:
            acceptance = runtime.case_data(session, _case(runtime, case_id))["acceptance"]
            due = session.scalars(
                select(Timer.due_at).where(Timer.case_id == case_id, Timer.name == "调解期限届满")
            ).one()
            return acceptance, due

    acceptance, due = state()
    with runtime.sessions() as session:
        calendar = runtime.calendar(session)
    accepted = datetime.fromisoformat(acceptance["accepted_at"])
    assert acceptance["mediation_days"] == 10
    assert datetime.fromisoformat(acceptance["mediation_deadline"]) == calendar.add_days(accepted, 10) == due
    assert acceptance["latest_deadline"] == calendar.add_days(accepted, 30).isoformat()
    mediator = actor(runtime, "mediator")
    extend = {"session_record": "需要鉴定", "mediation_outcome": "extend", "extension_reason": "鉴定"}
    with pytest.raises(ProcedureError, match="已延长0日，最多还可延长20日"):
        runtime.complete_task(task.id, {**extend, "extension_days": 21}, mediator)
    runtime.complete_task(task.id, {**extend, "extension_days": 20}, mediator)
    acceptance, due = state()
    assert (acceptance["extension_days"], acceptance["mediation_days"]) == (20, 30)
    assert acceptance["mediation_deadline"] == acceptance["latest_deadline"]
    assert datetime.fromisoformat(acceptance["mediation_deadline"]) == due


def test_instance_state_holds_no_spec(runtime: Runtime) -> None:
    case_id = start(runtime)
    with runtime.sessions() as session:
        state = json.loads(session.get(Case, case_id).state)  # type: ignore[union-attr]
    assert "spec" not in state and "subprocess_specs" not in state
    assert "task_specs" not in json.dumps(state)


def test_open_task_names_role_organisation_and_due_time(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "review_referral")
    with runtime.sessions() as session:
        row = session.get(OpenTask, task.id)
        assert row is not None
        assert (row.role, row.org.code if False else row.org_id) == (
            "mediator",
            actor(runtime, "mediator").org_id,
        )
        # referred on Monday 2026-11-02: three days, start day not counted
        assert row.due_at is not None
        assert row.due_at.isoformat() == "2026-11-05T15:59:59+00:00"


def test_a_user_of_another_role_or_organisation_may_not_act(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    before = counts(runtime, case_id)
    for username in ("mediator", "clerk2", "leader"):
        with pytest.raises(Forbidden):
            runtime.complete_task(task.id, {"dispute_category": "citizen_property"}, actor(runtime, username))
    assert counts(runtime, case_id) == before


def test_invalid_data_writes_nothing(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    before = counts(runtime, case_id)
    with pytest.raises(InvalidData) as info:
        runtime.complete_task(task.id, {"dispute_category": "no-such"}, actor(runtime, "clerk"))
    assert "dispute_category" in info.value.errors
    assert counts(runtime, case_id) == before


@pytest.mark.parametrize("offset", [-1, 1], ids=["lower", "higher"])
def test_a_stale_revision_lower_or_higher_is_refused_and_writes_nothing(
    runtime: Runtime, offset: int
) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "mediate")
    mediator = actor(runtime, "mediator")
    data = next(d for name, _, d in SUCCESS_PATH if name == "mediate")
    before = case_snapshot(runtime, case_id)
    with pytest.raises(Conflict, match="已被他人更新"):
        runtime.complete_task(task.id, data, mediator, before["revision"] + offset)
    assert case_snapshot(runtime, case_id) == before
    runtime.complete_task(task.id, data, mediator, before["revision"])
    assert case_snapshot(runtime, case_id)["revision"] == before["revision"] + 1


def test_completing_a_completed_task_is_a_conflict(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    runtime.complete_task(task.id, {"dispute_category": "citizen_property"}, actor(runtime, "clerk"))
    before = counts(runtime, case_id)
    with pytest.raises(Conflict, match="已办理完毕"):
        runtime.complete_task(task.id, {"dispute_category": "citizen_property"}, actor(runtime, "clerk"))
    assert counts(runtime, case_id) == before


def test_concurrent_completions_of_one_task_store_exactly_one(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    clerk = actor(runtime, "clerk")
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def complete(category: str) -> None:
        barrier.wait()
        try:
            runtime.complete_task(task.id, {"dispute_category": category}, clerk)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=complete, args=(c,)) for c in ["citizen_property"] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "ok"]
    with runtime.sessions() as session:
        completions = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.case_id == case_id, AuditEvent.action == "complete")
        )
    assert completions == 1


def test_a_handler_refusal_reaches_the_user_and_writes_nothing_of_the_step(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "mediate")
    mediator = actor(runtime, "mediator")
    extend = {"session_record": "需要鉴定", "mediation_outcome": "extend", "extension_reason": "鉴定"}
    runtime.complete_task(task.id, {**extend, "extension_days": 10}, mediator)
    task = open_task(runtime, case_id, "mediate")
    before = counts(runtime, case_id)
    with pytest.raises(ProcedureError, match="最多还可延长5日"):
        runtime.complete_task(task.id, {**extend, "extension_days": 6}, mediator)
    revision, audits, tasks = counts(runtime, case_id)
    assert (revision, tasks) == before[::2]
    assert audits == before[1] + 1  # the error itself is recorded
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None and "最多还可延长5日" in (case.last_error or "")
        last = session.scalar(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id.desc())
        )
        assert last is not None and last.action == "error"
    runtime.complete_task(task.id, {**extend, "extension_days": 5}, mediator)
    with runtime.sessions() as session:
        data = runtime.case_data(session, _case(runtime, case_id))
    assert data["acceptance"]["extension_days"] == 15


def _case(runtime: Runtime, case_id: int) -> Case:
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


def test_timers_fire_by_the_injected_clock(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    assert runtime.run_due_timers() == 0
    clock.advance(timedelta(days=3, hours=14, minutes=59))  # 2026-11-05 23:59 Shanghai: not yet
    assert runtime.run_due_timers() == 0
    clock.advance(timedelta(minutes=1, seconds=1))
    assert runtime.run_due_timers() == 1
    assert open_task(runtime, case_id, "consultation_petition_opinion").role == "petition_clerk"
    assert runtime.run_due_timers() == 0
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Timer).where(Timer.case_id == case_id)) == 0
        last = session.scalar(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id.desc())
        )
        assert last is not None and last.action == "timer" and last.detail["fired"] == ["3日内未作决定"]


def test_petition_clock_pauses_for_mediation(runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    with runtime.sessions() as session:
        kinds = [e.kind for e in session.scalars(select(ClockEvent).where(ClockEvent.case_id == case_id))]
    assert kinds == ["start", "pause"]


def test_the_success_path_completes_the_case(runtime: Runtime) -> None:
    case_id = start(runtime)
    for name, username, data in SUCCESS_PATH:
        complete(runtime, open_task(runtime, case_id, name).id, data, actor(runtime, username))
    case = _case(runtime, case_id)
    assert (case.status, case.outcome) == ("completed", "mediated")
    assert counts(runtime, case_id)[2] == 0


def test_each_case_is_validated_with_the_forms_of_its_own_version(runtime: Runtime, tmp_path: Path) -> None:
    """Forms are part of a version: a form changed in version 2 applies to cases on version 2 only."""
    old_case = start(runtime)
    forms = tmp_path / "forms"
    shutil.copytree(runtime.forms_dir, forms)
    form = json.loads((forms / "screen_case.json").read_text(encoding="utf-8"))
    form["schema"]["properties"]["screening_note"] = {"type": "string", "title": "甄别意见"}
    form["schema"]["required"].append("screening_note")
    form["ui"]["order"].append("screening_note")
    (forms / "screen_case.json").write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")
    runtime.forms_dir = forms
    version, created = runtime.deploy()
    assert created and version.number == 2
    new_case = start(runtime)
    data = {"dispute_category": "citizen_property"}
    with pytest.raises(InvalidData) as refused:
        runtime.complete_task(open_task(runtime, new_case, "screen_case").id, data, actor(runtime, "clerk"))
    assert refused.value.errors == {"screening_note": "请填写甄别意见"}
    runtime.complete_task(open_task(runtime, old_case, "screen_case").id, data, actor(runtime, "clerk"))
    with runtime.sessions() as session:
        old_fields = runtime.forms_of(session, 1).get("screen_case").fields
    assert "screening_note" not in {f.name for f in old_fields}
    assert "screening_note" in {f.name for f in runtime.current_forms().get("screen_case").fields}
