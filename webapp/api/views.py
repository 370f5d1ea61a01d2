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

from orchestration.services.tasks import TaskFilter
from webapp.api import bp
from webapp.cases import summary
from webapp.context import services, viewer
from webapp.errors import respond

Reply = Response | tuple[Any, int]
DUE_FILTERS = ("overdue", "near", "normal")


@bp.get("/tasks")
@login_required
def tasks() -> Reply:
    page = request.args.get("page", "")
    due = request.args.get("due") or None
    if due is not None and due not in DUE_FILTERS:
        return respond(400, "期限状态只能是 overdue、near 或 normal", {"due": "取值无效"})
    filters = TaskFilter(
        step=request.args.get("step") or None,
        case_no=request.args.get("case_no") or None,
        due=due,
        page=int(page) if page.isascii() and page.isdigit() and len(page) < 10 else 1,
    )
    listing = services().tasks.inbox(viewer(), filters)
    items = [
        {
            "id": t.id,
            "case_no": t.case.case_no,
            "case_title": t.case.title,
            "task_name": t.task_name,
            "title": t.title,
            "form": t.form_name,
            "due_at": t.due_at.isoformat() if t.due_at else None,
            "due_state": listing.states[t.id],
            "claimed_by": t.claimed_by,
            "revision": t.case.revision,
        }
        for t in listing.tasks.page.items
    ]
    page_info = listing.tasks.page
    return jsonify(
        {
            "tasks": items,
            "total": page_info.total,
            "page": page_info.page,
            "pages": page_info.pages,
            "counts": dict(listing.tasks.counts),
        }
    )


@bp.get("/cases/<case_no>")
@login_required
def case(case_no: str) -> Reply:
    # Always masked: the API offers no reveal, so it never needs to audit a full view.
    found = services().cases.summary(viewer(), case_no)
    return jsonify(summary.as_json(summary.build(found, services().forms)))


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
    data = {k: v for k, v in data.items() if k != "csrf_token"}
    done = services().tasks.complete(viewer(), task_id, data, expected)
    return jsonify(
        {
            "case_no": done.case_no,
            "status": done.status,
            "revision": done.revision,
            "open_tasks": [
                {
                    "id": t.id,
                    "task_name": t.task_name,
                    "title": t.title,
                    "due_at": t.due_at.isoformat() if t.due_at else None,
                }
                for t in done.open_tasks
            ],
        }
    )
