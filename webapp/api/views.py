"""JSON endpoints, authenticated by the session cookie.

CSRF tokens are not required here because every state-changing endpoint accepts only a JSON body
(Content-Type: application/json): a cross-site HTML form cannot send one, and a cross-site script
cannot either without a CORS preflight, which this app never grants. Errors are
{"error": message, "errors": {field: message}} with a 4xx status.

Completing a task needs the case's revision the client last read (`revision` of each task in
GET /api/tasks) as `expected_revision`, as the task page's form does: a completion that does not say
which state of the case it was based on is refused (400), and one based on another state is a 409.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import login_required
from werkzeug.wrappers import Response

from orchestration import queries
from orchestration.access import CASE_ROLES, can_view_case
from orchestration.errors import FangtiaoError
from orchestration.models import OpenTask
from orchestration.queries import TaskFilter
from webapp.api import bp
from webapp.cases import summary
from webapp.context import actor, calendar, db, now, runtime, viewer
from webapp.errors import respond

Reply = Response | tuple[Any, int]


def _task_json(task: OpenTask, state: str | None) -> dict[str, Any]:
    return {
        "id": task.id,
        "case_no": task.case.case_no,
        "case_title": task.case.title,
        "task_name": task.task_name,
        "title": task.title,
        "form": task.form_name,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "due_state": state,
        "claimed_by": task.claimed_by,
        "revision": task.case.revision,
    }


@bp.get("/tasks")
@login_required
def tasks() -> Reply:
    v = viewer()
    page = request.args.get("page", "")
    due = request.args.get("due") or None
    if due is not None and due not in queries.DUE_STATES:
        return respond(400, "期限状态只能是 overdue、near 或 normal", {"due": "取值无效"})
    filters = TaskFilter(
        step=request.args.get("step") or None,
        case_no=request.args.get("case_no") or None,
        due=due,
        page=int(page) if page.isdigit() else 1,
    )
    moment = now()
    with db() as session:
        cal = calendar(session)
        result = queries.my_tasks(session, v, filters, moment, cal)
        items = [_task_json(t, queries.due_state(t.due_at, moment, cal)) for t in result.page.items]
    return jsonify(
        {
            "tasks": items,
            "total": result.page.total,
            "page": result.page.page,
            "pages": result.page.pages,
            "counts": dict(result.counts),
        }
    )


@bp.get("/cases/<case_no>")
@login_required
def case(case_no: str) -> Reply:
    v = viewer()
    if v.role not in CASE_ROLES:
        return respond(403, "您无权查看案件")
    with db() as session:
        found = queries.case_by_number(session, case_no)
        if found is None:
            return respond(404, "案件不存在")
        if not can_view_case(session, v, found):
            return respond(403, "您无权查看该案件")
        # Always masked: the API offers no reveal, so it never needs to audit a full view.
        body = summary.as_json(summary.build(session, runtime(), found, v, reveal=False))
    return jsonify(body)


@bp.post("/tasks/<task_id>/complete")
@login_required
def complete(task_id: str) -> Reply:
    if not request.is_json:
        return respond(415, "请以 JSON 格式提交（Content-Type: application/json）")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return respond(400, "请求体应为 JSON 对象")
    data = body.get("data", {})
    if not isinstance(data, dict):
        return respond(400, "data 应为对象", {"data": "应为字段名到取值的映射"})
    expected = body.get("expected_revision")
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        return respond(
            400,
            "expected_revision 必填，应为任务列表中该案件的 revision（非负整数）",
            {"expected_revision": "必填，应为非负整数"},
        )
    with db() as session:
        task = session.get(OpenTask, task_id)
        if task is None:
            return respond(409, "该任务已办理完毕或已不存在，请刷新待办列表")
        case_id = task.case_id
    data = {k: v for k, v in data.items() if k != "csrf_token"}
    try:
        done = runtime().complete_task(case_id, task_id, data, actor(), expected_revision=expected)
    except FangtiaoError as exc:
        return respond(exc.status, exc.message, getattr(exc, "errors", None))
    with db() as session:
        following = queries.open_tasks_of(session, case_id)
        moment = now()
        cal = calendar(session)
        next_tasks = [_task_json(t, queries.due_state(t.due_at, moment, cal)) for t in following]
    return jsonify(
        {"case_no": done.case_no, "status": done.status, "revision": done.revision, "open_tasks": next_tasks}
    )
