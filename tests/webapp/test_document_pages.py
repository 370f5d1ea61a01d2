"""The documents in the web app: the leader approves the letter they read, reasons shown to whoever must
act on them, the parties of an agreement entered row by row, a correction that supersedes, the case file."""

from __future__ import annotations

import io
import re
from html import unescape

from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from orchestration.engine.runtime import Runtime
from orchestration.store.models import Case, Document, Notification
from tests.helpers import actor, advance_to, open_task, start
from tests.webapp.helpers import case_revision, element, login, text


def _case_no(runtime: Runtime, case_id: int) -> str:
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.case_no


def test_the_leader_reads_the_draft_letter_on_the_approval_page(
    client: FlaskClient, runtime: Runtime
) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "approve_referral")
    login(client, "leader")
    page = client.get(f"/tasks/{task.id}")
    assert page.status_code == 200
    iframe = re.search(r'<iframe[^>]*srcdoc="([^"]*)"[^>]*>', page.get_data(as_text=True))
    assert iframe is not None and " sandbox" in iframe.group(0)
    # the letter itself, escaped into the attribute: receiving organisation, summary, contact
    letter = unescape(iframe.group(1))
    assert "八廓街道人民调解委员会“访调对接”工作室：" in letter
    assert "宅基地纠纷" in letter and "13800138001" in letter
    alone = client.get(f"/tasks/{task.id}/draft")
    assert alone.status_code == 200 and "草稿" in text(alone) and "审签后出具" in text(alone)
    login(client, "clerk")
    assert client.get(f"/tasks/{task.id}/draft").status_code == 403


def test_a_send_back_reason_is_on_the_clerks_form_and_in_their_notification(
    client: FlaskClient, runtime: Runtime
) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "approve_referral")
    reason = "请补充医院诊断证明后重新报送"
    runtime.complete_task(
        task.id, {"approval": "send_back", "approval_comments": reason}, actor(runtime, "leader")
    )
    with runtime.sessions() as session:
        notes = list(session.scalars(select(Notification).where(Notification.kind == "note")))
    assert [(n.role, n.message) for n in notes] == [
        (
            "petition_clerk",
            f"案件 {_case_no(runtime, case_id)}“填写移送函”：分管领导退回修改的意见：{reason}",
        )
    ]
    login(client, "clerk")
    page = client.get(f"/tasks/{open_task(runtime, case_id, 'draft_referral').id}")
    assert f"分管领导退回修改的意见： {reason}" in text(page)


def test_a_return_reason_is_on_the_form_deciding_it(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "review_referral")
    runtime.complete_task(
        task.id,
        {"review_decision": "return", "return_reason": "已由人民法院立案受理"},
        actor(runtime, "mediator"),
    )
    login(client, "clerk")
    page = client.get(f"/tasks/{open_task(runtime, case_id, 'decide_return').id}")
    assert "人民调解组织不予受理的理由： 已由人民法院立案受理" in text(page)


def test_parties_are_entered_row_by_row_and_listed_on_the_agreement(
    client: FlaskClient, runtime: Runtime
) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "mediate")
    login(client, "mediator")
    page = client.get(f"/tasks/{task.id}")
    # the registered parties are the first rows; a template row for more
    assert element(page, "f-parties-0-name").count('value="张三"') == 1
    assert 'id="f-parties-1-name"' in page.get_data(as_text=True)
    assert "<template>" in page.get_data(as_text=True) and 'id="f-parties-__row__-name"' in page.get_data(
        as_text=True
    )
    form = {
        "expected_revision": str(case_revision(runtime, case_id)),
        "session_record": "三方到场",
        "mediation_outcome": "agreement",
        "agreement_form": "written",
        "agreement_facts": "院墙越界",
        "agreement_terms": "拆除越界部分",
        "agreement_effective_on": "2026-11-02",
        "parties-0-role": "petitioner",
        "parties-0-kind": "citizen",
        "parties-0-name": "张三",
        "parties-0-sex": "男",
        "parties-0-ethnicity": "藏族",
        "parties-1-role": "respondent",
        "parties-1-kind": "organisation",
        "parties-1-name": "拉萨某物业公司",
        # rows are read in their order; a row left blank is no row
        "parties-7-role": "",
        "parties-3-role": "respondent",
        "parties-3-kind": "citizen",
        "parties-3-name": "李四",
        "parties-3-sex": "女",
        "parties-3-ethnicity": "汉族",
    }
    refused = client.post(f"/tasks/{task.id}", data=form)
    assert refused.status_code == 422
    assert "当事人第2行：请填写法定代表人或代理人" in text(refused)
    # what was typed stays, row by row
    assert 'value="拉萨某物业公司"' in refused.get_data(as_text=True)
    done = client.post(f"/tasks/{task.id}", data={**form, "parties-1-representative": "王五（经理）"})
    assert done.status_code == 302, text(done)[:300]
    with runtime.sessions() as session:
        agreement = session.scalar(select(Document).where(Document.kind == "agreement"))
    assert agreement is not None
    assert [p["name"] for p in agreement.content["parties"]] == ["张三", "拉萨某物业公司", "李四"]
    shown = text(client.get(f"/documents/{agreement.id}?full=1"))
    assert "乙方1" in shown and "王五（经理）" in shown and "乙方2" in shown and "一式4份" in shown


