"""The administrators' instances service on both databases: the list with its filters, counts and keyset
paging; the case's engine view; and every repair, refused where the case's state makes it meaningless,
each audited with its reason, a refused one writing nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, select

from orchestration.domain import petition_clock
from orchestration.domain.procedure import read_directories
from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.errors import Conflict, Forbidden, InvalidData
from orchestration.read.instances import InstanceFilter
from orchestration.services import Services
from orchestration.services.admin_instances import InstanceService
from orchestration.store.models import (
    AuditEvent,
    Case,
    Document,
    DocumentAct,
    Incident,
    OpenTask,
    Timer,
)
from tests.helpers import SUCCESS_PATH, actor, advance_to, case_snapshot, open_task, start, viewer
from tests.orchestration.services.procedure_edits import ten_day_mediation


@pytest.fixture
def services(engine: Engine, runtime: Runtime) -> Services:
    found = Services(engine, runtime.clock)
    found.runtime = runtime  # the test's runtime: its workflow cache sees every step the helpers take
    found.instances = InstanceService(runtime)
    return found


def number(runtime: Runtime, case_id: int) -> str:
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.case_no


def audits(runtime: Runtime, case_id: int, action: str) -> list[AuditEvent]:
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action == action)
            )
        )


def test_the_list_filters_counts_and_pages_from_where_it_left_off(
    services: Services, runtime: Runtime
) -> None:
    admin = viewer(runtime, "admin")
    cases = [start(runtime) for _ in range(5)]
    advance_to(runtime, cases[0], "review_referral")
    services.instances.suspend(admin, number(runtime, cases[1]), "核查")
    seen: list[str] = []
    filters = InstanceFilter(per_page=2)
    while True:
        page = services.instances.search(admin, filters)
        seen += [row.case_no for row in page.rows]
        if page.next_cursor is None:
            break
        filters = InstanceFilter(per_page=2, after=page.next_cursor)
    assert sorted(seen) == sorted(number(runtime, c) for c in cases) and len(seen) == 5
    assert page.counts["running"] == 4 and page.counts["suspended"] == 1
    suspended = services.instances.search(admin, InstanceFilter(status="suspended"))
    assert [r.case_no for r in suspended.rows] == [number(runtime, cases[1])]
    at_review = services.instances.search(admin, InstanceFilter(step="review_referral"))
    assert [r.case_no for r in at_review.rows] == [number(runtime, cases[0])]
    assert at_review.rows[0].steps == ["决定受理或退回"] or at_review.rows[0].steps
    by_number = services.instances.search(admin, InstanceFilter(case_no=number(runtime, cases[2])[-4:]))
    assert number(runtime, cases[2]) in [r.case_no for r in by_number.rows]
    other_town = services.instances.search(admin, InstanceFilter(org="540102002"))
    assert other_town.rows == [] and other_town.counts["running"] == 0
    in_county = services.instances.search(admin, InstanceFilter(org="540102"))
    assert len(in_county.rows) == 5
    ascending = services.instances.search(admin, InstanceFilter(sort="case_no", descending=False))
    assert [r.case_no for r in ascending.rows] == sorted(r.case_no for r in ascending.rows)
    steps = dict(services.instances.choices(admin)["steps"])
    assert "review_referral" in steps and "screen_case" in steps
    with pytest.raises(InvalidData):
        services.instances.search(admin, InstanceFilter(status="bogus"))
    with pytest.raises(Forbidden):
        services.instances.search(viewer(runtime, "clerk"), InstanceFilter())


def test_a_suspended_case_timers_wait_and_fire_on_resume(
    services: Services, runtime: Runtime, clock: FrozenClock
) -> None:
    admin = viewer(runtime, "admin")
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    case_no = number(runtime, case_id)
    services.instances.suspend(admin, case_no, "等待核实当事人身份")
    clock.advance(timedelta(days=5))
    assert runtime.run_due_timers() == 0
    with pytest.raises(Conflict, match="已处于暂停状态"):
        services.instances.suspend(admin, case_no, "再次暂停")
    services.instances.resume(admin, case_no, "核实完毕")
    assert runtime.run_due_timers() == 1
    assert audits(runtime, case_id, "suspend")[0].detail["reason"] == "等待核实当事人身份"
    assert audits(runtime, case_id, "resume")[0].detail["reason"] == "核实完毕"
    with pytest.raises(Conflict, match="无需恢复"):
        services.instances.resume(admin, case_no, "恢复")


def test_every_action_asks_for_a_reason_and_writes_nothing_without_one(
    services: Services, runtime: Runtime
) -> None:
    admin = viewer(runtime, "admin")
    case_id = start(runtime)
    case_no = number(runtime, case_id)
    before = case_snapshot(runtime, case_id)
    task = open_task(runtime, case_id, "screen_case").id
    for call in (
        lambda: services.instances.suspend(admin, case_no, " "),
        lambda: services.instances.terminate(admin, case_no, ""),
        lambda: services.instances.reset(admin, case_no, task, ""),
        lambda: services.instances.reassign(admin, case_no, task, "clerk", ""),
        lambda: services.instances.bulk(admin, "suspend", InstanceFilter(), ""),
    ):
        with pytest.raises(InvalidData, match="请填写操作原因"):
            call()
    assert case_snapshot(runtime, case_id) == before
    with pytest.raises(Forbidden):
        services.instances.terminate(viewer(runtime, "leader"), case_no, "越权")
    assert case_snapshot(runtime, case_id) == before


def test_terminate_ends_the_case_and_nothing_of_it_runs_again(
    services: Services, runtime: Runtime, clock: FrozenClock
) -> None:
    admin = viewer(runtime, "admin")
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    case_no = number(runtime, case_id)
    services.instances.terminate(admin, case_no, "重复登记")
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.status == "terminated" and case.petition_deadline is None
        assert case.task_open is False
        assert session.scalars(select(OpenTask).where(OpenTask.case_id == case_id)).all() == []
        assert session.scalars(select(Timer).where(Timer.case_id == case_id)).all() == []
    clock.advance(timedelta(days=10))
    assert runtime.run_due_timers() == 0
    for call, message in (
        (lambda: services.instances.terminate(admin, case_no, "再次"), "已被终止"),
        (lambda: services.instances.suspend(admin, case_no, "暂停"), "已被管理员终止"),
        (lambda: services.instances.reset(admin, case_no, "x", "退回"), "已被终止"),
    ):
        with pytest.raises(Conflict, match=message):
            call()
    assert services.instances.search(admin, InstanceFilter(status="terminated")).rows[0].case_no == case_no
    assert audits(runtime, case_id, "terminate")[0].detail == {"reason": "重复登记", "was": "running"}


def test_fire_a_pending_timer_now(services: Services, runtime: Runtime) -> None:
    admin = viewer(runtime, "admin")
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    case_no = number(runtime, case_id)
    detail = services.instances.detail(admin, case_no)
    assert [t.name for t in detail.timers] == ["3日内未作决定"]
    timer_id = detail.timers[0].task_id
    services.instances.suspend(admin, case_no, "暂停")
    with pytest.raises(Conflict, match="请先恢复"):
        services.instances.fire_timer(admin, case_no, timer_id, "提前")
    services.instances.resume(admin, case_no, "恢复")
    services.instances.fire_timer(admin, case_no, timer_id, "当事人已撤回")
    assert services.instances.detail(admin, case_no).timers == []
    with pytest.raises(Conflict, match="已触发"):
        services.instances.fire_timer(admin, case_no, timer_id, "再次")
    event = audits(runtime, case_id, "fire_timer")[0]
    assert event.detail["fired"] == ["3日内未作决定"] and event.detail["reason"] == "当事人已撤回"


def test_reset_to_an_earlier_step_restores_its_data_and_withdraws_later_documents(
    services: Services, runtime: Runtime, clock: FrozenClock
) -> None:
    admin = viewer(runtime, "admin")
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    case_no = number(runtime, case_id)
    with runtime.sessions() as session:
        letter = session.scalar(select(Document).where(Document.case_id == case_id))
        assert letter is not None
    detail = services.instances.detail(admin, case_no)
    target = next(s for s in detail.reset_targets if s.name == "draft_referral")
    clock.advance(timedelta(hours=1))
    withdrawn = services.instances.reset(admin, case_no, target.task_id, "移送的调解组织选错")
    assert withdrawn == [letter.number]
    again = open_task(runtime, case_id, "draft_referral")
    assert again.id == target.task_id
    with runtime.sessions() as session:
        assert session.scalars(select(OpenTask.task_name).where(OpenTask.case_id == case_id)).all() == [
            "draft_referral"
        ]
        assert session.scalars(select(Timer).where(Timer.case_id == case_id)).all() == []
        acts = session.scalars(select(DocumentAct).where(DocumentAct.document_id == letter.id)).all()
        assert [a.act for a in acts] == ["withdrawn"]
        case = session.get(Case, case_id)
        assert case is not None
        data = runtime.case_data(session, case)
    # the data as it was when the step became ready: nothing of the referral it drafted
    assert "mediation_org" not in data and "referral" not in data
    assert {d.state for d in services.instances.detail(admin, case_no).documents} == {"已撤回"}
    for name, username, values in [s for s in SUCCESS_PATH if s[0] in ("draft_referral", "approve_referral")]:
        runtime.complete_task(open_task(runtime, case_id, name).id, values, actor(runtime, username))
    with runtime.sessions() as session:
        numbers = session.scalars(select(Document.number).where(Document.case_id == case_id)).all()
    assert len(numbers) == 2 and numbers[1] != numbers[0]
    assert open_task(runtime, case_id, "review_referral")
    event = audits(runtime, case_id, "reset")[0]
    assert event.detail["to"] == target.title and event.detail["withdrawn"] == [letter.number]
    assert len(audits(runtime, case_id, "withdraw_document")) == 1
    with pytest.raises(Conflict, match="已办理完毕的人工环节"):
        services.instances.reset(admin, case_no, open_task(runtime, case_id, "review_referral").id, "退回")


def test_reset_undoes_what_the_undone_steps_recorded_on_the_petition_clock(
    services: Services, runtime: Runtime, clock: FrozenClock
) -> None:
    """Back from mediation to the mediation organisation's review: the pause its acceptance recorded is
    undone, so the petition's limit runs again until the case is accepted anew."""
    admin = viewer(runtime, "admin")
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    assert clock_kinds(runtime, case_id) == ["start", "pause"]
    assert case_row(runtime, case_id).petition_deadline is None  # paused: the remaining time is frozen
    case_no = number(runtime, case_id)
    target = next(
        s for s in services.instances.detail(admin, case_no).reset_targets if s.name == "review_referral"
    )
    clock.advance(timedelta(days=2))
    services.instances.reset(admin, case_no, target.task_id, "受理审查有误")
    assert clock_kinds(runtime, case_id) == ["start"]
    assert case_row(runtime, case_id).petition_deadline is not None
    assert audits(runtime, case_id, "reset")[0].detail["clock_undone"] == ["pause"]
    (_, username, values) = next(s for s in SUCCESS_PATH if s[0] == "review_referral")
    runtime.complete_task(open_task(runtime, case_id, "review_referral").id, values, actor(runtime, username))
    assert clock_kinds(runtime, case_id) == ["start", "pause"]


