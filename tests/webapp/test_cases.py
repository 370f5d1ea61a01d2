"""The case page: summary, masked parties and audited reveal, diagram, deadlines, timeline, attachments,
documents, risk report; case search."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from orchestration.domain.procedure import read_directories
from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.store.models import Attachment, AuditEvent, Case, Document
from tests.helpers import REGISTRATION, actor, advance_to, case_snapshot, open_task, start
from tests.orchestration.services.procedure_edits import ten_day_mediation
from tests.webapp.helpers import element, login, text


def case_no(runtime: Runtime, case_id: int) -> str:
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.case_no


def pii_views(runtime: Runtime) -> list[AuditEvent]:
    with runtime.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "view_pii")))


def test_case_page_shows_every_section(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    number = case_no(runtime, case_id)
    login(client, "clerk")
    page = client.get(f"/cases/{number}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    for section in ("parties", "open-tasks", "diagram", "deadlines", "timeline", "attachments", "documents"):
        assert f'id="{section}"' in body, section
    shown = text(page)
    assert "邻里宅基地院墙归属纠纷" in shown and "张三" in shown and "李四" in shown
    assert "依法调解" in shown
    assert "data-diagram-viewer" in body and f"/cases/{number}/diagram.bpmn" in body  # the procedure diagram
    assert "2026年11月2日" in shown
    # deadlines: the open task's, the timer's, the data's and the paused petition clock
    assert (
        "调解期限（受理之日起15日；" in shown and "民法典第二百零三条" in shown and "2026年11月17日" in shown
    )
    assert "信访办理时限暂停计算" in shown
    # the timeline from the audit log, in Chinese, with the submitted data labelled
    assert "登记信访事项，启动访调对接流程" in shown
    assert "办理“甄别适用范围”" in shown and "公民之间有关财产权益的纠纷" in shown
    assert "访调对接移送函" in shown  # a document of the case


def test_parties_are_masked_and_revealed_only_to_handlers_with_an_audit_event(
    client: FlaskClient, runtime: Runtime
) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    number = case_no(runtime, case_id)
    login(client, "clerk")
    page = client.get(f"/cases/{number}")
    body = page.get_data(as_text=True)
    assert "5401**********1234" in body and "138****8000" in body
    assert "540102199001011234" not in body and "13800138000" not in body
    assert element(page, "reveal-pii")
    assert pii_views(runtime) == []

    revealed = client.post(f"/cases/{number}/reveal")
    assert revealed.status_code == 200
    full = revealed.get_data(as_text=True)
    assert "540102199001011234" in full and "13800138000" in full
    assert "本次查看已记入办理记录" in text(revealed)
    events = pii_views(runtime)
    assert [(e.actor, e.case_id, e.detail["what"]) for e in events] == [("clerk", case_id, "case")]
    assert "查看当事人完整个人信息（案件页面）" in text(client.get(f"/cases/{number}"))

    # A supervising county clerk sees the case, masked, and cannot reveal.
    login(client, "county_clerk")
    page = client.get(f"/cases/{number}")
    assert page.status_code == 200 and "540102199001011234" not in page.get_data(as_text=True)
    assert 'id="reveal-pii"' not in page.get_data(as_text=True)
    assert client.post(f"/cases/{number}/reveal").status_code == 403
    assert len(pii_views(runtime)) == 1


def test_timeline_data_is_masked_unless_revealed(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    number = case_no(runtime, case_id)
    login(client, "clerk")
    body = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "540102199001011234" not in body  # the registration data in the timeline is masked too


def test_documents_masked_by_default_full_for_handlers_with_audit(
    client: FlaskClient, runtime: Runtime
) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    with runtime.sessions() as session:
        letter = session.scalar(select(Document).where(Document.case_id == case_id))
        assert letter is not None
    login(client, "clerk")
    masked = client.get(f"/documents/{letter.id}")
    assert masked.status_code == 200 and masked.mimetype == "text/html"
    assert "540102199001011234" not in masked.get_data(as_text=True)
    assert pii_views(runtime) == []
    full = client.get(f"/documents/{letter.id}?full=1")
    assert full.status_code == 200 and "540102199001011234" in full.get_data(as_text=True)
    assert [e.detail["what"] for e in pii_views(runtime)] == [f"document:{letter.id}"]
    login(client, "county_clerk")
    assert client.get(f"/documents/{letter.id}").status_code == 200
    assert client.get(f"/documents/{letter.id}?full=1").status_code == 403
    login(client, "clerk2")
    assert client.get(f"/documents/{letter.id}").status_code == 403
    assert client.get("/documents/999999").status_code == 404


def test_attachments_download_for_handlers_only(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "guide_divert")
    login(client, "clerk")
    response = client.post(
        f"/tasks/{task.id}",
        data={
            "explanation_given": "true",
            "privacy_notice_given": "true",
            "consent": "agree",
            "consent_documents": [(io.BytesIO(b"<html>scan</html>"), "同意书.html", "text/html")],
            "expected_revision": str(case_snapshot(runtime, case_id)["revision"]),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with runtime.sessions() as session:
        attachment = session.scalar(select(Attachment).where(Attachment.case_id == case_id))
        assert attachment is not None
    number = case_no(runtime, case_id)
    page = client.get(f"/cases/{number}")
    assert element(page, f"download-{attachment.id}")
    download = client.get(f"/attachments/{attachment.id}")
    assert download.status_code == 200 and download.data == b"<html>scan</html>"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E5%90%8C%E6%84%8F%E4%B9%A6.html" in disposition
    disposition.encode("latin-1")  # a real server sends headers as latin-1; a raw Chinese name would crash it
    with runtime.sessions() as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "download")) is not None
    login(client, "county_clerk")
    assert client.get(f"/attachments/{attachment.id}").status_code == 403
    assert 'id="download-' not in client.get(f"/cases/{number}").get_data(as_text=True)
    login(client, "clerk2")
    assert client.get(f"/attachments/{attachment.id}").status_code == 403
    assert client.get("/attachments/999999").status_code == 404


def test_risk_report_form_for_the_mediator_during_mediation(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    number = case_no(runtime, case_id)
    login(client, "mediator")
    advance_to(runtime, case_id, "mediate")
    page = client.get(f"/cases/{number}")
    assert element(page, "risk-form")
    assert '<select id="f-risk_type" name="risk_type">' in page.get_data(as_text=True)
    bad = client.post(f"/cases/{number}/risk", data={"risk_type": "leapfrog"})
    assert bad.status_code == 422 and "请填写风险情况" in element(bad, "err-description")
    ok = client.post(
        f"/cases/{number}/risk",
        data={
            "risk_type": "leapfrog",
            "description": "扬言到市里上访",
            "police_recipient": "八廓派出所",
            "government_recipient": "八廓街道办事处",
            "receipt": "值班人员接收",
        },
    )
    assert ok.status_code == 302
    assert "风险已报告" in text(client.get(f"/cases/{number}"))
    assert open_task(runtime, case_id, "handle_risk")
    # Clerks do not get the form and may not post it.
    login(client, "clerk")
    assert 'id="risk-form"' not in client.get(f"/cases/{number}").get_data(as_text=True)
    assert (
        client.post(f"/cases/{number}/risk", data={"risk_type": "other", "description": "x"}).status_code
        == 403
    )


def test_risk_report_outside_mediation_is_refused_plainly(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    number = case_no(runtime, case_id)
    login(client, "mediator")
    assert 'id="risk-form"' not in client.get(f"/cases/{number}").get_data(as_text=True)
    response = client.post(
        f"/cases/{number}/risk",
        data={
            "risk_type": "other",
            "description": "x",
            "police_recipient": "八廓派出所",
            "government_recipient": "八廓街道办事处",
            "receipt": "值班人员接收",
        },
    )
    assert response.status_code == 302
    assert "案件当前不在调解阶段" in text(client.get(f"/cases/{number}"))


def test_case_search(client: FlaskClient, runtime: Runtime) -> None:
    first = start(runtime)
    start(runtime, matter="相邻通行纠纷")
    start(runtime, locality="540103001")
    login(client, "clerk")
    page = client.get("/cases")
    assert page.get_data(as_text=True).count('id="case-link-') == 2
    found = client.get("/cases?q=通行")
    assert found.get_data(as_text=True).count('id="case-link-') == 1 and "相邻通行纠纷" in text(found)
    assert case_no(runtime, first) in text(client.get(f"/cases?q={case_no(runtime, first)}"))
    assert "没有找到案件" in text(client.get("/cases?status=completed"))
    assert client.get("/cases/FT2099-999999").status_code == 404


def test_case_page_of_another_county_is_forbidden(client: FlaskClient, runtime: Runtime) -> None:
    number = case_no(runtime, start(runtime))
    login(client, "clerk2")
    assert client.get(f"/cases/{number}").status_code == 403
    login(client, "mediator")  # not yet referred
    assert client.get(f"/cases/{number}").status_code == 403


def test_the_timeline_says_when_a_case_moved_to_another_version(
    client: FlaskClient, runtime: Runtime
) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    files = ten_day_mediation(read_directories(runtime.processes_dir, runtime.forms_dir))
    version, _ = runtime.deploy_files(files)
    runtime.migrate_case(case_id, version.id, actor(runtime, "policy"))
    login(client, "clerk")
    shown = text(client.get(f"/cases/{case_no(runtime, case_id)}"))
    assert "由流程第1版迁移到第2版，重新计算期限：调解期限届满、调解期限临近" in shown
    assert "2026年11月12日" in shown


def test_the_diagram_viewer_gets_its_version_xml_marks_and_masked_step_history(
    client: FlaskClient, runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    number = case_no(runtime, case_id)
    login(client, "clerk")
    xml = client.get(f"/cases/{number}/diagram.bpmn")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert 'id="fangtiao_referral"' in xml.get_data(as_text=True)

    page = client.get(f"/cases/{number}")
    body = page.get_data(as_text=True)
    opening = element(page, "diagram-viewer").split(">", 1)[0]
    found = re.search(r"data-marks='([^']*)'", opening)
    assert found is not None
    marks = json.loads(html.unescape(found.group(1)))
    assert marks["current"] == ["review_referral"] and marks["overdue"] == []
    assert {"start", "screen_case", "approve_referral"} <= set(marks["done"])
    assert "review_referral" not in marks["done"]
    # a click on 甄别适用范围 shows who did it and what they entered (labelled), masked as the page is
    step = body.split('<template data-step="screen_case" data-title="甄别适用范围">', 1)[1].split(
        "</template>"
    )[0]
    assert "王芳" in step and "办理“甄别适用范围”" in step and "公民之间有关财产权益的纠纷" in step
    assert "540102199001011234" not in body

    clock.advance(timedelta(days=10))  # 受理审查 is past its deadline: marked overdue
    late = element(client.get(f"/cases/{number}"), "diagram-viewer").split(">", 1)[0]
    found = re.search(r"data-marks='([^']*)'", late)
    assert found is not None and json.loads(html.unescape(found.group(1)))["overdue"] == ["review_referral"]

    login(client, "clerk2")  # another township's clerk sees neither the page nor its diagram
    assert client.get(f"/cases/{number}/diagram.bpmn").status_code == 403


def test_the_petition_office_leader_extends_the_limit_from_the_case_page(
    client: FlaskClient, runtime: Runtime
) -> None:
    case_id = start(runtime)
    number = case_no(runtime, case_id)
    login(client, "leader")
    # Not accepted yet: no limit runs, so no form, and a post is refused in Chinese.
    assert 'id="extension-form"' not in client.get(f"/cases/{number}").get_data(as_text=True)
    client.post(f"/cases/{number}/extend-petition", data={"reason": "案情复杂"})
    assert "信访事项尚未受理" in text(client.get(f"/cases/{number}"))
    advance_to(runtime, case_id, "guide_divert")  # accepted at screening: the 60 days run
    assert element(client.get(f"/cases/{number}"), "extension-form")
    client.post(f"/cases/{number}/extend-petition", data={"reason": "  "})
    assert "请填写延长办理期限的理由" in text(client.get(f"/cases/{number}"))
    login(client, "clerk")  # the same office, but not its leader
    assert 'id="extension-form"' not in client.get(f"/cases/{number}").get_data(as_text=True)
    assert client.post(f"/cases/{number}/extend-petition", data={"reason": "x"}).status_code == 403
    login(client, "leader2")  # another county's leader does not see the case
    assert client.post(f"/cases/{number}/extend-petition", data={"reason": "x"}).status_code == 403
    with runtime.sessions() as session:
        assert session.scalars(select(Document).where(Document.kind == "extension_notice")).all() == []
    login(client, "leader")
    response = client.post(f"/cases/{number}/extend-petition", data={"reason": "需会同住建部门核实"})
    assert response.status_code == 302
    page = client.get(f"/cases/{number}")
    assert "已批准延长信访办理期限30日" in text(page) and "经分管领导批准延长30日" in text(page)
    assert "不能再次延长" in element(page, "extension-refusal")
    with runtime.sessions() as session:
        notices = session.scalars(select(Document).where(Document.kind == "extension_notice")).all()
        assert len(notices) == 1 and notices[0].number in text(page)
        assert session.scalars(select(Case.petition_deadline)).one() is not None
    client.post(f"/cases/{number}/extend-petition", data={"reason": "再次"})
    assert "不能再次延长" in text(client.get(f"/cases/{number}"))
    with runtime.sessions() as session:
        assert len(session.scalars(select(Document).where(Document.kind == "extension_notice")).all()) == 1


def test_a_collective_petition_is_marked_on_the_case_page(client: FlaskClient, runtime: Runtime) -> None:
    collective = case_no(runtime, start(runtime, petitioner_count=6))
    single = case_no(runtime, start(runtime, petitioner_count=1))
    login(client, "clerk")
    assert "集体访（6人）" in element(client.get(f"/cases/{collective}"), "case-collective")
    assert 'id="case-collective"' not in client.get(f"/cases/{single}").get_data(as_text=True)
    # the threshold is the settings' (FANGTIAO_COLLECTIVE_HEADCOUNT)
    runtime.collective_headcount = 7
    more = case_no(runtime, start(runtime, petitioner_count=6))
    assert 'id="case-collective"' not in client.get(f"/cases/{more}").get_data(as_text=True)


def test_a_case_of_the_same_dispute_still_running_is_found_and_shown(
    client: FlaskClient, runtime: Runtime
) -> None:
    first = start(runtime)  # the same parties and matter, still at screening
    second = start(runtime)
    advance_to(runtime, second, "guide_divert")  # screened: the earlier-mediation check has run
    with runtime.sessions() as session:
        case = session.get(Case, second)
        assert case is not None
        prior = runtime.case_data(session, case)["prior_mediation"]
    assert prior == {"found": False, "cases": [], "running": [case_no(runtime, first)]}
    login(client, "clerk")
    page = client.get(f"/cases/{case_no(runtime, second)}")
    assert case_no(runtime, first) in element(page, "prior-running")
    assert 'id="prior-running"' not in client.get(f"/cases/{case_no(runtime, first)}").get_data(as_text=True)


def test_id_numbers_find_the_same_parties_under_other_names_and_mark_a_repeat(
    client: FlaskClient, runtime: Runtime
) -> None:
    ids = {"petitioner_id_number": "540102199001011234", "respondent_id_number": "540102198802021111"}
    first = start(runtime, **ids)
    # the same two people, their names typed otherwise: only the ID numbers tell
    second = start(runtime, **ids, petitioner_name="张叁", respondent_name="李肆")
    other = start(runtime, petitioner_name="张叁", petitioner_id_number="540102199001015555")
    advance_to(runtime, second, "guide_divert")
    with runtime.sessions() as session:
        data = {}
        for case_id in (second, other):
            case = session.get(Case, case_id)
            assert case is not None
            data[case_id] = runtime.case_data(session, case)
    assert data[second]["locality_assignment"]["repeat_of"] == [case_no(runtime, first)]
    # found as the same parties by the two ID numbers; the other case shares a name, not the numbers
    assert data[second]["prior_mediation"]["running"] == [case_no(runtime, first)]
    assert data[other]["locality_assignment"]["repeat_of"] == []
    login(client, "clerk")
    assert case_no(runtime, first) in element(client.get(f"/cases/{case_no(runtime, second)}"), "case-repeat")
    assert 'id="case-repeat"' not in client.get(f"/cases/{case_no(runtime, other)}").get_data(as_text=True)


def test_a_petition_registered_at_the_county_office_is_marked_as_skipping_a_level(
    client: FlaskClient, runtime: Runtime
) -> None:
    county = runtime.start_case(REGISTRATION, actor(runtime, "county_clerk")).case_id
    local = start(runtime)  # registered by the locality's own petition office
    login(client, "clerk")
    assert "越级访" in element(client.get(f"/cases/{case_no(runtime, county)}"), "case-skipped-level")
    assert 'id="case-skipped-level"' not in client.get(f"/cases/{case_no(runtime, local)}").get_data(
        as_text=True
    )
