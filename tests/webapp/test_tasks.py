"""待办, 已办, task pages (every widget, prefill, validation, conflicts, uploads), claiming, 登记."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from orchestration.engine.clock import SHANGHAI, FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.store.models import Attachment, AuditEvent, Case, OpenTask
from tests.helpers import (
    REGISTRATION,
    SUCCESS_PATH,
    actor,
    add_colleague,
    advance_to,
    case_snapshot,
    open_task,
    start,
)
from tests.webapp.helpers import case_revision, element, login, text


def form_data(task_name: str) -> dict[str, object]:
    data = dict(next(d for name, _, d in SUCCESS_PATH if name == task_name))
    # A browser sends checkboxes as "true" when ticked and nothing when not; lists as repeated fields.
    return {k: ("true" if v is True else v) for k, v in data.items() if v is not False}


# ---- 待办 ------------------------------------------------------------------------------------------


def test_inbox_lists_my_tasks_with_due_state_in_colour_and_words(
    client: FlaskClient, runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "review_referral")  # due in 3 days: end of 2026-11-05
    login(client, "mediator")
    page = client.get("/tasks")
    row = element(page, f"task-{task.id}")
    assert 'class="row-normal"' in row and "正常（剩余3天）" in text(page)
    assert "2026年11月5日" in text(page)
    clock.set(datetime(2026, 11, 5, 10, 0, tzinfo=SHANGHAI))
    page = client.get("/tasks")
    assert 'class="row-near"' in element(page, f"task-{task.id}")
    assert "临期（今日到期）" in text(page)
    clock.set(datetime(2026, 11, 7, 10, 0, tzinfo=SHANGHAI))
    page = client.get("/tasks")
    assert 'class="row-overdue"' in element(page, f"task-{task.id}")
    assert "超期（已超2天）" in text(page)
    assert "超期 1" in text(page)  # in the navigation bar too
    assert element(page, "nav-overdue-count")


def test_inbox_filters_sort_and_counts(client: FlaskClient, runtime: Runtime, clock: FrozenClock) -> None:
    ids = [start(runtime) for _ in range(3)]
    with runtime.sessions() as session, session.begin():
        for offset, case_id in zip((30, -2, 200), ids, strict=True):
            row = session.scalar(select(OpenTask).where(OpenTask.case_id == case_id))
            assert row is not None
            row.due_at = clock.now() + timedelta(hours=offset)
        numbers = {c.id: c.case_no for c in session.scalars(select(Case))}
    login(client, "clerk")
    page = client.get("/tasks")
    body = page.get_data(as_text=True)
    order = [m for m in re.findall(r'data-case-no="([^"]+)"', body)]
    assert order == [numbers[ids[1]], numbers[ids[0]], numbers[ids[2]]]
    assert "共 3 件" in text(page) and element(page, "nav-tasks-count")
    overdue = client.get("/tasks?due=overdue")
    assert re.findall(r'data-case-no="([^"]+)"', overdue.get_data(as_text=True)) == [numbers[ids[1]]]
    by_number = client.get(f"/tasks?case_no={numbers[ids[2]]}")
    assert re.findall(r'data-case-no="([^"]+)"', by_number.get_data(as_text=True)) == [numbers[ids[2]]]
    none = client.get("/tasks?step=mediate")
    assert "没有符合筛选条件的待办任务" in text(none)
    assert 'id="filter-step"' in page.get_data(as_text=True)


def test_inbox_pages(client: FlaskClient, runtime: Runtime, app: object) -> None:
    for _ in range(22):
        start(runtime)
    login(client, "clerk")
    first = client.get("/tasks")
    assert first.get_data(as_text=True).count('data-case-no="') == 20
    assert "第 1 / 2 页（共 22 条）" in text(first)
    second = client.get("/tasks?page=2")
    assert second.get_data(as_text=True).count('data-case-no="') == 2


# ---- task page ------------------------------------------------------------------------------------


def test_task_page_renders_the_form_with_prefill_and_case_summary(
    client: FlaskClient, runtime: Runtime
) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "draft_referral")
    login(client, "clerk")
    page = client.get(f"/tasks/{task.id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    # select from x-options-from, prefilled from locality_assignment.mediation_org
    assert re.search(r'<option value="540102001-tw" selected>', body)
    assert 'type="file" id="f-legal_documents" name="legal_documents" multiple' in body
    assert (
        f'name="expected_revision" id="expected-revision" value="{case_revision(runtime, case_id)}"' in body
    )
    assert 'enctype="multipart/form-data"' in body
    summary = text(page)
    assert "邻里宅基地院墙归属纠纷" in summary
    assert "5401**********1234" in summary and "138****8000" in summary
    assert "540102199001011234" not in body and "13800138000" not in body


def test_every_widget_kind_is_rendered(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    login(client, "clerk")
    screen = client.get(f"/tasks/{open_task(runtime, case_id, 'screen_case').id}").get_data(as_text=True)
    assert 'type="radio" id="f-dispute_category-citizen_property"' in screen
    assert 'type="checkbox" id="f-outside_scope_by_law" name="outside_scope_by_law" value="true"' in screen
    assert '<textarea id="f-other_unsuitable_reason"' in screen
    task = advance_to(runtime, case_id, "mediate")
    login(client, "mediator")
    mediate = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'type="date" id="f-agreement_effective_on"' in mediate
    assert 'type="number" id="f-extension_days"' in mediate and 'step="1"' in mediate
    assert "“调解情况”为“达成调解协议”时必填" in mediate
    # A nested acceptance.extension_days (0) must not prefill the number field.
    assert 'id="f-extension_days" name="extension_days" value=""' in mediate
    register = client.get("/register")
    assert register.status_code == 403  # mediators do not register
    login(client, "clerk")
    register = client.get("/register").get_data(as_text=True)
    assert 'type="text" id="f-petitioner_name"' in register
    assert '<select id="f-locality" name="locality">' in register


def test_validation_errors_are_shown_at_each_field_and_input_is_kept(
    client: FlaskClient, runtime: Runtime
) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "draft_referral")
    login(client, "clerk")
    response = client.post(
        f"/tasks/{task.id}",
        data={
            "mediation_org": "540102001-tw",
            "referral_summary": "我写的摘要",
            "contact_phone": "12345",
            "expected_revision": str(case_revision(runtime, case_id)),
            "csrf_token": "ignored",
        },
    )
    assert response.status_code == 422
    assert "请填写信访部门联系人" in element(response, "err-contact_person")
    assert "格式不正确" in element(response, "err-contact_phone")
    body = response.get_data(as_text=True)
    assert ">我写的摘要</textarea>" in body
    assert 'value="12345"' in body
    assert open_task(runtime, case_id, "draft_referral").id == task.id  # nothing advanced


def test_screening_shows_the_running_cases_of_the_same_parties_before_it_is_submitted(
    client: FlaskClient, runtime: Runtime
) -> None:
    """The earlier-mediation check runs when screening is submitted; the clerk sees the other cases of the
    same parties still being handled on the screening page already, matched as the check matches them
    (here by the two ID numbers, the names typed otherwise). A case the clerk may not see (another
    township's) shows by its number only; no ID number is shown."""
    ids = {"petitioner_id_number": "540102199001011234", "respondent_id_number": "540102198802021111"}
    first = start(runtime, **ids)
    elsewhere = runtime.start_case(
        {**REGISTRATION, **ids, "locality": "540103001", "matter": "草场边界纠纷"}, actor(runtime, "clerk2")
    ).case_id
    unrelated = start(runtime, petitioner_name="王五", respondent_name="赵六")
    second = start(runtime, **ids, petitioner_name="张叁", respondent_name="李肆")

    def number(case_id: int) -> str:
        with runtime.sessions() as session:
            case = session.get(Case, case_id)
            assert case is not None
            return case.case_no

    login(client, "clerk")
    page = client.get(f"/tasks/{open_task(runtime, second, 'screen_case').id}")
    shown = element(page, "running-same-parties")
    shown = shown[: shown.index("</div>")]
    assert (
        f'<a href="/cases/{number(first)}">{number(first)}</a>（邻里宅基地院墙归属纠纷，2026年11月2日登记）'
        in shown
    )
    assert f"{number(elsewhere)}（由其他单位办理）" in shown and "草场边界纠纷" not in shown
    assert number(unrelated) not in shown and number(second) not in shown
    assert "540102" not in shown.replace(f"/cases/{number(first)}", "")  # no ID number, not even masked
    # the case of other parties has no one else's case to show
    alone = client.get(f"/tasks/{open_task(runtime, unrelated, 'screen_case').id}")
    assert 'id="running-same-parties"' not in alone.get_data(as_text=True)
    # a case no longer running is not listed: the first one screened as outside the scope by law ends
    unsuitable = {
        "dispute_category": "citizen_property",
        "outside_scope_by_law": True,
        "screening_notes": "已诉讼",
    }
    runtime.complete_task(open_task(runtime, first, "screen_case").id, unsuitable, actor(runtime, "clerk"))
    again = element(
        client.get(f"/tasks/{open_task(runtime, second, 'screen_case').id}"), "running-same-parties"
    )
    assert number(first) not in again[: again.index("</div>")] and number(elsewhere) in again


def test_submitting_advances_the_case_and_redirects_with_a_confirmation(
    client: FlaskClient, runtime: Runtime
) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    login(client, "clerk")
    response = client.post(
        f"/tasks/{task.id}",
        data={
            "dispute_category": "citizen_property",
            "expected_revision": str(case_revision(runtime, case_id)),
        },
    )
    assert response.status_code == 302 and response.location == "/tasks"
    page = client.get("/tasks")
    assert "已办理：" in text(page) and "“甄别适用范围”" in text(page) and "下一环节：引导分流" in text(page)
    assert open_task(runtime, case_id, "guide_divert")


def test_double_completion_says_so_plainly(client: FlaskClient, runtime: Runtime, app: object) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    rev = str(case_revision(runtime, case_id))
    login(client, "clerk")
    data = {"dispute_category": "citizen_property", "expected_revision": rev}
    assert client.post(f"/tasks/{task.id}", data=data).status_code == 302
    again = client.post(f"/tasks/{task.id}", data=data)
    assert again.status_code == 409
    assert "该任务已由他人办理完毕" in text(again)
    opened = client.get(f"/tasks/{task.id}")
    assert opened.status_code == 409 and "已办理完毕或已不存在" in text(opened)
    assert element(opened, "back-to-tasks")


def test_stale_revision_is_a_clear_conflict_and_keeps_input(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "mediate")
    rev = case_revision(runtime, case_id)
    runtime.report_risk(
        case_id,
        {
            "risk_type": "leapfrog",
            "description": "扬言越级上访",
            "police_recipient": "八廓派出所",
            "government_recipient": "八廓街道办事处",
            "receipt": "值班人员接收",
        },
        actor(runtime, "mediator"),
    )
    login(client, "mediator")
    response = client.post(
        f"/tasks/{task.id}",
        data={"session_record": "我的调解记录", "mediation_outcome": "extend", "expected_revision": str(rev)},
    )
    assert response.status_code == 409
    assert "案件已被他人更新，请刷新后重新提交" in text(response)
    assert ">我的调解记录</textarea>" in response.get_data(as_text=True)


@pytest.mark.parametrize("offset", [-1, 1], ids=["lower", "higher"])
def test_a_stale_revision_lower_or_higher_is_refused_and_writes_nothing(
    client: FlaskClient, runtime: Runtime, offset: int
) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "mediate")
    before = case_snapshot(runtime, case_id)
    login(client, "mediator")
    response = client.post(
        f"/tasks/{task.id}",
        data={**form_data("mediate"), "expected_revision": str(before["revision"] + offset)},
    )
    assert response.status_code == 409
    assert "案件已被他人更新，请刷新后重新提交" in text(response)
    assert ">经调解达成一致</textarea>" in response.get_data(as_text=True)
    assert case_snapshot(runtime, case_id) == before


