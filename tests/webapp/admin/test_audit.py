"""审计日志 from the browser's side: the search form, paging, and the CSV export Excel opens (UTF-8 with
a byte-order mark), with ID numbers and phones masked."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.store.models import Case
from orchestration.vocabulary import AuditAction
from tests.helpers import advance_to, start
from tests.webapp.helpers import element, login, text
from webapp.admin.audit import ACTION_NAMES


def _case_no(runtime: Runtime, case_id: int) -> str:
    with runtime.sessions() as session:
        case_no = session.scalar(select(Case.case_no).where(Case.id == case_id))
    assert case_no is not None
    return case_no


def test_search_the_log(client: FlaskClient, runtime: Runtime, clock: FrozenClock) -> None:
    first = _case_no(runtime, start(runtime))
    clock.advance(timedelta(days=1))
    second_id = start(runtime)
    advance_to(runtime, second_id, "approve_referral")
    second = _case_no(runtime, second_id)
    login(client, "admin")

    page = client.get("/admin/audit")
    assert page.status_code == 200 and "共 7 条" in text(page)  # deployment, 2 registrations, 4 steps
    by_case = client.get(f"/admin/audit?case_no={first}")
    assert "共 1 条" in text(by_case) and first in text(by_case) and second not in text(by_case)
    by_actor = client.get("/admin/audit?actor=clerk&action=complete")
    assert "共 4 条" in text(by_actor)
    by_day = client.get("/admin/audit?since=2026-11-03&until=2026-11-03&action=start")
    assert "共 1 条" in text(by_day) and second in text(by_day)
    assert "没有符合条件的记录" in text(client.get("/admin/audit?until=2026-11-01"))

    registration = client.get(f"/admin/audit?case_no={first}&action=start")
    assert "5401**********1234" in text(registration) and "540102199001011234" not in text(registration)
    assert "登记" in text(registration)

    wrong = client.get("/admin/audit?since=2026-13-01&action=nonsense")
    assert wrong.status_code == 422
    assert "日期格式应为 2026-11-02" in element(wrong, "err-audit-since")
    assert "请选择列表中的操作" in element(wrong, "err-audit-action")


def test_the_log_is_paged(client: FlaskClient, runtime: Runtime) -> None:
    for _ in range(21):
        start(runtime)
    login(client, "admin")
    first = client.get("/admin/audit")
    assert "第 1 / 2 页（共 22 条）" in text(first)
    second = client.get("/admin/audit?page=2")
    assert second.status_code == 200 and "部署流程" in text(second)  # the oldest event, alone on page 2


def test_the_csv_export_opens_in_excel_with_personal_data_masked(
    client: FlaskClient, runtime: Runtime
) -> None:
    case_no = _case_no(runtime, start(runtime))
    login(client, "admin")
    response = client.get(f"/admin/audit.csv?case_no={case_no}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-log-')
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["编号", "时间（北京时间）", "操作人", "操作", "案件编号", "环节", "详情"]
    assert len(rows) == 2
    _, at, actor, action, number, step, detail = rows[1]
    assert (at, actor, action, number, step) == ("2026-11-02 09:00:00", "clerk", "登记", case_no, "register")
    assert '"petitioner_id_number": "5401**********1234"' in detail and "13800138000" not in detail
    assert "张三" in detail

    everything = client.get("/admin/audit.csv")
    assert len(list(csv.reader(io.StringIO(everything.get_data().decode("utf-8-sig"))))) == 3
    wrong = client.get("/admin/audit.csv?until=yesterday")
    assert wrong.status_code == 422 and "日期格式应为" in text(wrong)


def test_every_action_has_a_chinese_name() -> None:
    assert set(ACTION_NAMES) == set(AuditAction)
