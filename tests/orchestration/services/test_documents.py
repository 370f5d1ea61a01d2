"""Documents as issued: numbered per issuing body, frozen with their issuer and a digest, corrected only by a
new document that supersedes them, later acts kept beside them; the draft letter the leader approves; the
case file (on SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select, update

from orchestration.domain.access import Viewer
from orchestration.domain.forms import Upload
from orchestration.engine import documents as issuing
from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.errors import Forbidden, InvalidData, NotFound
from orchestration.services.documents import DocumentService
from orchestration.store.models import AuditEvent, Case, Document, DocumentAct, Organisation, User
from orchestration.vocabulary import AuditAction
from tests.helpers import SUCCESS_PATH, actor, advance_to, complete, open_task, start
from webapp.documents import render_document
from webapp.dossier import dossier_pdf


def _viewer(runtime: Runtime, username: str) -> Viewer:
    with runtime.sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return Viewer.of(user)


def _org(runtime: Runtime, code: str) -> int:
    with runtime.sessions() as session:
        org_id = session.scalar(select(Organisation.id).where(Organisation.code == code))
        assert org_id is not None
        return org_id


def _issue(runtime: Runtime, case_id: int, kind: str, content: dict[str, Any]) -> Document:
    with runtime.transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        document = issuing.issue(session, case, kind, content, runtime.clock.now(), "mediator")
        session.expunge(document)
        return document


def _documents(runtime: Runtime, case_id: int, kind: str) -> list[Document]:
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(Document)
                .where(Document.case_id == case_id, Document.kind == kind)
                .order_by(Document.id)
            )
        )


def _accepted(runtime: Runtime, **registration: Any) -> int:
    case_id = start(runtime, **registration)
    advance_to(runtime, case_id, "mediate")
    return case_id


def test_each_issuing_body_numbers_its_own_documents(runtime: Runtime) -> None:
    first = _accepted(runtime)
    second = _accepted(runtime)
    numbers = [d.number for case in (first, second) for d in _documents(runtime, case, "acceptance_receipt")]
    assert numbers == ["(2026)城八访调受字第1号", "(2026)城八访调受字第2号"]
    # the referral letters are the petition office's, counted apart from the committee's receipts
    assert [d.number for d in _documents(runtime, first, "referral_letter")] == ["(2026)城八访调移字第1号"]
    # another body counts from 1 with its own prefix
    with runtime.transaction() as session:
        case = session.get(Case, second)
        assert case is not None
        case.mediation_org_id = _org(runtime, "540103001-tw")
    assert _issue(runtime, second, "acceptance_receipt", {}).number == "(2026)堆东访调受字第1号"


def test_a_body_without_a_prefix_is_told_apart_by_its_code(runtime: Runtime) -> None:
    case_id = _accepted(runtime)
    with runtime.transaction() as session:
        session.execute(
            update(Organisation).where(Organisation.code == "540102001-tw").values(document_prefix=None)
        )
    document = _issue(runtime, case_id, "session_record", {"record": "第一次调解"})
    assert document.number == "(2026)〔540102001-tw〕人调录字第1号"


def test_a_document_keeps_the_issuer_and_names_it_was_issued_with(runtime: Runtime) -> None:
    case_id = _accepted(runtime)
    letter = _issue(runtime, case_id, "return_letter", {"reason": "已由法院受理"})
    assert letter.issuer_org_id == _org(runtime, "540102001-tw")
    # the case moves to the city centre after 会商, and the committee renames itself
    with runtime.transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.mediation_org_id = _org(runtime, "540100-tj")
        session.execute(
            update(Organisation)
            .where(Organisation.code == "540102001-tw")
            .values(name="八廓街道人民调解委员会（新）")
        )
    view = DocumentService(runtime).document(_viewer(runtime, "clerk"), letter.id)
    page = render_document(view)
    assert "八廓街道人民调解委员会“访调对接”工作室" in page
    assert "拉萨市人民调解工作指导中心" not in page and "（新）" not in page
    assert view.intact and view.document.digest == letter.digest and len(letter.digest) == 64


def test_a_changed_document_no_longer_matches_its_digest(runtime: Runtime) -> None:
    case_id = _accepted(runtime)
    letter = _issue(runtime, case_id, "return_letter", {"reason": "已由法院受理"})
    service = DocumentService(runtime)
    assert service.document(_viewer(runtime, "clerk"), letter.id).intact
    with runtime.transaction() as session:
        session.execute(update(Document).where(Document.id == letter.id).values(content={"reason": "改过"}))
    assert not service.document(_viewer(runtime, "clerk"), letter.id).intact


def test_a_correction_supersedes_and_the_old_document_is_kept(runtime: Runtime) -> None:
    case_id = _accepted(runtime)
    old = _issue(runtime, case_id, "session_record", {"record": "张山到场", "place": "调解室"})
    service = DocumentService(runtime)
    mediator = _viewer(runtime, "mediator")
    with pytest.raises(InvalidData):
        service.correct(mediator, old.id, {"record": "张三到场"}, " ")
    with pytest.raises(InvalidData):
        service.correct(mediator, old.id, {"unknown": "x"}, "笔误")
    with pytest.raises(Forbidden):
        service.correct(_viewer(runtime, "clerk"), old.id, {"record": "张三到场"}, "笔误")
    new = service.correct(mediator, old.id, {"record": "张三到场"}, "当事人姓名笔误")
    assert new.number == "(2026)城八人调录字第2号" and new.supersedes_id == old.id
    assert new.content == {"record": "张三到场", "place": "调解室"}
    kept = service.document(mediator, old.id)
    assert kept.superseded_by == new.number and kept.document.content["record"] == "张山到场" and kept.intact
    corrected = service.document(mediator, new.id)
    assert corrected.supersedes == old.number and corrected.intact
    assert "当事人姓名笔误" in render_document(corrected) and "已被" in render_document(kept)
    with pytest.raises(InvalidData, match="已被更正"):
        service.correct(mediator, old.id, {"record": "再改"}, "再改")
    with runtime.sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == AuditAction.CORRECT_DOCUMENT))
        assert event is not None and event.detail["supersedes"] == old.number


def test_a_later_act_is_recorded_beside_the_document(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = _accepted(runtime)
    receipt = _issue(runtime, case_id, "feedback_receipt", {"outcome": "failure"})
    clock.advance(timedelta(days=1))
    with runtime.transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        data = {"received_by": "王芳", "received_on": "2026-11-03", "next_steps": "按信访程序办理", "x": 1}
        issuing.record_acts(session, case, "receive_failure", data, clock.now(), "clerk", "王芳")
    view = DocumentService(runtime).document(_viewer(runtime, "clerk"), receipt.id)
    assert [(a.act, a.actor_name) for a in view.acts] == [("received", "王芳")]
    assert view.acts[0].content == {
        "received_by": "王芳",
        "received_on": "2026-11-03",
        "next_steps": "按信访程序办理",
        "files": [],
    }
    assert view.intact and view.document.digest == receipt.digest
    assert "按信访程序办理" in render_document(view)


def test_the_signed_agreement_scan_is_recorded_on_the_agreement(runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "feedback_success")
    scan = Upload("协议书签署件.pdf", "application/pdf", b"%PDF-1.4 scan")
    runtime.complete_task(
        open_task(runtime, case_id, "feedback_success").id,
        {"fed_back_on": "2026-11-02"},
        actor(runtime, "mediator"),
        files={"agreement_copy": [scan]},
    )
    with runtime.sessions() as session:
        acts = list(session.scalars(select(DocumentAct)))
        agreement = session.scalar(select(Document).where(Document.kind == "agreement"))
    assert agreement is not None
    assert [(a.document_id, a.act, a.content["files"]) for a in acts] == [
        (agreement.id, "signed", ["协议书签署件.pdf"])
    ]


def test_the_leader_reads_the_letter_as_it_will_be_issued(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "approve_referral")
    service = DocumentService(runtime)
    with pytest.raises(Forbidden):
        service.referral_draft(_viewer(runtime, "clerk"), task.id)
    draft = service.referral_draft(_viewer(runtime, "leader"), task.id)
    assert draft.draft and draft.document.number == ""
    content = draft.document.content
    assert content["to"] == "八廓街道人民调解委员会“访调对接”工作室" and content["summary"] == "宅基地纠纷"
    assert content["petitioner_name"] == "张三" and content["approved_by"] is None
    assert content["periods"] == {
        "review": "3日",
        "mediation": "15日",
        "success_feedback": "5个工作日",
        "failure_feedback": "3个工作日",
    }
    runtime.complete_task(task.id, {"approval": "approve"}, actor(runtime, "leader"))
    (issued,) = _documents(runtime, case_id, "referral_letter")
    assert {k: v for k, v in issued.content.items() if k not in ("approved_by", "approved_on")} == {
        k: v for k, v in content.items() if k not in ("approved_by", "approved_on")
    }
    assert (issued.content["approved_by"], issued.content["approved_on"]) == ("李建国", "2026-11-02")
    with pytest.raises(NotFound):
        service.referral_draft(_viewer(runtime, "leader"), task.id)


def _pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_the_case_file_binds_every_document_and_attachment(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = start(runtime)
    for name, username, data in SUCCESS_PATH:
        clock.advance(timedelta(hours=1))
        files = None
        if name == "feedback_success":
            files = {"agreement_copy": [Upload("签署件.pdf", "application/pdf", _pdf(2))]}
        complete(runtime, open_task(runtime, case_id, name).id, data, actor(runtime, username), files=files)
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        case_no = case.case_no
    service = DocumentService(runtime)
    with pytest.raises(Forbidden):
        service.dossier(_viewer(runtime, "mediator2"), case_no)
    dossier = service.dossier(_viewer(runtime, "mediator"), case_no)
    kinds = [view.document.kind for view in dossier.documents]
    assert kinds == [
        "referral_letter",
        "acceptance_receipt",
        "rights_notice",
        "agreement",
        "success_feedback",
        "conclusion_notice",
        "follow_up_record",
    ]
    pdf = PdfReader(io.BytesIO(dossier_pdf(dossier)))
    text = re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in pdf.pages))
    # every document as issued, found by the digest printed at its foot
    for view in dossier.documents:
        assert view.document.digest[:16] in text, view.document.kind
    assert case_no in text
    # cover, contents, four documents (the agreement may take two pages), two pages of the scan, remarks
    assert len(pdf.pages) >= 2 + 4 + 2 + 1
