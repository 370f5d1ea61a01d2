"""The respondent's ID number and phone reach the mediation side only once the respondent was told
(个人信息保护法 arts 17, 23): on the case page (also revealed), its timeline, the task page, documents in
full and the API — until `respondent_consent.informed_at` is recorded. The petition office sees them as
before.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from orchestration.domain.access import RESPONDENT_CONSENT
from orchestration.engine.runtime import Runtime
from orchestration.services import Services
from orchestration.store.models import Case, Document
from tests.helpers import advance_to, open_task, set_case_data, start
from tests.webapp.helpers import login, text
from webapp.context import SERVICES_KEY

RESPONDENT_ID = "540102198505055678"
RESPONDENT_PHONE = "13900139000"
PETITIONER_ID = "540102199001011234"


def record_respondent_consent(runtime: Runtime, case_id: int) -> None:
    """What the respondent's consent step records (part P's data key)."""
    consent: dict[str, Any] = {
        "decision": "agree",
        "informed_at": "2026-11-02T10:00:00+08:00",
        "by": "clerk",
        "privacy_notice_given": True,
        "documents": [],
    }
    set_case_data(runtime, case_id, **{RESPONDENT_CONSENT: consent})


def referred_case(runtime: Runtime) -> tuple[int, str]:
    case_id = start(runtime, respondent_id_number=RESPONDENT_ID, respondent_phone=RESPONDENT_PHONE)
    advance_to(runtime, case_id, "review_referral")
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case_id, case.case_no


@pytest.fixture
def referred(runtime: Runtime) -> tuple[int, str]:
    """A case with the respondent's particulars, referred and waiting for the mediator's review, whose
    respondent was not told (a consent recorded without the notice, as cases begun before the procedure
    asked the respondent were)."""
    case_id, _ = referred_case(runtime)
    uninformed: dict[str, Any] = {"decision": "agree", "by": "clerk", "privacy_notice_given": False}
    set_case_data(runtime, case_id, **{RESPONDENT_CONSENT: uninformed})
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case_id, case.case_no


def referral_letter(runtime: Runtime, case_id: int) -> int:
    with runtime.sessions() as session:
        found = session.scalar(
            select(Document.id).where(Document.case_id == case_id, Document.kind == "referral_letter")
        )
        assert found is not None
        return found


def test_the_mediator_reveals_the_petitioner_but_not_the_uninformed_respondent(
    client: FlaskClient, runtime: Runtime, referred: tuple[int, str]
) -> None:
    case_id, number = referred
    login(client, "mediator")
    revealed = client.post(f"/cases/{number}/reveal")
    assert revealed.status_code == 200
    body = revealed.get_data(as_text=True)
    assert PETITIONER_ID in body  # the reveal works for the petitioner
    assert RESPONDENT_ID not in body and RESPONDENT_PHONE not in body  # summary and timeline alike
    assert "5401**********5678" in body and "139****9000" in body
    assert "对方当事人尚未被告知个人信息处理规则" in text(revealed)

    letter = client.get(f"/documents/{referral_letter(runtime, case_id)}?full=1")
    assert letter.status_code == 200
    assert PETITIONER_ID in letter.get_data(as_text=True)
    assert RESPONDENT_ID not in letter.get_data(as_text=True)

    api = client.get(f"/api/cases/{number}").get_data(as_text=True)
    assert RESPONDENT_ID not in api and RESPONDENT_PHONE not in api


def test_the_petition_office_sees_the_respondent_in_full_on_a_reveal(
    client: FlaskClient, runtime: Runtime, referred: tuple[int, str]
) -> None:
    case_id, number = referred
    login(client, "clerk")
    revealed = client.post(f"/cases/{number}/reveal")
    assert RESPONDENT_ID in revealed.get_data(as_text=True)
    assert "对方当事人尚未被告知" not in text(revealed)
    letter = client.get(f"/documents/{referral_letter(runtime, case_id)}?full=1")
    assert RESPONDENT_ID in letter.get_data(as_text=True)


def test_once_the_respondent_was_told_the_mediator_may_reveal_them(
    client: FlaskClient, runtime: Runtime, referred: tuple[int, str]
) -> None:
    case_id, number = referred
    record_respondent_consent(runtime, case_id)
    login(client, "mediator")
    masked = client.get(f"/cases/{number}")
    assert RESPONDENT_ID not in masked.get_data(as_text=True)  # still masked until asked for
    assert "对方当事人尚未被告知" not in text(masked)
    revealed = client.post(f"/cases/{number}/reveal").get_data(as_text=True)
    assert RESPONDENT_ID in revealed and RESPONDENT_PHONE in revealed
    letter = client.get(f"/documents/{referral_letter(runtime, case_id)}?full=1")
    assert RESPONDENT_ID in letter.get_data(as_text=True)


def test_task_forms_of_the_mediation_side_are_not_prefilled_with_the_uninformed_respondent(
    app: Any, runtime: Runtime, referred: tuple[int, str]
) -> None:
    case_id, _ = referred
    services: Services = app.extensions[SERVICES_KEY]
    viewer = services.users.viewer("mediator")
    assert viewer is not None
    task_id = open_task(runtime, case_id, "review_referral").id
    page = services.tasks.page(viewer, task_id)
    assert "respondent_id_number" not in page.data and "respondent_phone" not in page.data
    assert page.data["petitioner_id_number"] == PETITIONER_ID
    assert page.summary.respondent_withheld

    record_respondent_consent(runtime, case_id)
    informed = services.tasks.page(viewer, task_id)
    assert informed.data["respondent_id_number"] == RESPONDENT_ID
    assert not informed.summary.respondent_withheld


def test_the_procedure_records_when_the_respondent_was_told(client: FlaskClient, runtime: Runtime) -> None:
    """The respondent's consent step (征求对方当事人意见) records `informed_at`: the mediator may then
    reveal them."""
    case_id, number = referred_case(runtime)
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        consent = runtime.case_data(session, case)[RESPONDENT_CONSENT]
    assert consent["decision"] == "agree" and consent["privacy_notice_given"] is True
    assert consent["informed_at"] and consent["privacy_notice_version"] == "2026-01"
    login(client, "mediator")
    revealed = client.post(f"/cases/{number}/reveal").get_data(as_text=True)
    assert RESPONDENT_ID in revealed and RESPONDENT_PHONE in revealed
