"""案件实例: every case with its counts per status, filtered, sorted and paged from where the page ended;
a case's engine view (diagram, tasks, timers, incidents, audit log); and the repairs, each with a reason.
A refused repair is told on the case's page with its Chinese reason; nothing of it is stored."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from orchestration.errors import Conflict, FangtiaoError, Forbidden, InvalidData, NotFound
from orchestration.services.admin_instances import STATUSES, InstanceDetail, InstanceFilter
from webapp.admin import bp
from webapp.admin.audit import ACTION_NAMES
from webapp.context import services, viewer

Page = str | tuple[str, int] | Response
REFUSALS = (InvalidData, Forbidden, Conflict, NotFound)
STATUS_NAMES = {
    "running": "办理中",
    "timer": "等待定时器",
    "suspended": "已暂停",
    "incident": "有故障事件",
    "completed": "已办结",
    "terminated": "已终止",
}
SORT_NAMES = {"updated_at": "最近更新", "created_at": "登记时间", "case_no": "案件编号"}
BULK_NAMES = {"suspend": "暂停", "resume": "恢复", "retry": "重试故障事件"}
# the query-string keys of the list's filters, kept across paging, sorting and bulk actions
FILTER_KEYS = ("version", "status", "org", "step", "overdue", "since", "until", "case_no", "sort", "order")


def _date(raw: str, errors: dict[str, str], name: str) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors[name] = "日期格式应为 2026-11-02"
        return None


def _filters(args: dict[str, str]) -> tuple[InstanceFilter, dict[str, str]]:
    errors: dict[str, str] = {}
    process_id, version = None, None
    raw_version = args.get("version", "")
    if raw_version:
        process_id, _, number = raw_version.partition(":")
        if number.isdigit() and len(number) < 6:
            version = int(number)
        elif number:
            errors["version"] = "请选择列表中的版本"
    status = args.get("status") or None
    if status is not None and status not in STATUSES:
        errors["status"] = "请选择列表中的状态"
        status = None
    sort = args.get("sort") or "updated_at"
    if sort not in SORT_NAMES:
        sort = "updated_at"
    filters = InstanceFilter(
        process_id=process_id or None,
        version=version,
        status=status,
        org=args.get("org") or None,
        step=args.get("step") or None,
        overdue=args.get("overdue") == "1",
        since=_date(args.get("since", ""), errors, "since"),
        until=_date(args.get("until", ""), errors, "until"),
        case_no=args.get("case_no") or None,
        sort=sort,
        descending=args.get("order", "desc") != "asc",
        after=args.get("after") or None,
    )
    return filters, errors


def _kept(args: dict[str, str]) -> dict[str, str]:
    return {key: args[key] for key in FILTER_KEYS if args.get(key)}


@bp.get("/instances")
def instances() -> Page:
    args = dict(request.args.items())
    filters, errors = _filters(args)
    page = services().instances.search(viewer(), filters)
    return render_template(
        "admin/instances.html",
        page=page,
        args=args,
        kept=_kept(args),
        errors=errors,
        choices=services().instances.choices(viewer()),
        status_names=STATUS_NAMES,
        sort_names=SORT_NAMES,
        bulk_names=BULK_NAMES,
    ), (422 if errors else 200)


@bp.post("/instances/bulk")
def instances_bulk() -> Page:
    args = {key: request.form.get(key, "") for key in FILTER_KEYS}
    filters, errors = _filters(args)
    action = request.form.get("action", "")
    back = url_for("admin.instances", **_kept(args))  # type: ignore[arg-type]
    if errors:
        flash("筛选条件有误，未执行批量操作", "error")
        return redirect(back)
    try:
        outcomes = services().instances.bulk(viewer(), action, filters, request.form.get("reason", ""))
    except REFUSALS as exc:
        flash(exc.message, "error")
        return redirect(back)
    done = [o.case_no for o in outcomes if o.ok]
    name = BULK_NAMES.get(action, action)
    flash(f"批量{name}：{len(done)} 件完成，{len(outcomes) - len(done)} 件未执行", "success")
    for outcome in outcomes:
        if not outcome.ok:
            flash(f"{outcome.case_no}：{outcome.message}", "error")
    return redirect(back)


def _marks(detail: InstanceDetail) -> dict[str, list[str]]:
    """The steps' states for the shared bpmn-js viewer (templates/_diagram_viewer.html)."""
    return {"current": sorted(detail.open_steps), "done": sorted(detail.passed_steps), "overdue": []}