def clock_kinds(runtime: Runtime, case_id: int) -> list[str]:
    with runtime.sessions() as session:
        return [e.kind for e in petition_clock.events(session, case_id)]


def case_row(runtime: Runtime, case_id: int) -> Case:
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


def test_reassign_to_a_person_and_back_to_the_pool(services: Services, runtime: Runtime) -> None:
    admin = viewer(runtime, "admin")
    case_id = start(runtime)
    case_no = number(runtime, case_id)
    task = open_task(runtime, case_id, "screen_case")
    services.instances.reassign(admin, case_no, task.id, "clerk", "经办人请假前指定")
    assert open_task(runtime, case_id, "screen_case").claimed_by == actor(runtime, "clerk").user_id
    with pytest.raises(Conflict, match="不是该任务所属机构"):
        services.instances.reassign(admin, case_no, task.id, "mediator", "改派")
    services.instances.reassign(admin, case_no, task.id, None, "退回待认领")
    assert open_task(runtime, case_id, "screen_case").claimed_by is None
    with pytest.raises(Conflict, match="未被认领"):
        services.instances.reassign(admin, case_no, task.id, None, "再次退回")
    assert [e.detail["reason"] for e in audits(runtime, case_id, "reassign")] == ["经办人请假前指定"]
    assert [e.detail["reason"] for e in audits(runtime, case_id, "release")] == ["退回待认领"]


