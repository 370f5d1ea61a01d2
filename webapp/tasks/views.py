"""待办, 已办, the leader's view of the organisation's tasks, the task page, claiming, and 登记."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from orchestration.domain.access import Viewer
from orchestration.domain.forms import Submission, initial_values
from orchestration.errors import Conflict, FangtiaoError, Forbidden, Gone, InvalidData, ProcedureError
from orchestration.services.documents import REFERRAL_APPROVAL_TASK
from orchestration.services.tasks import UNKNOWN_REVISION, TaskFilter, TaskListView, TaskPage
from webapp.cases import summary as case_summary
from webapp.context import services, viewer
from webapp.documents import render_document
from webapp.forms_ui import field_views, submission
from webapp.security import same_site_path
from webapp.tasks import bp

Page = str | tuple[str, int] | Response
SUBMITTED_TOO_LATE = "该任务已由他人办理完毕，您的提交未被保存。请返回待办查看最新任务。"
DUE_FILTERS = ("overdue", "near", "normal")


def _int_arg(name: str, default: int = 1) -> int:
    raw = request.args.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else default


def _filters() -> TaskFilter:
    due = request.args.get("due") or None
    return TaskFilter(
        step=request.args.get("step") or None,
        case_no=request.args.get("case_no") or None,
        due=due if due in DUE_FILTERS else None,
        page=_int_arg("page"),
    )


# ---- lists --------------------------------------------------------------------------------------


@bp.get("/tasks")
@login_required
def inbox() -> Page:
    v = viewer()
    filters = _filters()
    listing = services().tasks.inbox(v, filters)
    return render_template("tasks/inbox.html", filters=filters, viewer=v, **_listing(listing))


@bp.get("/tasks/team")
@login_required
def team() -> Page:
    filters = _filters()
    listing = services().tasks.team(viewer(), filters)
    return render_template("tasks/team.html", filters=filters, **_listing(listing))


def _listing(listing: TaskListView) -> dict[str, Any]:
    return {
        "result": listing.tasks,
        "states": listing.states,
        "claimers": listing.claimers,
        "candidates": listing.candidates,
        "now": listing.now,
    }


@bp.get("/tasks/done")
@login_required
def done() -> Page:
    tasks = services().tasks
    page = tasks.done(viewer(), _int_arg("page"))
    titles = tasks.step_titles({i.event.task_name for i in page.items if i.event.task_name})
    return render_template("tasks/done.html", page=page, titles=titles)


# ---- one task -----------------------------------------------------------------------------------


def _gone(message: str) -> tuple[str, int]:
    return render_template("tasks/gone.html", message=message), 409


def _render_task(
    page: TaskPage,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Page:
    """The task page; `values` and `errors` after a refused submission keep what the user typed."""
    initial = values if values is not None else initial_values(page.form, page.data, page.options)
    draft = None
    if page.task.task_name == REFERRAL_APPROVAL_TASK and page.can_act:
        draft = render_document(services().documents.referral_draft(viewer(), page.task.id))
    return (
        render_template(
            "tasks/task.html",
            page=page,
            task=page.task,
            case=page.task.case,
            form=page.form,
            field_list=field_views(page.form, initial, errors or {}, page.options),
            summary=case_summary.build(page.summary, page.forms),
            message=message,
            state=page.state,
            now=page.now,
            claimer=page.claimer,
            can_act=page.can_act,
            mine=page.mine,
            documents=page.documents,
            revision=page.revision,
            # one key per drawing of the form: a second POST of the same form is the same completion
            idempotency_key=uuid.uuid4().hex,
            notes=page.form.notes_for(page.data),
            draft=draft,
        ),
        status,
    )


@bp.get("/tasks/<task_id>/draft")
@login_required
def draft(task_id: str) -> Response:
    """The referral letter the leader approves, as it will print, on a page of its own."""
    return Response(
        render_document(services().documents.referral_draft(viewer(), task_id)), mimetype="text/html"
    )


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id: str) -> Page:
    try:
        page = services().tasks.page(viewer(), task_id)
    except Gone as exc:
        return _gone(exc.message)
    return _render_task(page)


def _expected_revision() -> int:
    """The revision the page was drawn at; without a readable one the step is refused as stale."""
    raw = request.form.get("expected_revision", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else UNKNOWN_REVISION


@bp.post("/tasks/<task_id>")
@login_required
def complete(task_id: str) -> Page:
    v = viewer()
    tasks = services().tasks
    sent = submission(request.form, request.files)
    try:
        done = tasks.complete(
            v, task_id, sent, _expected_revision(), idempotency_key=request.form.get("idempotency_key")
        )
    except Gone:
        return _gone(SUBMITTED_TOO_LATE)
    except (InvalidData, Conflict, ProcedureError) as exc:
        return _refused(v, task_id, sent, exc)
    if done.repeated:
        flash(f"{done.case_no}“{done.task_title}”此前的提交已保存；本次重复提交未再办理。", "info")
        return redirect(url_for("tasks.inbox"))
    following = "、".join(t.title for t in done.open_tasks)
    after = f"下一环节：{following}" if following else "流程已无待办环节"
    flash(f"已办理：{done.case_no}“{done.task_title}”。{after}", "success")
    return redirect(url_for("tasks.inbox"))


def _refused(v: Viewer, task_id: str, sent: Submission, exc: FangtiaoError) -> Page:
    """The task page again with what the user typed and why it was not saved."""
    try:
        page = services().tasks.page(v, task_id)
    except Gone:
        return _gone(SUBMITTED_TOO_LATE)
    data, _ = sent.interpret(page.form)
    if isinstance(exc, InvalidData):
        return _render_task(page, data, exc.errors, exc.message, 422)
    if isinstance(exc, Conflict):
        return _render_task(page, data, {}, f"{exc.message}（您填写的内容仍保留在下方）", 409)
    return _render_task(page, data, {}, exc.message, 422)


# ---- claiming -----------------------------------------------------------------------------------


def _back(default: str) -> Response:
    target = request.form.get("back", "")
    return redirect(target if same_site_path(target) else default)


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> Response:
    result = services().tasks.claim(viewer(), task_id)
    flash(f"已认领：{result.case_no}“{result.title}”", "success")
    return _back(url_for("tasks.task", task_id=task_id))


@bp.post("/tasks/<task_id>/release")
@login_required
def release(task_id: str) -> Response:
    result = services().tasks.release(viewer(), task_id)
    flash(f"已释放：{result.case_no}“{result.title}”，同岗位人员均可办理", "success")
    return _back(url_for("tasks.inbox"))


@bp.post("/tasks/<task_id>/reassign")
@login_required
def reassign(task_id: str) -> Response:
    username = request.form.get("username", "").strip()
    if not username:
        flash("请选择改派给谁", "error")
        return _back(url_for("tasks.team"))
    result = services().tasks.reassign(viewer(), task_id, username)
    flash(f"已改派：{result.case_no}“{result.title}”→ {result.claimed_by_name}", "success")
    return _back(url_for("tasks.team"))


# ---- 登记 ---------------------------------------------------------------------------------------


def _render_register(
    values: dict[str, Any] | None, errors: dict[str, str], message: str | None, status: int
) -> Page:
    page = services().cases.registration_form(viewer())
    shown = values if values is not None else dict(page.values)
    views = field_views(page.form, shown, errors, page.options)
    return render_template("tasks/register.html", form=page.form, field_list=views, message=message), status


@bp.get("/register")
@login_required
def register() -> Page:
    return _render_register(None, {}, None, 200)


@bp.post("/register")
@login_required
def register_submit() -> Page:
    cases = services().cases
    form = cases.registration_form(viewer()).form
    data, _ = submission(request.form).interpret(form)
    try:
        case = cases.register(viewer(), data)
    except InvalidData as exc:
        return _render_register(data, exc.errors, exc.message, 422)
    except Forbidden:
        abort(403)
    except FangtiaoError as exc:
        return _render_register(data, {}, exc.message, exc.status)
    flash(f"已登记，案件编号 {case.case_no}。请在待办中继续甄别适用范围。", "success")
    return redirect(url_for("tasks.inbox"))
