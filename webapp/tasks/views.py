"""待办, 已办, the leader's view of the organisation's tasks, the task page, claiming, and 登记."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from handlers.calendar import SHANGHAI
from orchestration import queries, task_claims
from orchestration.access import LEADER_ROLES, can_act_on, may_register, registration_localities
from orchestration.errors import Conflict, FangtiaoError, Forbidden, InvalidData, ProcedureError
from orchestration.models import OpenTask
from orchestration.queries import TaskFilter
from orchestration.runtime import START_FORM
from webapp.cases import summary as case_summary
from webapp.context import actor, calendar, db, now, runtime, viewer
from webapp.forms_ui import collect, field_views, initial_values
from webapp.tasks import bp

Page = str | tuple[str, int] | Response
SUBMITTED_TOO_LATE = "该任务已由他人办理完毕，您的提交未被保存。请返回待办查看最新任务。"
NO_REVISION = (
    "页面缺少有效的案件版本号，无法确认案件在您填写期间未被他人更新，本次提交未保存。"
    "请核对案件最新情况后重新提交（您填写的内容仍保留在下方）"
)
# A revision is a small counter: a longer digit string is not one (and int() refuses past 4300 digits).
MAX_REVISION_DIGITS = 10


def _int_arg(name: str, default: int = 1) -> int:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() else default


def _filters() -> TaskFilter:
    due = request.args.get("due") or None
    return TaskFilter(
        step=request.args.get("step") or None,
        case_no=request.args.get("case_no") or None,
        due=due if due in queries.DUE_STATES else None,
        page=_int_arg("page"),
    )


# ---- lists --------------------------------------------------------------------------------------


@bp.get("/tasks")
@login_required
def inbox() -> Page:
    v = viewer()
    filters = _filters()
    moment = now()
    with db() as session:
        cal = calendar(session)
        result = queries.my_tasks(session, v, filters, moment, cal)
        states = {t.id: queries.due_state(t.due_at, moment, cal) for t in result.page.items}
        claimers = queries.user_names(session, ids={t.claimed_by for t in result.page.items if t.claimed_by})
    return render_template(
        "tasks/inbox.html",
        result=result,
        filters=filters,
        states=states,
        claimers=claimers,
        now=moment,
        viewer=v,
    )


@bp.get("/tasks/team")
@login_required
def team() -> Page:
    v = viewer()
    if v.role not in LEADER_ROLES:
        abort(403)
    filters = _filters()
    moment = now()
    with db() as session:
        cal = calendar(session)
        result = queries.team_tasks(session, v, filters, moment, cal)
        states = {t.id: queries.due_state(t.due_at, moment, cal) for t in result.page.items}
        claimers = queries.user_names(session, ids={t.claimed_by for t in result.page.items if t.claimed_by})
        candidates = {t.id: queries.claimable_users(session, t) for t in result.page.items}
    return render_template(
        "tasks/team.html",
        result=result,
        filters=filters,
        states=states,
        claimers=claimers,
        candidates=candidates,
        now=moment,
    )


@bp.get("/tasks/done")
@login_required
def done() -> Page:
    v = viewer()
    with db() as session:
        page = queries.done_tasks(session, v, _int_arg("page"))
    # A user task is named after its form, so the form's title names the step (登记 is "register").
    titles = {
        item.event.task_name: _form_title(item.event.task_name) for item in page.items if item.event.task_name
    }
    return render_template("tasks/done.html", page=page, titles=titles)


def _form_title(name: str) -> str:
    forms = runtime().forms
    return forms.get(name).title if name in forms else name


# ---- one task -----------------------------------------------------------------------------------


def _gone(message: str = task_claims.GONE) -> tuple[str, int]:
    return render_template("tasks/gone.html", message=message), 409


def _render_task(
    task_id: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Page:
    """The task page; `values` and `errors` after a refused submission keep what the user typed."""
    v = viewer()
    rt = runtime()
    moment = now()
    with db() as session:
        task = session.get(OpenTask, task_id)
        if task is None:
            return _gone()
        if v.role != task.role or v.org_id != task.org_id:
            abort(403)
        case = task.case
        form = rt.forms.get(task.form_name or "")
        options = rt.options(session)
        data = rt.case_data(session, case)
        summary = case_summary.build(session, rt, case, v, raw=data)
        initial = values if values is not None else initial_values(form, data, options)
        views = field_views(form, initial, errors or {}, options)
        cal = calendar(session)
        state = queries.due_state(task.due_at, moment, cal)
        claimer = (
            queries.user_names(session, ids={task.claimed_by}).get(task.claimed_by)
            if task.claimed_by
            else None
        )
        documents = case_summary.documents_of(session, case.id)
    return (
        render_template(
            "tasks/task.html",
            task=task,
            case=case,
            form=form,
            field_list=views,
            summary=summary,
            state=state,
            now=moment,
            claimer=claimer,
            can_act=can_act_on(v, task),
            mine=task.claimed_by == v.user_id,
            message=message,
            documents=documents,
            revision=case.revision,
        ),
        status,
    )


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id: str) -> Page:
    return _render_task(task_id)


@bp.post("/tasks/<task_id>")
@login_required
def complete(task_id: str) -> Page:
    rt = runtime()
    with db() as session:
        task = session.get(OpenTask, task_id)
        if task is None:
            return _gone(SUBMITTED_TOO_LATE)
        case_id, case_no, title = task.case_id, task.case.case_no, task.title
        form = rt.forms.get(task.form_name or "")
    data, uploads = collect(form, request.form, request.files)
    expected = _expected_revision()
    if expected is None:
        # The task page always sends the revision it showed; completing without checking it could
        # act on a case that changed meanwhile, so the page is shown again at the current revision.
        return _render_task(task_id, data, {}, NO_REVISION, 422)
    try:
        rt.complete_task(case_id, task_id, data, actor(), expected_revision=expected, files=uploads)
    except InvalidData as exc:
        return _render_task(task_id, data, exc.errors, exc.message, 422)
    except Conflict as exc:
        with db() as session:
            still_open = session.get(OpenTask, task_id) is not None
        if not still_open:
            return _gone(SUBMITTED_TOO_LATE)
        return _render_task(task_id, data, {}, f"{exc.message}（您填写的内容仍保留在下方）", 409)
    except ProcedureError as exc:
        return _render_task(task_id, data, {}, exc.message, 422)
    with db() as session:
        following = [t.title for t in queries.open_tasks_of(session, case_id)]
    after = f"下一环节：{'、'.join(following)}" if following else "流程已无待办环节"
    flash(f"已办理：{case_no}“{title}”。{after}", "success")
    return redirect(url_for("tasks.inbox"))


def _expected_revision() -> int | None:
    raw = request.form.get("expected_revision", "")
    # str.isdigit() also holds for "²" and full-width digits: only ASCII digits make a revision.
    if raw.isascii() and raw.isdigit() and len(raw) <= MAX_REVISION_DIGITS:
        return int(raw)
    return None


# ---- claiming -----------------------------------------------------------------------------------


def _back(default: str) -> Response:
    target = request.form.get("back", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else default)


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> Response:
    result = task_claims.claim(runtime(), task_id, actor())
    flash(f"已认领：{result.case_no}“{result.title}”", "success")
    return _back(url_for("tasks.task", task_id=task_id))


@bp.post("/tasks/<task_id>/release")
@login_required
def release(task_id: str) -> Response:
    result = task_claims.release(runtime(), task_id, actor())
    flash(f"已释放：{result.case_no}“{result.title}”，同岗位人员均可办理", "success")
    return _back(url_for("tasks.inbox"))


@bp.post("/tasks/<task_id>/reassign")
@login_required
def reassign(task_id: str) -> Response:
    username = request.form.get("username", "").strip()
    if not username:
        flash("请选择改派给谁", "error")
        return _back(url_for("tasks.team"))
    result = task_claims.reassign(runtime(), task_id, actor(), username)
    flash(f"已改派：{result.case_no}“{result.title}”→ {result.claimed_by_name}", "success")
    return _back(url_for("tasks.team"))


# ---- 登记 ---------------------------------------------------------------------------------------


def _render_register(
    values: dict[str, Any], errors: dict[str, str], message: str | None, status: int
) -> Page:
    v = viewer()
    rt = runtime()
    form = rt.forms.get(START_FORM)
    with db() as session:
        allowed = registration_localities(session, v)
        base = rt.options(session)

        def options(name: str) -> list[tuple[str, str]]:
            # A clerk registers petitions for the townships of their own office's region.
            listed = list(base(name))
            return [o for o in listed if o[0] in allowed] if name == "townships" else listed

        if not values and v.region_code in allowed:
            values = {**initial_values(form, {}, options), "locality": v.region_code}
        elif not values:
            values = initial_values(form, {}, options)
        if "received_on" not in values:
            values["received_on"] = now().astimezone(SHANGHAI).date().isoformat()
        views = field_views(form, values, errors, options)
    return render_template("tasks/register.html", form=form, field_list=views, message=message), status


@bp.get("/register")
@login_required
def register() -> Page:
    if not may_register(viewer()):
        abort(403)
    return _render_register({}, {}, None, 200)


@bp.post("/register")
@login_required
def register_submit() -> Page:
    v = viewer()
    if not may_register(v):
        abort(403)
    form = runtime().forms.get(START_FORM)
    data, _ = collect(form, request.form)
    with db() as session:
        allowed = registration_localities(session, v)
    if data.get("locality") and data["locality"] not in allowed:
        return _render_register(
            data, {"locality": "请选择本单位辖区内的乡镇（街道）"}, "提交的内容有误，请按提示修改", 422
        )
    try:
        case = runtime().start_case(data, actor())
    except InvalidData as exc:
        return _render_register(data, exc.errors, exc.message, 422)
    except Forbidden:
        abort(403)
    except FangtiaoError as exc:
        return _render_register(data, {}, exc.message, exc.status)
    flash(f"已登记，案件编号 {case.case_no}。请在待办中继续甄别适用范围。", "success")
    return redirect(url_for("tasks.inbox"))