def test_retry_an_incident_and_bulk_actions_report_per_case(
    services: Services, runtime: Runtime, clock: FrozenClock
) -> None:
    admin = viewer(runtime, "admin")
    failing, healthy, paused = start(runtime), start(runtime), start(runtime)
    advance_to(runtime, failing, "review_referral")
    with runtime.transaction() as session:
        timer = session.scalar(select(Timer).where(Timer.case_id == failing))
        assert timer is not None
        timer.attempts = 5
        session.add(
            Incident(
                case_id=failing,
                kind="timer",
                message="定时器失败",
                task_name="3日内未作决定",
                traceback="Traceback ...",
                attempts=5,
                created_at=clock.now(),
            )
        )
    services.instances.suspend(admin, number(runtime, paused), "暂停")
    assert services.instances.search(admin, InstanceFilter()).counts["incident"] == 1
    incident = services.instances.detail(admin, number(runtime, failing)).incidents[0]
    assert incident.step == "3日内未作决定" and incident.attempts == 5 and incident.traceback
    with pytest.raises(Conflict, match="没有待处理的故障事件"):
        services.instances.retry(admin, number(runtime, healthy), "重试")
    report = services.instances.bulk(admin, "retry", InstanceFilter(status="incident"), "处理程序已修复")
    assert [(o.case_no, o.ok) for o in report] == [(number(runtime, failing), True)]
    with runtime.sessions() as session:
        timer = session.scalar(select(Timer).where(Timer.case_id == failing))
        assert timer is not None and timer.attempts == 0 and timer.due_at == clock.now()
    report = services.instances.bulk(admin, "resume", InstanceFilter(), "全部恢复")
    outcomes = {o.case_no: (o.ok, o.message) for o in report}
    assert outcomes[number(runtime, paused)] == (True, "完成")
    assert outcomes[number(runtime, healthy)] == (False, "案件未处于暂停状态，无需恢复")
    report = services.instances.bulk(admin, "suspend", InstanceFilter(), "系统维护")
    assert all(o.ok for o in report) and len(report) == 3
    with pytest.raises(InvalidData):
        services.instances.bulk(admin, "terminate", InstanceFilter(), "不支持")


