"""Issue 11, finding 6: only same-site paths as `back`; attachments not cached; a link from another site
cannot write the audit log (the full document, a download)."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from orchestration.engine.runtime import Runtime
from orchestration.store.models import Attachment, AuditEvent, Document
from tests.helpers import advance_to, start
from tests.webapp.helpers import case_revision, login


@pytest.mark.parametrize(
    "back",
    [
        "/\t/evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "https://evil.example/",
        "/\n/evil.example",
        "x",
    ],
)
def test_back_is_only_a_path_on_this_site(client: FlaskClient, runtime: Runtime, back: str) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "screen_case")
    login(client, "clerk")
    claimed = client.post(f"/tasks/{task.id}/claim", data={"back": back})
    assert claimed.status_code == 302 and claimed.location == f"/tasks/{task.id}"
    released = client.post(f"/tasks/{task.id}/release", data={"back": "/tasks?due=near"})
    assert released.location == "/tasks?due=near"


def _audited(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_attachments_are_not_stored_and_not_opened_from_elsewhere(
    client: FlaskClient, runtime: Runtime
) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "guide_divert")
    login(client, "clerk")
    client.post(
        f"/tasks/{task.id}",
        data={
            "explanation_given": "true",
            "privacy_notice_given": "true",
            "consent": "agree",
            "consent_documents": [(io.BytesIO(b"%PDF-1.4"), "同意书.pdf", "application/pdf")],
            "expected_revision": str(case_revision(runtime, case_id)),
        },
        content_type="multipart/form-data",
    )
    with runtime.sessions() as session:
        attachment_id = session.scalar(select(Attachment.id).where(Attachment.case_id == case_id))
    before = _audited(runtime)
    elsewhere = client.get(f"/attachments/{attachment_id}", headers={"Sec-Fetch-Site": "cross-site"})
    assert elsewhere.status_code == 403 and "来自其他网站的链接" in elsewhere.get_data(as_text=True)
    assert _audited(runtime) == before
    here = client.get(f"/attachments/{attachment_id}", headers={"Sec-Fetch-Site": "same-origin"})
    assert here.status_code == 200 and here.headers["Cache-Control"] == "no-store"
    assert _audited(runtime) == before + 1


def test_the_full_document_is_not_opened_from_elsewhere(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    with runtime.sessions() as session:
        document_id = session.scalar(select(Document.id).where(Document.case_id == case_id))
    assert document_id is not None
    login(client, "clerk")
    before = _audited(runtime)
    assert (
        client.get(f"/documents/{document_id}?full=1", headers={"Sec-Fetch-Site": "cross-site"}).status_code
        == 403
    )
    assert (
        client.get(f"/documents/{document_id}", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200
    )
    assert _audited(runtime) == before
    assert client.get(f"/documents/{document_id}?full=1").status_code == 200
    assert _audited(runtime) == before + 1
