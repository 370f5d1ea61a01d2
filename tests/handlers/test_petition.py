"""The petition office's acceptance (受理) and conclusion (办结): the dates typed, checked, and the clock."""

from __future__ import annotations

from datetime import datetime

import pytest

from handlers.api import SHANGHAI, HandlerError
from tests.handlers.fakes import FakeContext, run

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=SHANGHAI)


def test_acceptance_starts_the_sixty_days_on_the_day_typed() -> None:
    ctx = FakeContext(data={"received_on": "2026-11-02", "petition_accepted_on": "2026-11-05"}, now=NOW)
    result = run("accept_petition", ctx)
    assert ctx.clock_events == ["start"]
    assert ctx.clock_times == [datetime(2026, 11, 5, 0, 0, tzinfo=SHANGHAI)]
    assert result == {
        "accepted_on": "2026-11-05",
        "received_on": "2026-11-02",
        "acceptance_deadline": "2026-11-17T23:59:59+08:00",  # 15 days from receipt
        "on_time": True,
        "handling_deadline": "2027-01-04T23:59:59+08:00",  # 60 days: 4 January 2027
    }


def test_acceptance_without_a_date_is_today_and_late_acceptance_is_marked() -> None:
    ctx = FakeContext(data={"received_on": "2026-10-20"}, now=NOW)
    result = run("accept_petition", ctx)
    assert result["accepted_on"] == "2026-11-10" and result["on_time"] is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"received_on": "2026-11-02", "petition_accepted_on": "9999-12-31"},
            "受理日期（9999年12月31日）不能晚于今天",
        ),
        (
            {"received_on": "2026-11-02", "petition_accepted_on": "2026-11-01"},
            "不能早于信访日期（2026年11月2日）",
        ),
        ({"received_on": "9999-12-31"}, "信访日期（9999年12月31日）不能晚于今天（2026年11月10日）"),
    ],
)
def test_dates_out_of_range_are_refused_before_any_deadline(data: dict[str, str], message: str) -> None:
    ctx = FakeContext(data=data, now=NOW)
    with pytest.raises(HandlerError, match=message.replace("（", r"\（").replace("）", r"\）")):
        run("accept_petition", ctx)
    assert ctx.clock_events == []


def test_conclusion_ends_the_limit_and_issues_the_notice() -> None:
    data = {
        "petitioner_name": "张三",
        "concluded_on": "2026-11-09",
        "agreement": {"mediation_ended_at": "2026-11-06T00:00:00+08:00", "document": "(2026)城八人调字第1号"},
    }
    ctx = FakeContext(data=data, now=NOW)
    result = run("conclude_petition", ctx)
    notice = ctx.only_document()
    assert ctx.clock_events == ["conclude"]
    assert ctx.clock_times == [datetime(2026, 11, 9, 0, 0, tzinfo=SHANGHAI)]
    assert notice.kind == "conclusion_notice"
    assert notice.content["agreement_number"] == "(2026)城八人调字第1号"
    assert result == {
        "concluded_on": "2026-11-09",
        "outcome": "经人民调解达成调解协议",
        "document": notice.number,
    }


def test_a_conclusion_before_mediation_ended_is_refused() -> None:
    data = {"concluded_on": "2026-11-05", "agreement": {"mediation_ended_at": "2026-11-06T00:00:00+08:00"}}
    ctx = FakeContext(data=data, now=NOW)
    with pytest.raises(HandlerError, match="不能早于调解结束日期"):
        run("conclude_petition", ctx)
    assert ctx.clock_events == [] and ctx.documents == []
