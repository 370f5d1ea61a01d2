"""按信访程序登记办理: why the case left mediation, and the petition clock going on."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.ordinary import ground
from tests.handlers.fakes import NOW, PETITION_OFFICE, FakeContext, Notice, run


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"termination": {"reason": "期限届满"}}, "调解不成功：期限届满"),
        ({"consultation": {"outcome": "ordinary"}}, "经信访部门与司法行政部门会商，由信访部门按信访程序办理"),
        ({"return_decision": "accept_return", "return_reason": "专属管辖"}, "人民调解组织退回：专属管辖"),
        ({"consent": "refuse"}, "信访人不同意人民调解"),
        (
            {"consent": "agree", "respondent_consent": {"decision": "refuse", "refusal_reason": "不愿调解"}},
            "对方当事人不同意人民调解：不愿调解",
        ),
        ({"scope_ground": "依法应由专门机关处理"}, "不适用移送人民调解：依法应由专门机关处理"),
        ({}, "不适用移送人民调解："),
    ],
)
def test_each_way_out_of_mediation_has_its_ground(data: dict[str, Any], expected: str) -> None:
    assert ground(data) == expected


def test_the_latest_step_decides_the_ground() -> None:
    """A case carries the data of every step it passed: the last way out is the one that counts."""
    everything = {
        "consent": "refuse",
        "return_decision": "accept_return",
        "return_reason": "专属管辖",
        "consultation": {"outcome": "ordinary"},
        "scope_ground": "不适宜",
    }
    assert ground(everything).startswith("经信访部门与司法行政部门会商")
    assert ground({**everything, "termination": {}}) == "调解不成功："
    assert ground({"consent": "refuse", "return_decision": "accept_return"}) == "人民调解组织退回："


def test_routing_resumes_a_paused_clock_and_records_the_outcome() -> None:
    ctx = FakeContext(data={"consultation": {"outcome": "ordinary"}})
    ctx.pause_petition_clock()
    result = run("route_to_ordinary_procedure", ctx)
    assert ctx.clock_events == ["pause", "resume"]
    assert ctx.outcome == "ordinary"
    ground_text = "经信访部门与司法行政部门会商，由信访部门按信访程序办理"
    assert ctx.notices == [
        Notice(
            PETITION_OFFICE.id,
            "petition_clerk",
            "ordinary",
            f"案件 FT2026-000001 按信访程序办理：{ground_text}",
        )
    ]
    assert result == {"at": NOW.isoformat(), "ground": ground_text, "follow_up_requested": False}


def test_routing_before_mediation_leaves_the_clock_alone() -> None:
    ctx = FakeContext(data={"consent": "refuse"})
    run("route_to_ordinary_procedure", ctx)
    assert ctx.clock_events == []
    assert ctx.outcome == "ordinary"


def test_routing_keeps_an_outcome_already_reached() -> None:
    """A terminated mediation goes on in the ordinary procedure but stays `terminated` (for 重复调解)."""
    ctx = FakeContext(data={"termination": {"reason": "期限届满"}}, outcome="terminated")
    ctx.pause_petition_clock()
    ctx.resume_petition_clock()
    run("route_to_ordinary_procedure", ctx)
    assert ctx.outcome == "terminated"
    assert ctx.clock_events == ["pause", "resume"]


def test_after_a_termination_the_petition_office_may_ask_for_a_follow_up_visit() -> None:
    asked = FakeContext(data={"termination": {"reason": "期限届满"}, "follow_up_requested": True})
    assert run("route_to_ordinary_procedure", asked)["follow_up_requested"] is True
    assert [(n.role, n.kind) for n in asked.notices] == [
        ("petition_clerk", "ordinary"),
        ("mediator", "follow_up_requested"),
    ]
    # the box ticked on another way out (no mediation took place) asks for nothing
    returned = FakeContext(data={"return_decision": "accept_return", "follow_up_requested": True})
    assert run("route_to_ordinary_procedure", returned)["follow_up_requested"] is False
    assert (
        run("route_to_ordinary_procedure", FakeContext(data={"termination": {}}))["follow_up_requested"]
        is False
    )
