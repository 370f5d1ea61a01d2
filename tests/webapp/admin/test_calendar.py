"""节假日日历 from the browser's side: a year's days and their sources, a day's entry and a year's notice,
each previewed (nothing stored) and then confirmed; bad input refused in Chinese with nothing stored."""

from __future__ import annotations

import io
import re
from datetime import datetime
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from orchestration.engine.clock import SHANGHAI, FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.store.models import AuditEvent, CalendarDay, Case, OfficialYear, Timer
from tests.helpers import advance_to, start
from tests.webapp.helpers import element, login, text

NOTICE = '{"holidays": {"2027-01-01": "元旦", "2027-01-04": "元旦"}, "workdays": {"2027-01-09": "元旦调休"}}'


def stored(runtime: Runtime) -> dict[str, Any]:
    with runtime.sessions() as session:
        return {
            "days": list(session.execute(select(CalendarDay.day, CalendarDay.is_working, CalendarDay.note))),
            "official": list(session.scalars(select(OfficialYear.year))),
            "timers": list(session.execute(select(Timer.id, Timer.due_at).order_by(Timer.id))),
            "revisions": list(session.execute(select(Case.id, Case.revision))),
            "audit": session.scalar(select(func.count()).select_from(AuditEvent)),
        }


@pytest.fixture
def mediating(runtime: Runtime, clock: FrozenClock) -> str:
    """A case in mediation since 2026-12-17: its deadline falls on Monday 2027-01-04."""
    clock.set(datetime(2026, 12, 17, 10, 0, tzinfo=SHANGHAI))
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    with runtime.sessions() as session:
        case_no = session.scalar(select(Case.case_no).where(Case.id == case_id))
    assert case_no is not None
    return case_no


def upload(content: str | bytes) -> tuple[io.BytesIO, str]:
    return io.BytesIO(content.encode("utf-8") if isinstance(content, str) else content), "2027.json"


def test_a_year_shows_its_days_and_their_sources(client: FlaskClient) -> None:
    login(client, "admin")
    page = client.get("/admin/calendar?year=2026")
    assert page.status_code == 200
    assert "国庆节" in element(page, "day-2026-10-01") and "国务院通知（程序库）" in element(
        page, "day-2026-10-01"
    )
    assert "上班" in element(page, "day-2026-09-20")
    estimated = client.get("/admin/calendar?year=2027")
    assert "估算" in element(estimated, "year-status") and "估算" in element(estimated, "day-2027-01-01")
    wrong = client.get("/admin/calendar?year=1990")
    assert wrong.status_code == 422 and "年份须在2000至2100之间" in text(wrong)


def test_loading_a_notice_is_previewed_then_confirmed(
    client: FlaskClient, runtime: Runtime, mediating: str
) -> None:
    login(client, "admin")
    assert "2027年节假日安排仍为估算" in text(client.get("/admin"))
    before = stored(runtime)
    preview = client.post("/admin/calendar/load", data={"year": "2027", "file": upload(NOTICE)})
    assert preview.status_code == 200
    assert stored(runtime) == before  # a preview stores nothing
    page = text(preview)
    assert "尚未保存" in page and "将变动的待处理期限（2）" in page
    moves = re.findall(r'<tr class="move">(.*?)</tr>', preview.get_data(as_text=True), re.S)
    assert len(moves) == 2 and all(mediating in move and "推后 1 天" in move for move in moves)
    assert "2027年1月4日 23:59" in page and "2027年1月5日 23:59" in page
    assert "2027年1月9日（周六） 上班 元旦调休" in page

    # confirming sends back the notice the preview was made of
    schedule = re.search(
        r'<textarea name="schedule"[^>]*>(.*?)</textarea>', preview.get_data(as_text=True), re.S
    )
    assert schedule is not None and unescape(schedule.group(1)) == NOTICE
    saved = client.post(
        "/admin/calendar/load", data={"year": "2027", "schedule": unescape(schedule.group(1)), "confirm": "1"}
    )
    assert saved.status_code == 302 and saved.location == "/admin/calendar?year=2027"
    page = text(client.get(saved.location))
    assert "日历已保存；重新计算了 1 个案件的期限，其中 2 个期限变动" in page
    assert "管理员于" in page and "载入国务院放假通知" in page
    with runtime.sessions() as session:
        assert session.scalar(select(func.max(Timer.due_at))) == datetime(
            2027, 1, 5, 23, 59, 59, tzinfo=SHANGHAI
        )
    assert "2027年节假日安排仍为估算" not in text(client.get("/admin"))


