"""属地管理: the case's locality picks its three organisations."""

from __future__ import annotations

import pytest

from handlers.api import HandlerError
from tests.handlers.fakes import (
    JUSTICE_OFFICE,
    LOCALITY,
    MEDIATION_COMMITTEE,
    PETITION_OFFICE,
    FakeContext,
    OtherCase,
    run,
)


def test_the_locality_assigns_the_petition_office_mediation_organisation_and_justice_office() -> None:
    ctx = FakeContext(petition_office_id=None, mediation_org_id=None, justice_org_id=None)
    result = run("assign_locality", ctx, locality=LOCALITY)
    assert (ctx.petition_office_id, ctx.mediation_org_id, ctx.justice_org_id) == (
        PETITION_OFFICE.id,
        MEDIATION_COMMITTEE.id,
        JUSTICE_OFFICE.id,
    )
    assert result == {
        "collective": False,
        "repeat_of": [],
        "skipped_level": False,
        "petition_office": PETITION_OFFICE.code,
        "petition_office_name": PETITION_OFFICE.name,
        "mediation_org": MEDIATION_COMMITTEE.code,
        "mediation_org_name": MEDIATION_COMMITTEE.name,
        "justice_org": JUSTICE_OFFICE.code,
        "justice_org_name": JUSTICE_OFFICE.name,
    }


def test_an_unknown_locality_is_refused_and_nothing_assigned() -> None:
    ctx = FakeContext(petition_office_id=None, mediation_org_id=None, justice_org_id=None)
    with pytest.raises(HandlerError, match="未知的属地：999"):
        run("assign_locality", ctx, locality="999")
    assert (ctx.petition_office_id, ctx.mediation_org_id, ctx.justice_org_id) == (None, None, None)


@pytest.mark.parametrize(("count", "threshold", "collective"), [(4, 5, False), (5, 5, True), (9, 10, False)])
def test_a_petition_by_enough_people_is_registered_as_collective(
    count: int, threshold: int, collective: bool
) -> None:
    ctx = FakeContext(data={"petitioner_count": count}, collective_headcount=threshold)
    assert run("assign_locality", ctx, locality=LOCALITY)["collective"] is collective


def test_a_petition_of_the_same_person_on_the_same_matter_is_a_repeat() -> None:
    ctx = FakeContext(
        data={"matter": "关于商铺租金上涨纠纷"},
        petitioner_history=[
            OtherCase("", "FT2026-000001", "商铺租金上涨纠纷", None, running=True),
            OtherCase("", "FT2026-000002", "排水沟纠纷", "mediated"),  # another matter
        ],
    )
    assert run("assign_locality", ctx, locality=LOCALITY)["repeat_of"] == ["FT2026-000001"]


def test_a_petition_registered_above_the_locality_office_skipped_a_level() -> None:
    ctx = FakeContext(actor_org_id=PETITION_OFFICE.id + 100)
    assert run("assign_locality", ctx, locality=LOCALITY)["skipped_level"] is True
