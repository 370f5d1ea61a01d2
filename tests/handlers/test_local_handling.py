"""属地管理 (实施意见 三(二)) and handing a hard case up during mediation (七(三))."""

from __future__ import annotations

import pytest

from handlers.api import HandlerError
from tests.handlers.fakes import JUSTICE_OFFICE, MEDIATION_COMMITTEE, OTHER_COMMITTEE, FakeContext, run

ASSIGNED = {
    "locality_assignment": {"mediation_org": MEDIATION_COMMITTEE.code, "mediation_org_name": "八廓街道调委会"}
}


def test_the_local_organisation_needs_no_reason() -> None:
    result = run("check_local_handling", FakeContext(data=ASSIGNED), mediation_org=MEDIATION_COMMITTEE.code)
    assert result == {"local": True, "mediation_org": MEDIATION_COMMITTEE.code, "reason": None}


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_another_organisation_needs_a_reason(reason: str | None) -> None:
    data = {**ASSIGNED, "mediation_org_reason": reason}
    with pytest.raises(
        HandlerError, match="本案应由八廓街道调委会承办；选择东嘎街道人民调解委员会的，请填写"
    ):
        run("check_local_handling", FakeContext(data=data), mediation_org=OTHER_COMMITTEE.code)


def test_another_organisation_with_a_reason_is_recorded() -> None:
    data = {**ASSIGNED, "mediation_org_reason": " 被申请人在东嘎 "}
    result = run("check_local_handling", FakeContext(data=data), mediation_org=OTHER_COMMITTEE.code)
    assert result == {"local": False, "mediation_org": OTHER_COMMITTEE.code, "reason": "被申请人在东嘎"}


def test_a_hand_up_goes_to_the_justice_side_which_decides() -> None:
    ctx = FakeContext()
    with pytest.raises(HandlerError, match="不能与原组织相同"):
        run("request_handover", ctx, target_org=MEDIATION_COMMITTEE.code, reason="x")
    request = run("request_handover", ctx, target_org=OTHER_COMMITTEE.code, reason="专业性强")
    assert (ctx.notices[-1].org_id, ctx.notices[-1].kind) == (JUSTICE_OFFICE.id, "handover_requested")
    decided = run("decide_handover", ctx, request=request, decision="approve", opinion="同意")
    assert decided["approved"] is True and decided["to"] == OTHER_COMMITTEE.code
    refused = run("decide_handover", ctx, request=request, decision="refuse", opinion="继续调解")
    assert refused["approved"] is False
    assert ctx.notices[-1].message.endswith("未获同意，继续调解")
