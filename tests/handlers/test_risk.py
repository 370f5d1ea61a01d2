"""排查预警 (实施意见 七(三)): the mediation organisation's report names whom it went to, a 风险报告 is
issued, and the petition office hears at once; `urgent` shortens its response to hours and tells its
leader."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.handlers.fakes import NOW, PETITION_OFFICE, FakeContext, Notice, run

REPORT = {
    "risk_type": "mass_incident",
    "description": "十余户村民拟集体上访",
    "police_recipient": "八廓派出所",
    "government_recipient": "八廓街道党工委、办事处",
    "receipt": "值班民警电话接收",
}


def test_an_urgent_report_is_due_in_hours_and_reaches_the_leader() -> None:
    ctx = FakeContext(actor_name="次仁卓玛")
    result = run("notify_risk", ctx, report={**REPORT, "urgent": True})
    message = "案件 FT2026-000001 报告风险（可能引发群体性事件），情况紧急，请于2小时内处置"
    assert ctx.notices == [
        Notice(PETITION_OFFICE.id, "petition_clerk", "risk", message),
        Notice(PETITION_OFFICE.id, "petition_leader", "risk", message),
    ]
    assert result["respond_by"] == (NOW + timedelta(hours=2)).isoformat()
    assert result["urgent"] is True
    document = ctx.only_document()
    assert document.kind == "risk_report"
    assert document.content["recipients"] == ["八廓派出所", "八廓街道党工委、办事处"]
    assert document.content["receipt"] == "值班民警电话接收"
    assert document.content["reported_by"] == "次仁卓玛"
    assert document.content["reported_at"] == NOW.isoformat()


@pytest.mark.parametrize(("risk_type", "label"), [("leapfrog", "可能引发越级上访"), ("unheard_of", "风险")])
def test_an_ordinary_report_is_due_the_next_working_day_and_reaches_the_clerk(
    risk_type: str, label: str
) -> None:
    ctx = FakeContext()
    result = run("notify_risk", ctx, report={**REPORT, "risk_type": risk_type})
    message = f"案件 FT2026-000001 报告风险（{label}），请于1个工作日内处置"
    assert ctx.notices == [Notice(PETITION_OFFICE.id, "petition_clerk", "risk", message)]
    # NOW is Monday 2 November 2026: the next working day ends on Tuesday
    assert result["respond_by"] == "2026-11-03T23:59:59+08:00"
    # the description may name people: it stays in the report, not in the notification
    assert "十余户" not in message


def test_a_late_response_tells_the_leader() -> None:
    ctx = FakeContext()
    run("warn_late_risk_response", ctx)
    assert [(n.role, n.kind) for n in ctx.notices] == [
        ("petition_leader", "risk_late"),
        ("petition_clerk", "risk_late"),
    ]
