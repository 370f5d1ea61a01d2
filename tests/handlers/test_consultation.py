"""会商 (实施意见 六(二)): both sides' opinions, the conclusion when they agree, the level above when not."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.api import HandlerError
from tests.handlers.fakes import (
    COUNTY,
    JUSTICE_OFFICE,
    MEDIATION_COMMITTEE,
    OTHER_COMMITTEE,
    PETITION_OFFICE,
    FakeContext,
    Notice,
    run,
)

PETITION = {
    "petition_proposal": "mediation_accepts",
    "petition_opinion": "属于民事纠纷。",
    "petition_representative": "八廓街道信访办 王芳",
}
JUSTICE = {
    "consultation_date": "2026-11-02",
    "participants": "八廓街道信访办王芳、八廓街道司法所张伟",
    "consultation_outcome": "mediation_accepts",
    "justice_opinion": "同意。",
    "justice_representative": "八廓街道司法所 张伟",
}


def test_the_same_opinion_is_the_conclusion_and_the_minutes_name_who_agreed() -> None:
    ctx = FakeContext(data={**PETITION, **JUSTICE, "consultation_request": {"reason": "退回有异议"}})
    result = run("conclude_consultation", ctx)
    assert result["agreed"] is True and result["outcome"] == "mediation_accepts"
    document = ctx.only_document()
    assert document.kind == "consultation_minutes"
    assert document.content["agreed_by"] == ["八廓街道信访办 王芳", "八廓街道司法所 张伟"]
    assert document.content["petition_opinion"] == "由原人民调解组织受理调解。属于民事纠纷。"
    assert document.content["reason"] == "退回有异议"
    assert document.content["escalated_to"] is None
    assert ctx.justice_org_id == JUSTICE_OFFICE.id


def test_a_transfer_agrees_only_with_the_same_organisation() -> None:
    petition = {**PETITION, "petition_proposal": "transfer", "petition_transfer_org": OTHER_COMMITTEE.code}
    justice = {**JUSTICE, "consultation_outcome": "transfer", "transfer_org": OTHER_COMMITTEE.code}
    agreed = run("conclude_consultation", FakeContext(data={**petition, **justice}))
    assert (agreed["agreed"], agreed["transfer_org"]) == (True, OTHER_COMMITTEE.code)
    # the same outcome with another organisation is a different opinion
    ctx = FakeContext(
        data={**petition, **justice, "transfer_org": "540102-tj"},
        mediation_orgs=[MEDIATION_COMMITTEE, OTHER_COMMITTEE, COUNTY.mediation_org],
    )
    assert run("conclude_consultation", ctx)["agreed"] is False


def test_the_deciding_side_may_not_transfer_to_the_organisation_that_has_the_case() -> None:
    justice = {**JUSTICE, "consultation_outcome": "transfer", "transfer_org": MEDIATION_COMMITTEE.code}
    with pytest.raises(HandlerError, match="改派的人民调解组织不能与原组织相同"):
        run("conclude_consultation", FakeContext(data={**PETITION, **justice}))


def test_different_opinions_go_to_the_level_above_and_its_decision_is_recorded() -> None:
    data: dict[str, Any] = {**PETITION, **JUSTICE, "consultation_outcome": "ordinary"}
    ctx = FakeContext(data=data)
    escalated = run("conclude_consultation", ctx)
    assert escalated["agreed"] is False and escalated["escalated_to"] == "城关区信访局、城关区司法局"
    assert ctx.documents == []
    # the county's justice bureau holds the task while it decides
    assert ctx.justice_org_id == COUNTY.justice_org.id
    assert (
        Notice(
            COUNTY.justice_org.id,
            "justice_officer",
            "consultation_escalated",
            ("案件 FT2026-000001 信访部门与司法行政部门会商意见不一致，提请上一级会商决定"),
        )
        in ctx.notices
    )
    ctx.data = {
        **data,
        "consultation": escalated,
        "escalated_date": "2026-11-06",
        "escalated_participants": "城关区信访局孙丽、城关区司法局次旦",
        "escalated_outcome": "ordinary",
        "escalated_reasons": "先按信访程序办理。",
    }
    decided = run("record_escalated_consultation", ctx, consultation=escalated)
    assert decided["outcome"] == "ordinary" and decided["escalated"] is True
    minutes = ctx.only_document().content
    assert minutes["agreed_by"] == ["八廓街道司法所 张伟", "上一级会商：城关区信访局孙丽、城关区司法局次旦"]
    assert minutes["escalated_to"] == "城关区信访局、城关区司法局"
    assert minutes["held_on"] == "2026-11-06"
    # back to the local justice office for the rest of the case
    assert ctx.justice_org_id == JUSTICE_OFFICE.id
    assert ctx.notices[-1] == Notice(
        PETITION_OFFICE.id,
        "petition_clerk",
        "consultation",
        "案件 FT2026-000001 经上一级会商决定：由信访部门按信访程序办理",
    )


def test_there_is_nothing_above_the_top_level() -> None:
    ctx = FakeContext(data={**PETITION, **JUSTICE, "consultation_outcome": "ordinary"}, upper_levels={})
    with pytest.raises(HandlerError, match="已是最高一级"):
        run("conclude_consultation", ctx)


@pytest.mark.parametrize(
    ("held_on", "message"),
    [
        ("2026-11-03", "会商日期（2026年11月3日）不能晚于今天（2026年11月2日）"),
        ("2026-10-30", "会商日期（2026年10月30日）不能早于提请会商之日（2026年10月31日）"),
        ("9999-12-31", "不能晚于今天"),
        ("", "会商日期应为有效日期"),
    ],
)
def test_the_consultation_date_is_not_in_the_future_nor_before_it_was_requested(
    held_on: str, message: str
) -> None:
    requested = {"reason": "退回有异议", "requested_at": "2026-10-31T10:00:00+08:00"}
    ctx = FakeContext(
        data={**PETITION, **JUSTICE, "consultation_date": held_on, "consultation_request": requested}
    )
    with pytest.raises(HandlerError, match=message.replace("（", "\\（").replace("）", "\\）")):
        run("conclude_consultation", ctx)
    assert ctx.documents == []