def test_the_issuing_body_corrects_a_document(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "feedback_success")
    case_no = _case_no(runtime, case_id)
    with runtime.sessions() as session:
        agreement = session.scalar(select(Document).where(Document.kind == "agreement"))
    assert agreement is not None
    login(client, "clerk")
    assert f'id="correct-document-{agreement.id}"' not in client.get(f"/cases/{case_no}").get_data(
        as_text=True
    )
    assert (
        client.post(f"/documents/{agreement.id}/correct", data={"correction_reason": "x"}).status_code == 403
    )
    login(client, "mediator")
    assert f'id="correct-document-{agreement.id}"' in client.get(f"/cases/{case_no}").get_data(as_text=True)
    form_page = client.get(f"/documents/{agreement.id}/correct")
    assert form_page.status_code == 200 and 'name="terms"' in form_page.get_data(as_text=True)
    assert 'name="parties-0-name"' in form_page.get_data(as_text=True)
    refused = client.post(f"/documents/{agreement.id}/correct", data={"terms": "维持现状，各半负担"})
    assert refused.status_code == 422 and "请填写更正原因" in text(refused)
    fields = {
        "correction_reason": "协议内容笔误",
        "terms": "维持现状，各半负担",
        "parties-0-role": "petitioner",
        "parties-0-kind": "citizen",
        "parties-0-name": "张三",
        "parties-0-sex": "男",
        "parties-0-ethnicity": "藏族",
        "parties-1-role": "respondent",
        "parties-1-kind": "citizen",
        "parties-1-name": "李四",
        "parties-1-sex": "男",
        "parties-1-ethnicity": "汉族",
    }
    done = client.post(f"/documents/{agreement.id}/correct", data=fields)
    assert done.status_code == 302, text(done)[-600:]
    with runtime.sessions() as session:
        both = list(
            session.scalars(select(Document).where(Document.kind == "agreement").order_by(Document.id))
        )
    assert [d.supersedes_id for d in both] == [None, agreement.id]
    assert both[0].content["terms"] == "维持现状" and both[1].content["terms"] == "维持现状，各半负担"
    case_page = client.get(f"/cases/{case_no}")
    assert f"已被{both[1].number}更正取代" in text(case_page)
    assert f'id="correct-document-{agreement.id}"' not in case_page.get_data(as_text=True)


def test_the_case_file_downloads_as_one_pdf(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "feedback_success")
    case_no = _case_no(runtime, case_id)
    login(client, "mediator2")
    assert client.get(f"/cases/{case_no}/dossier.pdf").status_code == 403
    login(client, "mediator")
    assert "导出卷宗" in text(client.get(f"/cases/{case_no}"))
    response = client.get(f"/cases/{case_no}/dossier.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    pdf = PdfReader(io.BytesIO(response.data))
    content = re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in pdf.pages))
    with runtime.sessions() as session:
        digests = list(session.scalars(select(Document.digest).where(Document.case_id == case_id)))
    assert len(digests) == 4
    for digest in digests:
        assert digest[:16] in content
