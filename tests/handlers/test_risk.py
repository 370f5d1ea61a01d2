"""排查预警 (实施意见 七(三)): a risk report reaches the petition office at once."""

from __future__ import annotations

import pytest

from tests.handlers.fakes import NOW, PETITION_OFFICE, FakeContext, Notice, run


@pytest.mark.parametrize(
    ("risk_type", "label"),
    [
        ("mass_incident", "可能引发群体性事件"),
        ("leapfrog", "可能引发越级上访"),
        ("other", "其他风险"),
        ("unheard_of", "风险"),
        (None, "风险"),
    ],
)
def test_a_risk_report_reaches_the_clerk_and_the_leader(risk_type: str | None, label: str) -> None:
    ctx = FakeContext()
    result = run("notify_risk", ctx, report={"risk_type": risk_type, "description": "十余户村民拟集体上访"})
    message = f"案件 FT2026-000001 报告风险（{label}）：十余户村民拟集体上访"
    assert ctx.notices == [
        Notice(PETITION_OFFICE.id, "petition_clerk", "risk", message),
        Notice(PETITION_OFFICE.id, "petition_leader", "risk", message),
    ]
    assert result == {"notified_at": NOW.isoformat(), "risk_type": risk_type}


def test_a_risk_report_without_a_description() -> None:
    ctx = FakeContext()
    run("notify_risk", ctx, report={"risk_type": "leapfrog"})
    assert ctx.notices[0].message == "案件 FT2026-000001 报告风险（可能引发越级上访）："
