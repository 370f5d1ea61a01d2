"""An earlier mediation of the same parties and matter makes a case unsuitable (第五部分(二)3)."""

from __future__ import annotations

import pytest

from handlers.eligibility import CONCLUDED_OUTCOMES, parties_key, same_matter
from tests.handlers.fakes import FakeContext, OtherCase, run

KEY = parties_key(["张三", "李四"])


def test_the_parties_key_ignores_order_spacing_width_and_punctuation() -> None:
    assert parties_key(["李四", "张三"]) == KEY
    assert parties_key([" 张 三\n", "李四。"]) == KEY
    assert parties_key(["Ｔａｓｈｉ", "李四"]) == parties_key(["tashi", "李四"])  # full-width, case
    assert parties_key(["张三", "", "李四"]) == KEY


def test_different_parties_have_different_keys() -> None:
    assert parties_key(["张三", "王五"]) != KEY
    assert parties_key(["张三"]) != KEY
    assert len(KEY) == 64


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("宅基地院墙纠纷", "宅基地院墙纠纷", True),
        ("院墙纠纷", "关于宅基地院墙纠纷的信访", True),
        ("关于宅基地院墙纠纷的信访", "院墙纠纷", True),
        ("院墙 纠纷！", "院墙纠纷", True),
        ("院墙纠纷", "排水沟纠纷", False),
        ("", "院墙纠纷", False),
        ("！！", "院墙纠纷", False),
    ],
)
def test_a_restated_matter_counts_as_the_same(a: str, b: str, same: bool) -> None:
    assert same_matter(a, b) is same


def test_only_agreement_and_termination_conclude_a_mediation() -> None:
    assert set(CONCLUDED_OUTCOMES) == {"mediated", "terminated"}


def test_earlier_concluded_mediations_of_the_same_parties_and_matter_are_found() -> None:
    ctx = FakeContext(
        other_cases=[
            OtherCase(KEY, "FT2025-000010", "宅基地院墙纠纷", "mediated"),
            OtherCase(KEY, "FT2025-000020", "院墙纠纷", "terminated"),
            OtherCase(KEY, "FT2025-000030", "院墙纠纷", "ordinary"),  # never mediated
            OtherCase(KEY, "FT2025-000040", "院墙纠纷", None, running=True),  # still running
            OtherCase(KEY, "FT2025-000050", "排水沟纠纷", "mediated"),  # another matter
            OtherCase(KEY, "FT2025-000070", "排水沟纠纷", None, running=True),  # running, another matter
            # mediated, still in its follow-up: found as a concluded mediation, not listed twice
            OtherCase(KEY, "FT2025-000080", "院墙纠纷", "mediated", running=True),
            OtherCase(parties_key(["张三", "王五"]), "FT2025-000060", "院墙纠纷", "mediated"),
        ]
    )
    result = run("check_prior_mediation", ctx, parties=["李四", "张三"], matter="关于宅基地院墙纠纷")
    assert result == {
        "found": True,
        "cases": ["FT2025-000010", "FT2025-000020", "FT2025-000080"],
        "running": ["FT2025-000040"],
    }


def test_nothing_found_without_an_earlier_mediation() -> None:
    ctx = FakeContext(other_cases=[OtherCase(KEY, "FT2025-000030", "院墙纠纷", "ordinary")])
    assert run("check_prior_mediation", ctx, parties=["张三", "李四"], matter="院墙纠纷") == {
        "found": False,
        "cases": [],
        "running": [],
    }
    assert (ctx.notices, ctx.documents) == ([], [])


def test_a_running_case_of_the_same_dispute_is_listed_but_does_not_count_as_a_prior_mediation() -> None:
    ctx = FakeContext(other_cases=[OtherCase(KEY, "FT2026-000001", "院墙纠纷", None, running=True)])
    assert run("check_prior_mediation", ctx, parties=["张三", "李四"], matter="院墙纠纷") == {
        "found": False,
        "cases": [],
        "running": ["FT2026-000001"],
    }
