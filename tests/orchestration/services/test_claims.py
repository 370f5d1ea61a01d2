"""Claim, release and leader reassign: checks, locking, audit events, and their effect on completion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from orchestration.engine.clock import SHANGHAI, FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.errors import Conflict, Forbidden, NotFound
from orchestration.read import queries
from orchestration.services import calendar_admin, claims
from orchestration.store.models import AuditEvent, OpenTask, User
from tests.helpers import SUCCESS_PATH, actor, add_colleague, advance_to, open_task, start


def audit(runtime: Runtime, case_id: int) -> list[tuple[str, str, dict]]:
    with runtime.sessions() as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.case_id == case_id, AuditEvent.action.in_(("claim", "release", "reassign")))
            .order_by(AuditEvent.id)
        )
        return [(e.action, e.actor, e.detail) for e in rows]


def claimed_by(runtime: Runtime, task_id: str) -> int | None:
    with runtime.sessions() as session:
        task = session.get(OpenTask, task_id)
        assert task is not None
        return task.claimed_by


def test_claim_and_release(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    clerk = actor(runtime, "clerk")
    result = claims.claim(runtime, task.id, clerk)
    assert (result.claimed_by, result.claimed_by_name, result.title) == (
        clerk.user_id,
        "王芳",
        "甄别适用范围",
    )
    assert claimed_by(runtime, task.id) == clerk.user_id
    claims.claim(runtime, task.id, clerk)  # claiming again is a no-op, not a second event
    claims.release(runtime, task.id, clerk)
    assert claimed_by(runtime, task.id) is None
    assert [(a, who) for a, who, _ in audit(runtime, case_id)] == [("claim", "clerk"), ("release", "clerk")]
    assert audit(runtime, case_id)[0][2]["task_id"] == task.id


def test_only_the_tasks_role_and_organisation_may_claim(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    for username in ("leader", "clerk2", "county_clerk", "mediator"):
        with pytest.raises(Forbidden):
            claims.claim(runtime, task.id, actor(runtime, username))
    assert audit(runtime, case_id) == []


def test_a_claimed_task_is_closed_to_colleagues(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    leader = actor(runtime, "leader")
    add_colleague(runtime, "clerk_b", "赵敏", of="clerk")
    other = actor(runtime, "clerk_b")
    claims.claim(runtime, task.id, actor(runtime, "clerk"))
    with pytest.raises(Conflict, match="王芳"):
        claims.claim(runtime, task.id, other)
    with pytest.raises(Forbidden):
        claims.release(runtime, task.id, other)
    with pytest.raises(Forbidden):
        runtime.complete_task(task.id, SUCCESS_PATH[0][2], other)
    # The leader hands it to the second clerk, who may then complete it.
    result = claims.reassign(runtime, task.id, leader, "clerk_b")
    assert result.claimed_by_name == "赵敏"
    runtime.complete_task(task.id, SUCCESS_PATH[0][2], other)
    assert [a for a, _, _ in audit(runtime, case_id)] == ["claim", "reassign"]
    assert audit(runtime, case_id)[1][2]["to"] == "clerk_b"


def test_reassign_rules(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    with pytest.raises(Forbidden, match="分管领导"):
        claims.reassign(runtime, task.id, actor(runtime, "clerk"), "clerk")
    with pytest.raises(Forbidden, match="分管领导"):
        claims.reassign(runtime, task.id, actor(runtime, "leader2"), "clerk")
    with pytest.raises(Forbidden, match="不是本机构"):
        claims.reassign(runtime, task.id, actor(runtime, "leader"), "leader")  # wrong role
    with pytest.raises(Forbidden, match="不是本机构"):
        claims.reassign(runtime, task.id, actor(runtime, "leader"), "clerk2")  # wrong organisation
    with pytest.raises(NotFound):
        claims.reassign(runtime, task.id, actor(runtime, "leader"), "nobody")
    claims.reassign(runtime, task.id, actor(runtime, "leader"), "clerk")
    assert claimed_by(runtime, task.id) == actor(runtime, "clerk").user_id
    # A leader may also take a claim back.
    claims.release(runtime, task.id, actor(runtime, "leader"))
    assert claimed_by(runtime, task.id) is None
    assert audit(runtime, case_id)[-1][2]["previous"] == "王芳"


def test_reassignment_candidates_are_the_active_users_of_the_tasks_role_and_organisation(
    runtime: Runtime,
) -> None:
    case_id = start(runtime)
    screen = open_task(runtime, case_id, "screen_case")
    review = advance_to(runtime, start(runtime), "review_referral")
    add_colleague(runtime, "clerk_b", "赵敏", of="clerk")
    add_colleague(runtime, "clerk_gone", "钱进", of="clerk", active=False)
    add_colleague(runtime, "clerk2_b", "孙浩", of="clerk2")  # the same role in another office

    def candidates(task_id: str) -> list[str]:
        with runtime.sessions() as session:
            task = session.get(OpenTask, task_id)
            assert task is not None
            return sorted(u.username for u in queries.claimable_users(session, task))

    assert candidates(screen.id) == ["clerk", "clerk_b"]
    # not the county's or the other township's mediators
    assert candidates(review.id) == ["mediator"]
    # The leader's reassignment takes exactly these people and refuses everyone else.
    leader = actor(runtime, "leader")
    with runtime.sessions() as session:
        everyone = list(session.scalars(select(User.username).order_by(User.username)))
    accepted = []
    for username in everyone:
        try:
            claims.reassign(runtime, screen.id, leader, username)
            accepted.append(username)
        except (Forbidden, NotFound):
            pass
    assert sorted(accepted) == candidates(screen.id)


def test_a_completed_task_cannot_be_claimed(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    runtime.complete_task(task.id, SUCCESS_PATH[0][2], actor(runtime, "clerk"))
    for action in (claims.claim, claims.release):
        with pytest.raises(Conflict, match="已办理完毕"):
            action(runtime, task.id, actor(runtime, "clerk"))
    with pytest.raises(Conflict):
        claims.claim(runtime, "00000000-0000-0000-0000-000000000000", actor(runtime, "clerk"))


def test_a_claim_ends_with_its_task(runtime: Runtime) -> None:
    """The claim belongs to the task's open-task row: the task that follows starts unclaimed."""
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    claims.claim(runtime, task.id, actor(runtime, "clerk"))
    runtime.complete_task(task.id, SUCCESS_PATH[0][2], actor(runtime, "clerk"))
    follow = open_task(runtime, case_id, "guide_divert")
    assert follow.claimed_by is None


