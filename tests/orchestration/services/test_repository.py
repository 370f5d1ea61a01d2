"""The procedure's repository as policy officers use it (both databases): versions and what changed, drafts
and their conflicts, checks, scenarios against a draft, deployment, export, and migration of running cases."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from orchestration.domain.access import Viewer
from orchestration.domain.procedure import DeployError, UnsafeFile, layout, read_directories
from orchestration.engine.changes import Element
from orchestration.engine.clock import SHANGHAI, FrozenClock
from orchestration.engine.migration import Migration
from orchestration.engine.runtime import Runtime
from orchestration.errors import Conflict, Forbidden, InvalidData, NotFound
from orchestration.services.documents import DocumentService
from orchestration.services.repository import RepositoryService
from orchestration.store.models import AuditEvent, Case, Document, Draft, OpenTask, Timer
from tests.helpers import (
    REGISTRATION,
    actor,
    add_colleague,
    advance_to,
    case_snapshot,
    open_task,
    start,
    viewer,
)
from tests.orchestration.services.procedure_edits import (
    TEN_DAYS,
    replaced,
    ten_day_mediation,
    with_mediation_check,
    without_risk_handling,
)

ROOT = Path(__file__).resolve().parents[3]
FILES = read_directories(ROOT / "processes", ROOT / "forms")
RISK = {
    "risk_type": "leapfrog",
    "description": "当事人扬言到省里上访",
    "police_recipient": "八廓派出所",
    "government_recipient": "八廓街道办事处",
    "receipt": "值班人员接收",
}


@pytest.fixture
def repository(runtime: Runtime) -> RepositoryService:
    add_colleague(runtime, "policy2", "周洁", of="policy")
    return RepositoryService(runtime)


def case_row(runtime: Runtime, case_id: int) -> Case:
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


def mediation_due(runtime: Runtime, case_id: int) -> str:
    due = open_task(runtime, case_id, "mediate").due_at
    assert due is not None
    return due.astimezone(SHANGHAI).isoformat()


def deploy_change(repository: RepositoryService, policy: Viewer, files: dict[str, str]) -> int:
    """A draft of the latest version with these files, deployed; returns the new version's id."""
    latest = repository.versions(policy, "fangtiao_referral")[0]
    draft = repository.create_draft(policy, latest.id)
    repository.save_draft(policy, draft.id, files, draft.revision)
    return repository.deploy(policy, draft.id).id


# ---- who may do what ----------------------------------------------------------------------------------


def test_policy_officers_do_everything_administrators_only_read(
    runtime: Runtime, repository: RepositoryService
) -> None:
    admin, clerk = viewer(runtime, "admin"), viewer(runtime, "clerk")
    assert repository.processes(admin)[0].process_id == "fangtiao_referral"
    assert repository.version_files(admin, 1) == FILES
    with pytest.raises(Forbidden, match="只有流程管理员可以修改、部署流程或迁移案件"):
        repository.create_draft(admin, 1)
    with pytest.raises(Forbidden, match="只有流程管理员可以修改、部署流程或迁移案件"):
        repository.migrate(admin, 1, 1, [])
    for read in (
        lambda: repository.processes(clerk),
        lambda: repository.versions(clerk, "fangtiao_referral"),
        lambda: repository.export(clerk, 1),
        lambda: repository.drafts(clerk),
    ):
        with pytest.raises(Forbidden, match="只有流程管理员和系统管理员可以查看流程版本"):
            read()


# ---- versions ---------------------------------------------------------------------------------------


