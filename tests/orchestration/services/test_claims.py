"""Claim, release and leader reassign: checks, locking, audit events, and their effect on completion."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from orchestration.engine.runtime import Runtime
from orchestration.errors import Conflict, Forbidden, NotFound
from orchestration.services import claims
from orchestration.store.models import AuditEvent, OpenTask
from tests.helpers import SUCCESS_PATH, actor, open_task, start


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
    # A second clerk of the same office, made for this test.
    from orchestration.store.models import User

    with runtime.sessions() as session, session.begin():
        clerk = session.scalar(select(User).where(User.username == "clerk"))
        assert clerk is not None
        session.add(User(username="clerk_b", display_name="赵敏", role="petition_clerk", org_id=clerk.org_id))
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


def test_a_completed_task_cannot_be_claimed(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    runtime.complete_task(task.id, SUCCESS_PATH[0][2], actor(runtime, "clerk"))
    for action in (claims.claim, claims.release):
        with pytest.raises(Conflict, match="已办理完毕"):
            action(runtime, task.id, actor(runtime, "clerk"))
    with pytest.raises(Conflict):
        claims.claim(runtime, "00000000-0000-0000-0000-000000000000", actor(runtime, "clerk"))


def test_claim_survives_the_case_moving_on(runtime: Runtime) -> None:
    """Claims belong to the open-task row; another task of the case completing leaves them alone."""
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    claims.claim(runtime, task.id, actor(runtime, "clerk"))
    runtime.complete_task(task.id, SUCCESS_PATH[0][2], actor(runtime, "clerk"))
    follow = open_task(runtime, case_id, "guide_divert")
    assert follow.claimed_by is None
