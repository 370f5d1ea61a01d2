"""案件实例 pages on both databases: the list with counts, filters and keyset paging; the case's engine
view; every action from its form, each refused on the case's page with its Chinese reason and status."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.store.models import AuditEvent, Case, Document, Incident, OpenTask, Timer
from tests.helpers import advance_to, case_snapshot, open_task, start
from tests.webapp.helpers import login, text


def number(runtime: Runtime, case_id: int) -> str:
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.case_no


def status(runtime: Runtime, case_id: int) -> str:
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.status


def test_the_list_shows_counts_filters_and_pages(client: FlaskClient, runtime: Runtime) -> None:
    cases = [start(runtime) for _ in range(3)]
    advance_to(runtime, cases[0], "review_referral")
    login(client, "admin")
    page = client.get("/admin/instances")
    assert page.status_code == 200
    body = text(page)
    assert "办理中 3" in body and "已暂停 0" in body and "等待定时器 0" in body
    for case_id in cases:
        assert number(runtime, case_id) in body
    first = client.get("/admin/instances?sort=case_no&order=asc&per_page=2")
    assert first.status_code == 200
    filtered = text(client.get("/admin/instances?step=review_referral"))
    assert number(runtime, cases[0]) in filtered and number(runtime, cases[1]) not in filtered
    refused = client.get("/admin/instances?since=2026-13-01&status=nonsense")
    assert refused.status_code == 422
    assert "日期格式应为 2026-11-02" in text(refused) and "请选择列表中的状态" in text(refused)


def test_the_list_pages_from_where_it_left_off(client: FlaskClient, runtime: Runtime) -> None:
    numbers = sorted(number(runtime, start(runtime)) for _ in range(52))
    login(client, "admin")
    page = client.get("/admin/instances?sort=case_no&order=asc")
    body = page.get_data(as_text=True)
    assert numbers[49] in body and numbers[50] not in body
    link = body.split('id="next-page" href="')[1].split('"')[0].replace("&amp;", "&")
    second = text(client.get(link))
    assert numbers[50] in second and numbers[51] in second and numbers[0] not in second


def test_the_case_page_shows_steps_timers_incidents_and_masks_personal_data(
    client: FlaskClient, runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    with runtime.transaction() as session:
        session.add(
            Incident(
                case_id=case_id,
                kind="timer",
                message="定时器“3日内未作决定”重试5次仍失败：处理程序出错",
                task_name="3日内未作决定",
                traceback="Traceback (most recent call last): KeyError: 'x'",
                attempts=5,
                created_at=clock.now(),
            )
        )
    login(client, "admin")
    page = client.get(f"/admin/instances/{number(runtime, case_id)}")
    assert page.status_code == 200
    body = text(page)
    assert "data-diagram-viewer" in page.get_data(as_text=True)
    xml = client.get(f"/admin/instances/{number(runtime, case_id)}/diagram.bpmn")
    assert xml.status_code == 200 and xml.mimetype == "application/xml" and b"definitions" in xml.data
    assert "3日内未作决定" in body and "重试5次仍失败" in body and "KeyError" in body
    assert "尝试次数 5" in body
    assert "已完成" in body and "待办理" in body
    # the registration's ID number is shown masked in the submitted data
    assert "540102199001011234" not in body
    assert "审计日志" in body and "登记" in body


def test_each_action_from_its_form(client: FlaskClient, runtime: Runtime, clock: FrozenClock) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    case_no = number(runtime, case_id)
    url = f"/admin/instances/{case_no}"
    login(client, "admin")
    task = open_task(runtime, case_id, "review_referral")
    response = client.post(
        f"{url}/reassign", data={"task": task.id, "username": "mediator", "reason": "指定"}
    )
    assert response.status_code == 302
    assert open_task(runtime, case_id, "review_referral").claimed_by is not None
    response = client.post(f"{url}/reassign", data={"task": task.id, "username": "clerk", "reason": "指定"})
    assert response.status_code == 409 and "不能改派" in text(response)

    response = client.post(f"{url}/suspend", data={"reason": "核实身份"})
    assert response.status_code == 302 and status(runtime, case_id) == "suspended"
    clock.advance(timedelta(days=5))
    assert runtime.run_due_timers() == 0
    refused = client.post(f"{url}/fire-timer", data={"timer": "x", "reason": "提前"})
    assert refused.status_code == 409 and "请先恢复再触发定时器" in text(refused)
    assert client.post(f"{url}/resume", data={"reason": "核实完毕"}).status_code == 302
    assert runtime.run_due_timers() == 1

    with runtime.sessions() as session:
        reset_to = session.scalar(
            select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.task_name == "draft_referral")
        )
        assert reset_to is not None
    before = case_snapshot(runtime, case_id)
    missing = client.post(f"{url}/reset", data={"task": reset_to.detail["task_id"], "reason": ""})
    assert missing.status_code == 422 and "请填写操作原因" in text(missing)
    assert case_snapshot(runtime, case_id) == before
    response = client.post(f"{url}/reset", data={"task": reset_to.detail["task_id"], "reason": "组织选错"})
    assert response.status_code == 302
    assert "已撤回其后出具的文书" in text(client.get(url))
    with runtime.sessions() as session:
        letter = session.scalar(select(Document.id).where(Document.case_id == case_id))
    assert "本文书已撤回（案件退回到" in text(client.get(f"/documents/{letter}"))
    assert open_task(runtime, case_id, "draft_referral")

    refused = client.post(f"{url}/retry", data={"reason": "重试"})
    assert refused.status_code == 409 and "没有待处理的故障事件" in text(refused)
    refused = client.post(f"{url}/migrate", data={"version": "x", "reason": "迁移"})
    assert refused.status_code == 422 and "请选择目标版本" in text(refused)

    assert client.post(f"{url}/terminate", data={"reason": "重复登记"}).status_code == 302
    assert status(runtime, case_id) == "terminated"
    with runtime.sessions() as session:
        assert session.scalars(select(OpenTask).where(OpenTask.case_id == case_id)).all() == []
        assert session.scalars(select(Timer).where(Timer.case_id == case_id)).all() == []
    refused = client.post(f"{url}/suspend", data={"reason": "暂停"})
    assert refused.status_code == 409 and "已被管理员终止" in text(refused)


def test_bulk_suspend_over_the_filtered_selection(client: FlaskClient, runtime: Runtime) -> None:
    first, second = start(runtime), start(runtime)
    advance_to(runtime, first, "review_referral")
    login(client, "admin")
    client.post(f"/admin/instances/{number(runtime, second)}/suspend", data={"reason": "先行暂停"})
    response = client.post(
        "/admin/instances/bulk", data={"action": "suspend", "reason": "系统维护"}, follow_redirects=True
    )
    body = text(response)
    assert "批量暂停：1 件完成，1 件未执行" in body
    assert f"{number(runtime, second)}：案件已处于暂停状态" in body
    assert status(runtime, first) == "suspended"
    response = client.post(
        "/admin/instances/bulk",
        data={"action": "resume", "reason": "维护完毕", "step": "review_referral"},
        follow_redirects=True,
    )
    assert "批量恢复：1 件完成，0 件未执行" in text(response)
    assert status(runtime, first) == "running" and status(runtime, second) == "suspended"