def test_versions_say_what_changed_and_how_many_cases_run_on_each(
    runtime: Runtime, repository: RepositoryService
) -> None:
    policy = viewer(runtime, "policy")
    first, second = start(runtime), start(runtime)
    runtime.set_suspended(second, True, actor(runtime, "admin"))  # paused still counts as running
    files = ten_day_mediation(FILES)
    files = replaced(files, "forms/mediate.json", '"title": "依法调解"', '"title": "依法开展调解"', 1)
    files = replaced(files, "referral.bpmn", 'name="甄别适用范围"', 'name="甄别受理范围"')
    files["scenarios/26_recorded.json"] = FILES["scenarios/01_success_full_path.json"]
    new_id = deploy_change(repository, policy, files)
    third = start(runtime)

    newest, oldest = repository.versions(policy, "fangtiao_referral")
    assert (newest.id, newest.number, newest.deployed_by, newest.deployed_by_name) == (
        new_id,
        2,
        "policy",
        "黄强",
    )
    assert (oldest.number, oldest.deployed_by, oldest.running, newest.running) == (1, "system", 2, 1)
    assert oldest.changes == type(oldest.changes)()
    changes = newest.changes
    assert (changes.added, changes.removed) == ([], [])
    assert changes.changed == [
        Element("mediation_deadline_near", "调解期限临近", "boundaryEvent", ("事件（期限等）",)),
        Element("mediation_deadline_reached", "调解期限届满", "boundaryEvent", ("事件（期限等）",)),
        Element("screen_case", "甄别受理范围", "userTask", ("名称",)),
    ]
    old = 'deadline_days(acceptance["accepted_at"], 15 + acceptance["extension_days"])'
    assert sorted(changes.deadlines_changed) == [
        f"调解期限临近：warning_time({old}, 1) → warning_time({TEN_DAYS}, 1)",
        f"调解期限届满：{old} → {TEN_DAYS}",
    ]
    assert changes.forms_changed == ["mediate（修改）"]
    assert changes.scenarios_changed == ["scenarios/26_recorded.json（新增）"]

    (process,) = repository.processes(policy)
    assert (process.name, process.latest_version_id) == ("访调对接", new_id)
    assert process.running_by_version == {1: 2, new_id: 1}
    assert [case_row(runtime, c).version_id for c in (first, second, third)] == [1, 1, new_id]


def test_removed_and_added_elements(runtime: Runtime, repository: RepositoryService) -> None:
    policy = viewer(runtime, "policy")
    deploy_change(repository, policy, without_risk_handling(FILES))
    deploy_change(repository, policy, with_mediation_check(without_risk_handling(FILES)))
    third, second, _ = repository.versions(policy, "fangtiao_referral")
    assert Element("handle_risk", "风险处置", "userTask") in second.changes.removed
    assert second.changes.forms_changed == ["handle_risk（删除）"]
    assert third.changes.added == [Element("mediation_check", "调解中期检查", "boundaryEvent")]
    assert third.changes.deadlines_changed == [
        '调解中期检查（新增）：deadline_days(acceptance["accepted_at"], 7)'
    ]


def test_export_is_the_version_laid_out_as_the_project(
    runtime: Runtime, repository: RepositoryService
) -> None:
    admin = viewer(runtime, "admin")
    exported = repository.export(admin, 1)
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        contents = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    assert contents == {layout(name): text for name, text in FILES.items()}
    assert "processes/scenarios/01_success_full_path.json" in contents
    assert repository.export(admin, 1) == exported, "the same version exports the same bytes"
    with pytest.raises(NotFound):
        repository.export(admin, 99)


# ---- drafts -----------------------------------------------------------------------------------------


def test_a_draft_is_its_owners_and_a_stale_save_is_a_conflict(
    runtime: Runtime, clock: FrozenClock, repository: RepositoryService
) -> None:
    policy, colleague = viewer(runtime, "policy"), viewer(runtime, "policy2")
    draft = repository.create_draft(policy, 1)
    assert (draft.owner, draft.owner_name, draft.revision, draft.based_on_number) == ("policy", "黄强", 1, 1)
    assert draft.files == FILES
    clock.advance(timedelta(minutes=5))
    saved = repository.save_draft(policy, draft.id, ten_day_mediation(FILES), 1)
    assert (saved.revision, saved.updated_at) == (2, clock.now())

    with pytest.raises(Conflict) as stale:
        repository.save_draft(policy, draft.id, FILES, 1)
    assert stale.value.message == (
        "草稿已由黄强于2026年11月2日 09:05保存为第2版，您的修改基于第1版，未保存。请重新打开草稿后再修改"
    )
    with pytest.raises(Forbidden, match="草稿属于黄强，只有其作者可以保存"):
        repository.save_draft(colleague, draft.id, FILES, 2)
    with pytest.raises(Forbidden, match="只有其作者可以删除"):
        repository.delete_draft(colleague, draft.id)
    assert repository.draft(colleague, draft.id).files == ten_day_mediation(FILES)
    assert [d.id for d in repository.drafts(colleague)] == [draft.id]

    repository.delete_draft(policy, draft.id)
    with pytest.raises(NotFound):
        repository.draft(policy, draft.id)


