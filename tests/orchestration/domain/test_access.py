"""Who sees which case (own organisation, jurisdiction below, referral gate) and PII masking."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from orchestration.domain import access
from orchestration.domain.access import Viewer
from orchestration.engine.runtime import Runtime
from orchestration.store.models import Case, OpenTask
from tests.helpers import advance_to, start, viewer


def visible(runtime: Runtime, username: str) -> set[int]:
    with runtime.sessions() as session:
        clause = access.visible_cases(session, viewer(runtime, username))
        return set(session.scalars(select(Case.id).where(clause)))


def test_masking_keeps_only_what_identifies_nobody() -> None:
    assert access.mask_id_number("540102199001011234") == "5401**********1234"
    assert access.mask_id_number("54010219900101123X") == "5401**********123X"
    assert access.mask_phone("13800138000") == "138****8000"
    assert access.mask_phone("0891-6321234") == "0891-***1234"
    assert access.mask_phone("08916321234") == "089****1234"
    assert access.mask_id_number("1234") == "****"


def test_mask_pii_masks_nested_copies_and_leaves_the_original() -> None:
    data = {
        "petitioner_name": "张三",
        "petitioner_id_number": "540102199001011234",
        "petitioner_phone": "13800138000",
        "history": [{"respondent_phone": "13900139000"}],
        "contact_phone": "13800138001",  # an official's phone, not a party's
    }
    masked = access.mask_pii(data)
    assert masked["petitioner_id_number"] == "5401**********1234"
    assert masked["petitioner_phone"] == "138****8000"
    assert masked["history"][0]["respondent_phone"] == "139****9000"
    assert masked["contact_phone"] == "13800138001"
    assert masked["petitioner_name"] == "张三"
    assert data["petitioner_id_number"] == "540102199001011234"


def test_region_subtree_follows_parent_codes(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        assert access.region_subtree(session, "540102") == {"540102", "540102001", "540102002"}
        assert len(access.region_subtree(session, "540100")) == 7
        assert access.region_subtree(session, "540102001") == {"540102001"}


def test_before_referral_only_the_petition_side_sees_the_case(runtime: Runtime) -> None:
    case_id = start(runtime)
    for username in ("clerk", "leader", "county_clerk", "admin"):
        assert case_id in visible(runtime, username), username
    for username in (
        "mediator",
        "justice",
        "county_mediator",
        "city_mediator",
        "policy",
        "clerk2",
        "mediator2",
    ):
        assert case_id not in visible(runtime, username), username


def test_after_referral_mediation_and_justice_see_it_within_their_jurisdiction(runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    for username in (
        "clerk",
        "leader",
        "mediator",
        "justice",
        "county_clerk",
        "county_mediator",
        "city_mediator",
    ):
        assert case_id in visible(runtime, username), username
    # Another county's people, and the policy officer, never see it.
    for username in ("clerk2", "leader2", "mediator2", "justice2", "policy"):
        assert case_id not in visible(runtime, username), username


def test_handles_case_is_the_three_assigned_organisations(runtime: Runtime) -> None:
    case_id = start(runtime)
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        handlers = {
            u
            for u in ("clerk", "leader", "mediator", "justice")
            if access.handles_case(viewer(runtime, u), case)
        }
        assert handlers == {"clerk", "leader", "mediator", "justice"}
        for username in ("county_clerk", "county_mediator", "admin", "policy", "clerk2"):
            assert not access.handles_case(viewer(runtime, username), case), username
        assert access.can_view_case(session, viewer(runtime, "county_clerk"), case)
        assert not access.can_view_case(session, viewer(runtime, "clerk2"), case)


def test_can_act_on_requires_role_org_and_no_other_claimer(runtime: Runtime) -> None:
    case_id = start(runtime)
    with runtime.sessions() as session:
        task = session.scalar(select(OpenTask).where(OpenTask.case_id == case_id))
        assert task is not None
        clerk, leader = viewer(runtime, "clerk"), viewer(runtime, "leader")
        assert access.can_act_on(clerk, task)
        assert not access.can_act_on(leader, task)
        assert not access.can_act_on(viewer(runtime, "county_clerk"), task)
        task.claimed_by = leader.user_id  # claimed by someone else (even if not a clerk)
        assert not access.can_act_on(clerk, task)


def test_registration_localities_are_the_clerks_region(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        assert access.registration_localities(session, viewer(runtime, "clerk")) == {"540102001"}
        assert "540102002" in access.registration_localities(session, viewer(runtime, "county_clerk"))
        assert access.registration_localities(session, viewer(runtime, "mediator")) == set()


@pytest.mark.parametrize("role", ["policy_officer", "unknown"])
def test_roles_without_case_access_see_nothing(runtime: Runtime, role: str) -> None:
    start(runtime)
    v = viewer(runtime, "clerk")
    other = Viewer(
        v.user_id,
        v.username,
        v.display_name,
        role,
        v.org_id,
        v.org_name,
        v.org_kind,
        v.region_code,
        v.region_level,
    )
    with runtime.sessions() as session:
        assert list(session.scalars(select(Case.id).where(access.visible_cases(session, other)))) == []


# ---- the respondent's particulars and the mediation side --------------------------------------------

PARTIES = {
    "petitioner_id_number": "540102199001011234",
    "respondent_id_number": "540102198505055678",
    "respondent_phone": "13900139000",
    "parties": [
        {"role": "petitioner", "name": "张三", "id_number": "540102199001011234", "phone": "13800138000"},
        {
            "role": "respondent",
            "name": "李四",
            "id_number": "540102198505055678",
            "phone": "13900139000",
            "representative": {"name": "王五", "phone": "13700137000"},
        },
    ],
}


def test_party_objects_are_masked_like_the_top_level_fields() -> None:
    masked = access.mask_pii(PARTIES)
    petitioner, respondent = masked["parties"]
    assert petitioner["id_number"] == "5401**********1234" and petitioner["phone"] == "138****8000"
    assert respondent["representative"]["phone"] == "137****7000"
    assert access.mask_pii(PARTIES, access.Disclosure.FULL) == PARTIES


def test_full_but_respondent_keeps_only_the_respondents_masked() -> None:
    shown = access.mask_pii(PARTIES, access.Disclosure.FULL_BUT_RESPONDENT)
    assert shown["petitioner_id_number"] == "540102199001011234"
    assert shown["respondent_id_number"] == "5401**********5678"
    assert shown["respondent_phone"] == "139****9000"
    petitioner, respondent = shown["parties"]
    assert petitioner["id_number"] == "540102199001011234" and petitioner["phone"] == "13800138000"
    assert respondent["id_number"] == "5401**********5678" and respondent["phone"] == "139****9000"
    assert respondent["representative"]["phone"] == "137****7000"
    assert respondent["name"] == "李四"


@pytest.mark.parametrize(
    ("username", "informed", "withheld"),
    [
        ("mediator", False, True),
        ("justice", False, True),
        ("clerk", False, False),
        ("leader", False, False),
        ("mediator", True, False),
        ("justice", True, False),
    ],
)
def test_the_mediation_side_is_kept_from_the_respondent_until_they_were_told(
    runtime: Runtime, username: str, informed: bool, withheld: bool
) -> None:
    data = dict(PARTIES)
    if informed:
        data[access.RESPONDENT_CONSENT] = {"decision": "agree", "informed_at": "2026-11-02T10:00:00+08:00"}
    who = viewer(runtime, username)
    assert access.withholds_respondent(who, data) is withheld
    assert access.respondent_pii_withheld(who, data) is withheld
    prefill = access.form_data(who, data)
    if withheld:
        assert "respondent_id_number" not in prefill and "respondent_phone" not in prefill
        assert prefill["parties"][1] == {
            "role": "respondent",
            "name": "李四",
            "representative": {"name": "王五"},
        }
        assert prefill["parties"][0] == PARTIES["parties"][0]
    else:
        assert prefill == data


def test_a_consent_without_the_moment_of_telling_does_not_count(runtime: Runtime) -> None:
    mediator = viewer(runtime, "mediator")
    for consent in ({"decision": "agree"}, {"informed_at": ""}, "agree", None):
        assert access.withholds_respondent(mediator, {**PARTIES, access.RESPONDENT_CONSENT: consent})
    # nothing of the respondent's to withhold
    assert not access.respondent_pii_withheld(mediator, {"respondent_name": "李四"})