def _full_width(digits: str) -> str:
    return "".join(chr(ord(c) - ord("0") + ord("０")) for c in digits)


# Each names the case's current revision in a way that is not a plain revision number: none may
# complete the task unchecked, and none may end in a server error.
UNUSABLE_REVISIONS = {
    "missing": lambda rev: None,
    "empty": lambda rev: "",
    "letters": lambda rev: "abc",
    "full-width": _full_width,
    "superscript": lambda rev: "²",
    "negative": lambda rev: f"-{rev}",
    "spaced": lambda rev: f" {rev}",
    "decimal": lambda rev: f"{rev}.0",
    "absurdly-long": lambda rev: "0" * 5000 + rev,
}


@pytest.mark.parametrize("spelling", UNUSABLE_REVISIONS.values(), ids=UNUSABLE_REVISIONS.keys())
def test_a_submission_without_a_usable_revision_is_refused_and_keeps_input(
    client: FlaskClient, runtime: Runtime, spelling: Callable[[str], str | None]
) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "mediate")
    before = case_snapshot(runtime, case_id)
    raw = spelling(str(before["revision"]))
    login(client, "mediator")
    data = form_data("mediate") if raw is None else {**form_data("mediate"), "expected_revision": raw}
    response = client.post(f"/tasks/{task.id}", data=data)
    assert response.status_code == 422
    assert "页面缺少有效的案件版本号" in element(response, "form-message")
    assert ">经调解达成一致</textarea>" in response.get_data(as_text=True)
    assert case_snapshot(runtime, case_id) == before