def test_a_hostile_file_is_refused_and_nothing_saved(runtime: Runtime, repository: RepositoryService) -> None:
    policy = viewer(runtime, "policy")
    draft = repository.create_draft(policy, 1)
    hostile = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "a"><!ENTITY b "&a;&a;">]><d>&b;</d>'
    for files in (
        {**FILES, "scope.dmn": hostile},
        {**FILES, "referral.bpmn": "<a>" + "x" * 1_000_001 + "</a>"},
        {**FILES, "../escape.bpmn": FILES["referral.bpmn"]},
    ):
        with pytest.raises(UnsafeFile):
            repository.save_draft(policy, draft.id, files, 1)
    assert repository.draft(policy, draft.id).revision == 1


def test_recording_a_scenario_keeps_it_with_the_draft(
    runtime: Runtime, repository: RepositoryService
) -> None:
    policy = viewer(runtime, "policy")
    draft = repository.create_draft(policy, 1)
    with pytest.raises(InvalidData, match="缺少键“steps”"):
        repository.record_scenario(
            policy, draft.id, {"name": "只有名字", "clock": "2026-11-02T09:00:00+08:00"}, 1
        )
    scenario = {
        "name": "登记后待甄别",
        "clock": "2026-11-02T09:00:00+08:00",
        "steps": [
            {
                "do": "start",
                "as": "clerk",
                "data": REGISTRATION,
            },
            {"do": "expect", "open_tasks": ["screen_case"]},
        ],
    }
    name = repository.record_scenario(policy, draft.id, scenario, 1)
    last = max(int(n.removeprefix("scenarios/")[:2]) for n in draft.files if n.startswith("scenarios/"))
    assert name == f"scenarios/{last + 1:02d}_recorded.json"  # after the highest number, as the folder sorts
    saved = repository.draft(policy, draft.id)
    assert (saved.revision, json.loads(saved.files[name])) == (2, scenario)
    assert repository.check(policy, draft.id) == []
    with pytest.raises(Forbidden):
        repository.record_scenario(viewer(runtime, "policy2"), draft.id, scenario, 2)


# ---- checking, scenarios, deploying -------------------------------------------------------------------


def test_deploy_is_refused_with_the_findings_and_nothing_changes(
    runtime: Runtime, repository: RepositoryService
) -> None:
    policy = viewer(runtime, "policy")
    draft = repository.create_draft(policy, 1)
    broken = replaced(FILES, "referral.bpmn", 'consent == "agree"', 'consent == "agree" and open("x")')
    repository.save_draft(policy, draft.id, broken, 1)
    findings = repository.check(policy, draft.id)
    assert [(f.file, f.element_id, f.element_name) for f in findings] == [
        ("referral.bpmn", "f_consented", "同意")
    ]
    with pytest.raises(DeployError) as refused:
        repository.deploy(policy, draft.id)
    assert refused.value.findings == findings
    assert [v.number for v in repository.versions(policy, "fangtiao_referral")] == [1]
    assert repository.draft(policy, draft.id).revision == 2, "the draft stays for the officer to correct"


def test_deploying_makes_a_version_for_new_cases_and_uses_the_draft_up(
    runtime: Runtime, repository: RepositoryService
) -> None:
    policy = viewer(runtime, "policy")
    draft = repository.create_draft(policy, 1)
    unchanged = repository.deploy(policy, draft.id)
    assert unchanged.number == 1, "a draft with the deployed files changes nothing"
    draft = repository.create_draft(policy, 1)
    stale = repository.create_draft(viewer(runtime, "policy2"), 1)
    repository.save_draft(policy, draft.id, ten_day_mediation(FILES), 1)
    version = repository.deploy(viewer(runtime, "policy2"), draft.id)  # a colleague may deploy it
    assert (version.number, version.running, version.deployed_by) == (2, 0, "policy2")
    with runtime.sessions() as session:
        assert session.get(Draft, draft.id) is None
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "deploy").order_by(AuditEvent.id)
        ).all()[-1]
        assert (event.actor, event.detail["number"], event.detail["draft"], event.detail["owner"]) == (
            "policy2",
            2,
            draft.id,
            "policy",
        )
    with pytest.raises(Conflict) as lost:
        repository.deploy(viewer(runtime, "policy2"), stale.id)
    assert lost.value.message == (
        "草稿建立后，周洁于2026年11月2日 09:00部署了第2版：直接部署会丢失其中的修改。"
        "请基于第2版新建草稿，把修改合并进去"
    )
    # a draft of the first version made now returns to it: a third version, with version 1's files
    back = repository.create_draft(policy, 1)
    returned = repository.deploy(policy, back.id)
    assert returned.number == 3
    assert repository.version_files(policy, returned.id) == FILES


