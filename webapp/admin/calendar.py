"""节假日日历: a year's rest and make-up working days and where each answer comes from; a day's entry
and a year's official notice (a JSON file), each shown first as a preview of the deadlines it would move
and saved only when the administrator confirms it."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from orchestration.errors import InvalidData
from orchestration.services.calendar_admin import FIRST_YEAR, LAST_YEAR, Preview, Recomputed, parse_schedule
from webapp.admin import bp
from webapp.context import now, services, viewer

Page = str | tuple[str, int] | Response
MAX_NOTICE_BYTES = 1024 * 1024  # a year's notice is a few kilobytes
SOURCES = {"official": "国务院通知（程序库）", "estimate": "估算", "admin": "管理员设置"}
WEEKDAYS = "一二三四五六日"


def _year(raw: str | None, default: int) -> int:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) == 4 else default


def _page(
    year: int, form: str | None = None, errors: dict[str, str] | None = None, status: int = 200
) -> Page:
    return (
        render_template(
            "admin/calendar.html",
            view=services().calendar.year(year),
            this_year=now().year,
            form=form,
            errors=errors or {},
            values=request.form,
            sources=SOURCES,
            weekdays=WEEKDAYS,
        ),
        status,
    )


def _saved(result: Recomputed, year: int) -> Response:
    flash(f"日历已保存；重新计算了 {result.cases} 个案件的期限，其中 {result.moved} 个期限变动", "success")
    return redirect(url_for("admin.calendar", year=year))


@bp.get("/calendar")
def calendar() -> Page:
    year = _year(request.args.get("year"), now().year)
    try:
        return _page(year)
    except InvalidData as exc:
        return _page(now().year, "year", {"year": exc.message}, 422)


def _preview(preview: Preview, **context: object) -> str:
    return render_template("admin/calendar_preview.html", preview=preview, weekdays=WEEKDAYS, **context)


@bp.post("/calendar/day")
def calendar_day() -> Page:
    """Without `confirm`: the preview; with it, the entry saved and the deadlines moved."""
    raw, kind, note = (request.form.get(name, "").strip() for name in ("day", "kind", "note"))
    year = _year(raw[:4], now().year)
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return _page(year, "day", {"day": "请填写日期，如 2027-02-20"}, 422)
    if kind not in ("work", "rest"):
        return _page(day.year, "day", {"kind": "请选择上班或休息"}, 422)
    calendar = services().calendar
    try:
        if request.form.get("confirm"):
            return _saved(calendar.set_day(viewer(), day, kind == "work", note), day.year)
        preview = calendar.preview_day(viewer(), day, kind == "work", note)
    except InvalidData as exc:
        return _page(day.year, "day", {"note": exc.message}, 422)
    return _preview(preview, action="day", day=day, kind=kind, note=note, year=day.year)


@bp.post("/calendar/load")
def calendar_load() -> Page:
    """A year's notice: the uploaded file shows the preview, which carries the file's text to confirm."""
    raw = request.form.get("year", "").strip()
    year = _year(raw, 0)
    if not year:
        return _page(now().year, "load", {"year": "请填写四位数的年份"}, 422)
    try:
        text = request.form.get("schedule") if request.form.get("confirm") else _uploaded()
        days = parse_schedule(year, text or "")
        calendar = services().calendar
        if request.form.get("confirm"):
            return _saved(calendar.load_year(viewer(), year, days), year)
        preview = calendar.preview_year(viewer(), year, days)
    except InvalidData as exc:
        return _page(
            year if FIRST_YEAR <= year <= LAST_YEAR else now().year, "load", {"file": exc.message}, 422
        )
    return _preview(preview, action="load", year=year, schedule=text)


def _uploaded() -> str:
    file = request.files.get("file")
    if file is None or not file.filename:
        raise InvalidData("请选择国务院放假通知的日历文件（JSON）")
    content = file.read(MAX_NOTICE_BYTES + 1)
    if len(content) > MAX_NOTICE_BYTES:
        raise InvalidData("日历文件过大（不超过1MB）")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidData("日历文件须为 UTF-8 编码的 JSON 文件") from exc