def test_a_days_entry_is_previewed_then_confirmed(
    client: FlaskClient, runtime: Runtime, mediating: str
) -> None:
    login(client, "admin")
    before = stored(runtime)
    preview = client.post(
        "/admin/calendar/day", data={"day": "2027-01-04", "kind": "rest", "note": "元旦调休"}
    )
    assert preview.status_code == 200 and "将变动的待处理期限（2）" in text(preview)
    assert stored(runtime) == before
    saved = client.post(
        "/admin/calendar/day", data={"day": "2027-01-04", "kind": "rest", "note": "元旦调休", "confirm": "1"}
    )
    assert saved.status_code == 302
    page = client.get(saved.location)
    assert "其中 2 个期限变动" in text(page)
    assert "元旦调休" in element(page, "day-2027-01-04") and "管理员设置" in element(page, "day-2027-01-04")


# (year, the file's content or None for no file, the message)
BAD_UPLOADS: dict[str, tuple[str, str | bytes | None, str]] = {
    "no file": ("2027", None, "请选择国务院放假通知的日历文件"),
    "not JSON": ("2027", "放假通知", "日历文件格式错误"),
    "another year": ("2028", NOTICE, "日历文件含有不属于2028年的日期"),
    "not UTF-8": ("2027", NOTICE.encode("gbk"), "日历文件须为 UTF-8 编码的 JSON 文件"),
    "no holidays": ("2027", '{"workdays": {}}', "日历文件没有列出任何放假日期"),
    "too large": ("2027", b" " * (1024 * 1024 + 1), "日历文件过大"),
}


@pytest.mark.parametrize(("year", "content", "message"), BAD_UPLOADS.values(), ids=BAD_UPLOADS.keys())
def test_a_bad_notice_is_refused_in_chinese_and_nothing_is_stored(
    client: FlaskClient, runtime: Runtime, year: str, content: str | bytes | None, message: str
) -> None:
    login(client, "admin")
    before = stored(runtime)
    data: dict[str, Any] = {"year": year}
    if content is not None:
        data["file"] = upload(content)
    response = client.post("/admin/calendar/load", data=data)
    assert response.status_code == 422
    assert message in element(response, "err-load-file")
    assert stored(runtime) == before


def test_a_bad_notice_sent_back_to_confirm_is_refused(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "admin")
    before = stored(runtime)
    confirmed = client.post("/admin/calendar/load", data={"year": "2027", "schedule": "{", "confirm": "1"})
    assert confirmed.status_code == 422 and "日历文件格式错误" in element(confirmed, "err-load-file")
    assert stored(runtime) == before


def test_a_bad_day_is_refused_in_chinese_and_nothing_is_stored(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "admin")
    before = stored(runtime)
    for data, field, message in (
        ({"day": "2027-02-30", "kind": "rest"}, "err-day-day", "请填写日期"),
        ({"day": "2027-02-20", "kind": "holiday"}, "err-day-kind", "请选择上班或休息"),
        (
            {"day": "2027-02-20", "kind": "work", "note": "长" * 201, "confirm": "1"},
            "err-day-note",
            "说明不能超过200个字符",
        ),
    ):
        response = client.post("/admin/calendar/day", data=data)
        assert response.status_code == 422 and message in element(response, field), data
    missing_year = client.post("/admin/calendar/load", data={"year": "", "file": upload(NOTICE)})
    assert missing_year.status_code == 422 and "请填写四位数的年份" in element(missing_year, "err-load-year")
    assert stored(runtime) == before