def test_scenarios_run_against_the_draft_and_the_deployed_version(
    runtime: Runtime, repository: RepositoryService
) -> None:
    policy = viewer(runtime, "policy")
    draft = repository.create_draft(policy, 1)
    kept = "scenarios/01_success_full_path.json"
    files = {n: t for n, t in ten_day_mediation(FILES).items() if not n.startswith("scenarios/") or n == kept}
    repository.save_draft(policy, draft.id, files, 1)
    report = repository.run_scenarios(policy, draft.id)
    assert report.deployed_version_id == 1
    (row,) = report.rows
    assert (row.file, row.draft_passed, row.deployed_passed, row.deployed_message) == (kept, False, True, "")
    assert row.draft_message.startswith("第14步（expect）：mediate 的期限：期望 2026-11-18T23:59:59+08:00")
    assert (
        row.differences[0]
        == "第13步后 案件0：待办 mediate 的期限 已部署版本：2026-11-18 23:59；草稿：2026-11-13 23:59"
    )
    assert any("定时器" in d for d in row.differences)


# ---- migrating running cases --------------------------------------------------------------------------


def test_migration_preview_and_bulk_migration_recompute_the_deadlines(
    runtime: Runtime, clock: FrozenClock, repository: RepositoryService
) -> None:
    policy = viewer(runtime, "policy")
    mediating, screening = start(runtime), start(runtime)
    advance_to(runtime, mediating, "mediate")
    assert mediation_due(runtime, mediating) == "2026-11-17T23:59:59+08:00"
    # the deadline 10 days, and the step named anew: a ready task takes up both
    renamed = replaced(ten_day_mediation(FILES), "referral.bpmn", 'name="依法调解"', 'name="依法开展调解"')
    new_id = deploy_change(repository, policy, renamed)
    newcomer = start(runtime)
    advance_to(runtime, newcomer, "mediate")
    assert mediation_due(runtime, newcomer) == "2026-11-12T23:59:59+08:00"
    assert mediation_due(runtime, mediating) == "2026-11-17T23:59:59+08:00"

    with runtime.sessions() as session:
        numbers = {c.id: c.case_no for c in session.scalars(select(Case))}
    moves = {m.case_no: m for m in repository.migration_preview(policy, 1, new_id)}
    assert set(moves) == {numbers[mediating], numbers[screening]}
    preview = moves[numbers[mediating]]
    assert (preview.current_steps, preview.movable, preview.reason) == (["依法调解"], True, "")
    assert preview.moved == [
        {"timer": "调解期限届满", "from": "2026-11-17T23:59:59+08:00", "to": "2026-11-12T23:59:59+08:00"},
        {"timer": "调解期限临近", "from": "2026-11-17T00:00:00+08:00", "to": "2026-11-12T00:00:00+08:00"},
    ]
    screened = moves[numbers[screening]]
    assert (screened.current_steps, screened.moved) == (["甄别适用范围"], [])
    assert mediation_due(runtime, mediating) == "2026-11-17T23:59:59+08:00", "a preview changes nothing"

    task_id = open_task(runtime, mediating, "mediate").id
    report = repository.migrate(policy, 1, new_id, [numbers[mediating], numbers[screening], "FT2026-999999"])
    assert report.moved == [numbers[mediating], numbers[screening]]
    assert report.refused == {"FT2026-999999": "不是第1版上未办结的案件"}
    migrated = open_task(runtime, mediating, "mediate")
    assert (migrated.id, migrated.title) == (task_id, "依法开展调解")
    assert mediation_due(runtime, mediating) == "2026-11-12T23:59:59+08:00"
    assert case_row(runtime, mediating).version_id == new_id
    with runtime.sessions() as session:
        timers = session.scalars(
            select(Timer.due_at).where(Timer.case_id == mediating).order_by(Timer.due_at)
        ).all()
        assert [t.isoformat() for t in timers] == ["2026-11-11T16:00:00+00:00", "2026-11-12T15:59:59+00:00"]
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == mediating).order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None
        assert (event.action, event.actor, event.detail["from"], event.detail["to"]) == (
            "migrate",
            "policy",
            1,
            2,
        )
    assert repository.migration_preview(policy, 1, new_id) == []
    assert repository.versions(policy, "fangtiao_referral")[0].running == 3

    # the migrated case goes on under the new version: its deadline fires on the new date
    clock.set(datetime.fromisoformat(mediation_due(runtime, mediating)) + timedelta(seconds=1))
    runtime.run_due_timers()
    assert case_row(runtime, mediating).outcome == "terminated"
    with runtime.sessions() as session:
        names = session.scalars(select(OpenTask.task_name).where(OpenTask.case_id == mediating)).all()
    assert names == ["feedback_failure"]