def _page(case_no: str, refusal: FangtiaoError | None = None) -> Page:
    detail = services().instances.detail(viewer(), case_no)
    page = render_template(
        "admin/instance.html",
        d=detail,
        case=detail.case,
        marks=_marks(detail),
        status_names=STATUS_NAMES,
        action_names=ACTION_NAMES,
        refusal=refusal.message if refusal is not None else None,
    )
    return (page, refusal.status) if refusal is not None else page


@bp.get("/instances/<case_no>/diagram.bpmn")
def instance_diagram(case_no: str) -> Response:
    """The BPMN XML of the version the case runs on, for the viewer of the instance page."""
    xml, _process_id = services().instances.detail(viewer(), case_no).diagram
    return Response(xml, mimetype="application/xml")


@bp.get("/instances/<case_no>")
def instance(case_no: str) -> Page:
    return _page(case_no)


def _done(case_no: str, message: str) -> Response:
    flash(message, "success")
    return redirect(url_for("admin.instance", case_no=case_no))


def _refused(case_no: str, exc: FangtiaoError) -> Page:
    """The case's page again, with the reason nothing was done and the refusal's status."""
    return _page(case_no, exc)


def _reason() -> str:
    return request.form.get("reason", "")


@bp.post("/instances/<case_no>/suspend")
def instance_suspend(case_no: str) -> Page:
    try:
        services().instances.suspend(viewer(), case_no, _reason())
    except REFUSALS as exc:
        return _refused(case_no, exc)
    return _done(case_no, "案件已暂停：其定时器在恢复前不会触发")


@bp.post("/instances/<case_no>/resume")
def instance_resume(case_no: str) -> Page:
    try:
        services().instances.resume(viewer(), case_no, _reason())
    except REFUSALS as exc:
        return _refused(case_no, exc)
    return _done(case_no, "案件已恢复：暂停期间已到期的定时器将立即触发")


@bp.post("/instances/<case_no>/terminate")
def instance_terminate(case_no: str) -> Page:
    try:
        services().instances.terminate(viewer(), case_no, _reason())
    except REFUSALS as exc:
        return _refused(case_no, exc)
    return _done(case_no, "案件已终止")


@bp.post("/instances/<case_no>/retry")
def instance_retry(case_no: str) -> Page:
    raw = request.form.get("incident", "")
    incident = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    try:
        retried = services().instances.retry(viewer(), case_no, _reason(), incident)
    except REFUSALS as exc:
        return _refused(case_no, exc)
    return _done(case_no, f"已重试 {len(retried)} 个故障事件")


@bp.post("/instances/<case_no>/fire-timer")
def instance_fire_timer(case_no: str) -> Page:
    try:
        services().instances.fire_timer(viewer(), case_no, request.form.get("timer", ""), _reason())
    except REFUSALS as exc:
        return _refused(case_no, exc)
    return _done(case_no, "定时器已触发")


@bp.post("/instances/<case_no>/reset")
def instance_reset(case_no: str) -> Page:
    try:
        withdrawn = services().instances.reset(viewer(), case_no, request.form.get("task", ""), _reason())
    except REFUSALS as exc:
        return _refused(case_no, exc)
    note = f"；已撤回其后出具的文书：{'、'.join(withdrawn)}" if withdrawn else ""
    return _done(case_no, "案件已退回到所选环节" + note)


@bp.post("/instances/<case_no>/reassign")
def instance_reassign(case_no: str) -> Page:
    username = request.form.get("username", "").strip() or None
    try:
        services().instances.reassign(viewer(), case_no, request.form.get("task", ""), username, _reason())
    except REFUSALS as exc:
        return _refused(case_no, exc)
    return _done(case_no, "任务已改派" if username else "任务已退回待认领")


@bp.post("/instances/<case_no>/migrate")
def instance_migrate(case_no: str) -> Page:
    raw = request.form.get("version", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        return _refused(case_no, InvalidData("请选择目标版本"))
    try:
        moved = services().instances.migrate(viewer(), case_no, int(raw), _reason())
    except REFUSALS as exc:
        return _refused(case_no, exc)
    return _done(case_no, "案件已迁移" + (f"，{len(moved)} 个期限随之变化" if moved else ""))