def test_after_a_refusal_for_the_revision_the_page_carries_the_current_one(
    client: FlaskClient, runtime: Runtime
) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "mediate")
    login(client, "mediator")
    refused = client.post(f"/tasks/{task.id}", data=form_data("mediate"))
    assert refused.status_code == 422
    shown = re.search(r'id="expected-revision" value="(\d+)"', refused.get_data(as_text=True))
    assert shown is not None and int(shown.group(1)) == case_revision(runtime, case_id)
    again = client.post(
        f"/tasks/{task.id}", data={**form_data("mediate"), "expected_revision": shown.group(1)}
    )
    assert again.status_code == 302
    assert open_task(runtime, case_id, "feedback_success")


def test_claimed_task_is_read_only_for_others(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    add_colleague(runtime, "clerk_b", "赵敏", of="clerk")
    login(client, "clerk")
    assert client.post(f"/tasks/{task.id}/claim").status_code == 302
    assert "我已认领" in text(client.get("/tasks"))
    other = client.application.test_client()
    login(other, "clerk_b")
    page = other.get(f"/tasks/{task.id}")
    assert "该任务已由王芳认领" in text(page)
    assert 'id="submit-task" disabled' in page.get_data(as_text=True)
    submission = {
        "dispute_category": "citizen_property",
        "expected_revision": str(case_revision(runtime, case_id)),
    }
    refused = other.post(f"/tasks/{task.id}", data=submission)
    assert refused.status_code == 403 and "该任务已由他人认领" in text(refused)
    assert other.post(f"/tasks/{task.id}/claim").status_code == 409
    # The leader reassigns it from the team list.
    leader = client.application.test_client()
    login(leader, "leader")
    team = leader.get("/tasks/team")
    assert element(team, f"reassign-{task.id}")
    assert leader.post(f"/tasks/{task.id}/reassign", data={"username": "clerk_b"}).status_code == 302
    assert "已改派" in text(leader.get("/tasks/team"))
    assert other.post(f"/tasks/{task.id}", data=submission).status_code == 302
    # Releasing returns the task to everyone.
    case2 = start(runtime)
    task2 = open_task(runtime, case2, "screen_case")
    client.post(f"/tasks/{task2.id}/claim")
    assert client.post(f"/tasks/{task2.id}/release").status_code == 302
    assert open_task(runtime, case2, "screen_case").claimed_by is None


def reassign_options(page: TestResponse, task_id: str) -> list[str]:
    select = re.search(
        rf'<select name="username" id="reassign-user-{task_id}">(.*?)</select>',
        page.get_data(as_text=True),
        re.S,
    )
    assert select is not None, f"no reassignment list for {task_id}"
    return sorted(v for v in re.findall(r'<option value="([^"]*)"', select.group(1)) if v)


def test_team_page_offers_exactly_the_tasks_role_in_the_organisation(
    client: FlaskClient, runtime: Runtime
) -> None:
    screen = open_task(runtime, start(runtime), "screen_case")
    approve = advance_to(runtime, start(runtime), "approve_referral")
    add_colleague(runtime, "clerk_b", "赵敏", of="clerk")
    add_colleague(runtime, "clerk_gone", "钱进", of="clerk", active=False)
    add_colleague(runtime, "clerk2_b", "孙浩", of="clerk2")
    login(client, "leader")
    team = client.get("/tasks/team")
    assert team.status_code == 200
    assert reassign_options(team, screen.id) == ["clerk", "clerk_b"]
    assert reassign_options(team, approve.id) == ["leader"]


def test_team_page_is_for_leaders(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "clerk")
    assert client.get("/tasks/team").status_code == 403
    assert client.post("/tasks/unknown/reassign", data={"username": "clerk"}).status_code == 409


def test_file_uploads_reach_the_case(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "guide_divert")
    task = open_task(runtime, case_id, "guide_divert")
    login(client, "clerk")
    response = client.post(
        f"/tasks/{task.id}",
        data={
            "explanation_given": "true",
            "privacy_notice_given": "true",
            "consent": "agree",
            "consent_documents": [(io.BytesIO(b"%PDF-1.4 consent"), "同意调解书.pdf", "application/pdf")],
            "expected_revision": str(case_revision(runtime, case_id)),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, text(response)
    with runtime.sessions() as session:
        stored = session.scalar(select(Attachment).where(Attachment.case_id == case_id))
        assert stored is not None and stored.filename == "同意调解书.pdf"
        case = session.get(Case, case_id)
        assert case is not None
        assert runtime.case_data(session, case)["consent_documents"] == [str(stored.id)]


def test_required_upload_missing_is_a_field_error(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "guide_divert")
    login(client, "clerk")
    response = client.post(
        f"/tasks/{task.id}",
        data={
            "explanation_given": "true",
            "privacy_notice_given": "true",
            "consent": "agree",
            "expected_revision": str(case_revision(runtime, case_id)),
        },
    )
    assert response.status_code == 422
    assert "请上传" in element(response, "err-consent_documents")
    assert 'id="f-explanation_given" name="explanation_given" value="true" checked' in response.get_data(
        as_text=True
    )


def test_someone_elses_task_is_forbidden(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    for username in ("leader", "clerk2", "mediator", "county_clerk"):
        login(client, username)
        assert client.get(f"/tasks/{task.id}").status_code == 403, username
        assert (
            client.post(f"/tasks/{task.id}", data={"dispute_category": "citizen_property"}).status_code == 403
        )
        client.post("/logout")


# ---- 已办 ------------------------------------------------------------------------------------------


def test_done_lists_what_i_completed(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "approve_referral")
    login(client, "clerk")
    page = text(client.get("/tasks/done"))
    for title in ("信访事项登记", "甄别适用范围", "引导分流", "填写“访调对接”移送函"):
        assert title in page
    login(client, "leader")
    assert "暂无已办事项" in text(client.get("/tasks/done"))


# ---- 登记 ------------------------------------------------------------------------------------------


def test_register_starts_a_case_with_a_runtime_number(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "clerk")
    page = client.get("/register")
    assert '<option value="540102001" selected>' in page.get_data(as_text=True)
    assert '<option value="540103001"' not in page.get_data(as_text=True)  # another county's township
    data = {k: str(v) for k, v in REGISTRATION.items()}
    response = client.post("/register", data=data)
    assert response.status_code == 302
    assert re.search(r"已登记，案件编号 FT2026-\d{6}", text(client.get("/tasks")))


def test_register_validation_and_jurisdiction(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "clerk")
    data = {k: str(v) for k, v in REGISTRATION.items()}
    bad = client.post("/register", data={**data, "petitioner_id_number": "123", "matter": ""})
    assert bad.status_code == 422
    assert "18位居民身份证号码" in element(bad, "err-petitioner_id_number")
    assert "请填写信访事项（诉求）" in element(bad, "err-matter")
    assert 'value="张三"' in bad.get_data(as_text=True)
    elsewhere = client.post("/register", data={**data, "locality": "540103001"})
    assert elsewhere.status_code == 422 and "辖区" in element(elsewhere, "err-locality")
    with runtime.sessions() as session:
        assert session.scalar(select(Case)) is None
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "start")) is None


def test_the_success_path_through_the_web(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "clerk")
    assert client.post("/register", data={k: str(v) for k, v in REGISTRATION.items()}).status_code == 302
    with runtime.sessions() as session:
        case = session.scalar(select(Case))
        assert case is not None
        case_id = case.id
    for name, username, _ in SUCCESS_PATH:
        login(client, username)
        task = open_task(runtime, case_id, name)
        page = client.get("/tasks")
        assert f'id="task-{task.id}"' in page.get_data(as_text=True), name
        data = form_data(name)
        if name == "guide_divert":
            data["consent_documents"] = [(io.BytesIO(b"scan"), "同意书.pdf", "application/pdf")]
        if name == "respondent_consent":
            data["respondent_consent_documents"] = [
                (io.BytesIO(b"scan"), "对方同意书.pdf", "application/pdf")
            ]
        if name == "feedback_success":
            data["agreement_copy"] = [(io.BytesIO(b"%PDF-1.4 signed"), "协议书签署件.pdf", "application/pdf")]
        response = client.post(
            f"/tasks/{task.id}", data={**data, "expected_revision": str(case_revision(runtime, case_id))}
        )
        assert response.status_code == 302, (name, text(response)[:800])
        client.post("/logout")
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.status == "completed" and case.outcome == "mediated"