def _report_risk(runtime: Runtime, clock: FrozenClock, case_id: int) -> None:
    risk = {
        "risk_type": "leapfrog",
        "description": "扬言越级上访",
        "police_recipient": "八廓派出所",
        "government_recipient": "八廓街道办事处",
        "receipt": "值班人员接收",
    }
    runtime.report_risk(case_id, risk, actor(runtime, "mediator"))


def _fire_the_deadline_warning(runtime: Runtime, clock: FrozenClock, case_id: int) -> None:
    clock.set(datetime(2026, 11, 17, 8, 0, tzinfo=SHANGHAI))  # the warning is due, the deadline not yet
    assert runtime.run_due_timers() == 1


def _make_the_deadline_day_a_rest_day(runtime: Runtime, clock: FrozenClock, case_id: int) -> None:
    """The open-task row is updated in place: its due time moves on a day."""
    deadline = open_task(runtime, case_id, "mediate").due_at
    assert deadline is not None
    day = deadline.astimezone(SHANGHAI).date()
    assert calendar_admin.set_day(runtime, day, False, "调休", actor(runtime, "admin")).moved == 2
    assert open_task(runtime, case_id, "mediate").due_at == deadline + timedelta(days=1)


def _complete_the_risk_task(runtime: Runtime, clock: FrozenClock, case_id: int) -> None:
    handled = {"risk_assessment": "可能越级上访", "measures": "已约谈当事人"}
    runtime.complete_task(open_task(runtime, case_id, "handle_risk").id, handled, actor(runtime, "clerk"))


Step = Callable[[Runtime, FrozenClock, int], None]
# Steps during mediation after which 依法调解 is still open: (what happens first, the step itself).
STEPS_LEAVING_MEDIATION_OPEN: dict[str, tuple[list[Step], Step]] = {
    "risk report": ([], _report_risk),
    "deadline warning fires": ([], _fire_the_deadline_warning),
    "deadline moved by the calendar": ([], _make_the_deadline_day_a_rest_day),
    "parallel risk task completed": ([_report_risk], _complete_the_risk_task),
}
CLAIMER = {"mediate": "mediator", "handle_risk": "clerk"}


@pytest.mark.parametrize(
    ("before", "step"), STEPS_LEAVING_MEDIATION_OPEN.values(), ids=STEPS_LEAVING_MEDIATION_OPEN.keys()
)
def test_claims_survive_a_step_that_leaves_their_task_open(
    runtime: Runtime, clock: FrozenClock, before: list[Step], step: Step
) -> None:
    """A step rewrites only the open-task rows it changes: a task still open keeps its claimer."""
    case_id = start(runtime)
    mediate = advance_to(runtime, case_id, "mediate")
    for earlier in before:
        earlier(runtime, clock, case_id)

    def current_claims() -> dict[str, tuple[str, int | None]]:
        with runtime.sessions() as session:
            rows = session.scalars(select(OpenTask).where(OpenTask.case_id == case_id))
            return {t.id: (t.task_name, t.claimed_by) for t in rows}

    for task_id, (name, _) in current_claims().items():
        claims.claim(runtime, task_id, actor(runtime, CLAIMER[name]))
    claimed = current_claims()
    assert claimed[mediate.id] == ("mediate", actor(runtime, "mediator").user_id)
    step(runtime, clock, case_id)
    after = current_claims()
    assert mediate.id in after
    assert {i: after[i] for i in claimed if i in after} == {i: claimed[i] for i in claimed if i in after}