def test_cases_that_cannot_move_stay_untouched_and_are_listed(
    runtime: Runtime, repository: RepositoryService
) -> None:
    policy = viewer(runtime, "policy")
    at_risk, mediating, screening, paused = (start(runtime) for _ in range(4))
    for case_id in (at_risk, mediating):
        advance_to(runtime, case_id, "mediate")
    runtime.set_suspended(paused, True, actor(runtime, "admin"))
    runtime.report_risk(at_risk, RISK, actor(runtime, "mediator"))
    open_task(runtime, at_risk, "handle_risk")
    new_id = deploy_change(repository, policy, with_mediation_check(without_risk_handling(FILES)))
    with runtime.sessions() as session:
        numbers = {c.id: c.case_no for c in session.scalars(select(Case))}
    moves = {m.case_no: m for m in repository.migration_preview(policy, 1, new_id)}
    assert moves[numbers[at_risk]].reason == "当前步骤“风险处置”在新版本中已删除"
    assert (
        moves[numbers[mediating]].reason == "当前步骤“依法调解”的边界事件在新版本中已修改，不能在办理中途迁移"
    )
    assert moves[numbers[screening]].movable
    assert moves[numbers[paused]].reason == "案件已被管理员暂停，恢复后才能迁移"

    before = {c: case_snapshot(runtime, c) for c in (at_risk, mediating, paused)}
    report = repository.migrate(policy, 1, new_id, list(numbers.values()))
    assert report.moved == [numbers[screening]]
    assert report.refused == {numbers[c]: moves[numbers[c]].reason for c in (at_risk, mediating, paused)}
    assert {c: case_snapshot(runtime, c) for c in (at_risk, mediating, paused)} == before
    assert (case_row(runtime, screening).version_id, case_row(runtime, at_risk).version_id) == (new_id, 1)


def test_under_a_ten_day_timer_the_letter_the_leader_reads_and_the_receipt_name_ten_days(
    runtime: Runtime, repository: RepositoryService
) -> None:
    """A policy officer set the mediation timer to 10 days: a case of the new version is sent with a letter
    stating 10 days (as the leader read it in the draft) and accepted with a receipt stating 10 days."""
    deploy_change(repository, viewer(runtime, "policy"), ten_day_mediation(FILES))
    approval = advance_to(runtime, start(runtime), "approve_referral")
    draft = DocumentService(runtime).referral_draft(viewer(runtime, "leader"), approval.id)
    assert draft.document.content["periods"] == {
        "review": "3日",
        "mediation": "10日",
        "success_feedback": "5个工作日",
        "failure_feedback": "3个工作日",
    }
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    with runtime.sessions() as session:
        letter, receipt = (
            session.scalars(
                select(Document.content).where(Document.case_id == case_id, Document.kind == kind)
            ).one()
            for kind in ("referral_letter", "acceptance_receipt")
        )
    assert letter["periods"] == draft.document.content["periods"]
    assert receipt["mediation_days"] == 10


def test_a_migration_failing_half_way_leaves_the_case_as_it_was(
    runtime: Runtime, repository: RepositoryService, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = viewer(runtime, "policy")
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    new_id = deploy_change(repository, policy, ten_day_mediation(FILES))
    before = case_snapshot(runtime, case_id)
    case_no = case_row(runtime, case_id).case_no
    # after SpiffWorkflow has migrated the workflow in memory, a last check finds a step it cannot place
    monkeypatch.setattr(Migration, "stray_steps", lambda self, workflow: ["某步骤"])
    report = repository.migrate(policy, 1, new_id, [case_no])
    assert report.refused == {case_no: "迁移后仍有步骤无法对应新版本：某步骤"}
    assert case_snapshot(runtime, case_id) == before
    monkeypatch.undo()
    assert repository.migrate(policy, 1, new_id, [case_no]).moved == [case_no]