def test_migrate_a_case_refused_when_it_makes_no_sense(services: Services, runtime: Runtime) -> None:
    admin = viewer(runtime, "admin")
    case_id = start(runtime)
    case_no = number(runtime, case_id)
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        version_id = case.version_id
    before = case_snapshot(runtime, case_id)
    with pytest.raises(Conflict, match="已在该版本上"):
        services.instances.migrate(admin, case_no, version_id, "迁移")
    services.instances.terminate(admin, case_no, "终止")
    with pytest.raises(Conflict, match="已被管理员终止"):
        services.instances.migrate(admin, case_no, version_id, "迁移")
    assert case_snapshot(runtime, case_id)["state"] != before["state"]


def test_migrate_a_case_to_another_version(services: Services, runtime: Runtime) -> None:
    admin = viewer(runtime, "admin")
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    case_no = number(runtime, case_id)
    second, _ = runtime.deploy_files(
        ten_day_mediation(read_directories(runtime.processes_dir, runtime.forms_dir))
    )
    assert [number for _, number in services.instances.detail(admin, case_no).versions] == [2]
    services.instances.migrate(admin, case_no, second.id, "按新版实施意见办理")
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.version_id == second.id
    assert audits(runtime, case_id, "migrate")[0].detail["reason"] == "按新版实施意见办理"
    assert services.instances.search(admin, InstanceFilter(process_id="fangtiao_referral", version=2)).rows
    assert not services.instances.search(
        admin, InstanceFilter(process_id="fangtiao_referral", version=1)
    ).rows


def test_a_running_case_with_no_task_open_but_a_timer_counts_as_waiting_on_it(
    services: Services, runtime: Runtime
) -> None:
    """The procedure has no timer-only wait today; a version that had one would leave its cases so."""
    admin = viewer(runtime, "admin")
    waiting, working = start(runtime), start(runtime)
    advance_to(runtime, waiting, "review_referral")
    advance_to(runtime, working, "review_referral")
    with runtime.sessions() as session:
        assert all(c.task_open for c in session.scalars(select(Case)))
    with runtime.transaction() as session:
        session.execute(delete(OpenTask).where(OpenTask.case_id == waiting))
        case = session.get(Case, waiting)
        assert case is not None
        case.task_open = False
    page = services.instances.search(admin, InstanceFilter(status="timer"))
    assert [r.case_no for r in page.rows] == [number(runtime, waiting)]
    assert page.counts["timer"] == 1 and page.counts["running"] == 2
    assert page.rows[0].steps == [] and page.rows[0].timers == 1
