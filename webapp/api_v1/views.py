"""The routes of /api/v1: each parses the request, calls one service and dumps the answer through its
schema. Every state-changing POST needs an Idempotency-Key (see `idempotent`)."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flask import Response, current_app, g, jsonify, render_template, request
from marshmallow import Schema, ValidationError

from orchestration.errors import FangtiaoError
from orchestration.services.api_tokens import Committed, StoredResponse
from orchestration.services.tasks import TaskFilter, Upload
from webapp.api_v1 import bp, caller, schemas, spec
from webapp.api_v1.spec import Operation
from webapp.cases import summary
from webapp.context import services
from webapp.errors import v1_code, v1_error

Reply = Response | tuple[Any, int]
View = Callable[..., Reply]

DUE_FILTERS = ("overdue", "near", "normal")
CASE_STATUSES = ("running", "suspended", "completed")
MAX_QUERY_TEXT = 200
PAGE_QUERY = {
    "name": "page",
    "required": False,
    "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1},
}


class BadRequest(Exception):
    """A request the API cannot read (400), as opposed to one it reads and refuses (422)."""

    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@bp.errorhandler(BadRequest)
def bad_request(exc: BadRequest) -> Reply:
    return v1_error(400, exc.message, exc.code)


def operation(method: str, rule: str, **described: Any) -> Callable[[View], View]:
    """Serves the view at the rule and describes it in the OpenAPI document."""

    def register(view: View) -> View:
        op = Operation(method=method, rule=rule, operation_id=view.__name__, **described)
        spec.OPERATIONS.append(op)
        if op.idempotent_key:
            view = idempotent(view, op)
        bp.add_url_rule(rule, view.__name__, view, methods=[method.upper()])
        return view

    return register


# ---- reading a request ---------------------------------------------------------------------------


def body(schema: type[Schema]) -> dict[str, Any]:
    if not request.is_json:
        raise BadRequest("请以 JSON 格式提交（Content-Type: application/json）", "unsupported_media_type")
    # The input guard has refused a body that does not parse, nests too deep or holds unusable text.
    value = request.get_json(silent=True)
    if value is None:
        raise BadRequest("请求体不是有效的 JSON", "invalid_json")
    try:
        loaded: dict[str, Any] = schema().load(value)
    except ValidationError as exc:
        messages = exc.normalized_messages()
        problems = messages if isinstance(messages, dict) else {"_schema": messages}
        raise FieldErrors({str(k): _first(v) for k, v in problems.items()}) from exc
    return loaded


class FieldErrors(Exception):
    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("请求体未通过校验")
        self.fields = fields


@bp.errorhandler(FieldErrors)
def field_errors(exc: FieldErrors) -> Reply:
    return v1_error(422, "请求体未通过校验，请按 fields 修改", "invalid_body", exc.fields)


def _first(messages: Any) -> str:
    while isinstance(messages, list | dict):
        if not messages:
            return "取值无效"
        messages = messages[0] if isinstance(messages, list) else next(iter(messages.values()))
    return str(messages)


def query_text(name: str) -> str | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if "\x00" in value or len(value) > MAX_QUERY_TEXT:
        raise BadRequest(f"参数 {name} 含空字符或过长", "invalid_parameter")
    return value


def query_page() -> int:
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit() and 1 <= len(raw) <= 6 and 1 <= int(raw) <= 100000):
        raise BadRequest("参数 page 应为 1 至 100000 的整数", "invalid_parameter")
    return int(raw)


def query_choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise BadRequest(f"参数 {name} 只能是 {'、'.join(allowed)}", "invalid_parameter")
    return value


def dump(schema: type[Schema], value: Any, status: int = 200) -> Reply:
    return jsonify(schema().dump(value)), status


# ---- Idempotency-Key ----------------------------------------------------------------------------


def idempotent(view: View, op: Operation) -> View:
    """Same key and same request again: the stored answer (marked Idempotent-Replayed); same key with
    another request: 422. A server error stores nothing, so the key may be retried — unless the call's
    step committed (the step marks the reservation in its own transaction): then the retry is answered
    with the step as done, never run again."""

    @functools.wraps(view)
    def wrapped(**kwargs: Any) -> Reply:
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            raise BadRequest("改变状态的请求须带 Idempotency-Key 请求头", "idempotency_key_required")
        if len(key) > 255 or not all("!" <= c <= "~" for c in key):
            raise BadRequest("Idempotency-Key 应为 1 至 255 个可见 ASCII 字符", "invalid_idempotency_key")
        token = caller().token_id
        fingerprint = hashlib.sha256(
            b"\n".join([request.method.encode(), request.path.encode(), request.get_data()])
        ).hexdigest()
        reserved = services().api_tokens.reserve(token, key, fingerprint)
        if isinstance(reserved, Committed):
            answer = current_app.make_response(dump(schemas.StepAnswer, reserved.step, op.status))
            services().api_tokens.finish(token, key, answer.status_code, answer.get_data(as_text=True))
            reserved = StoredResponse(answer.status_code, answer.get_data(as_text=True))
        if isinstance(reserved, StoredResponse):
            replay = Response(reserved.body, status=reserved.status, mimetype="application/json")
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        g.idempotent_request = reserved.request_id
        try:
            response = current_app.make_response(_answer(view, kwargs))
        except BaseException:
            services().api_tokens.release(token, key)
            raise
        if response.status_code >= 500:
            services().api_tokens.release(token, key)
        else:
            services().api_tokens.finish(token, key, response.status_code, response.get_data(as_text=True))
        return response

    return wrapped


def idempotent_request() -> int | None:
    """The reservation of the call being answered, for the step to mark in its own transaction."""
    value: int | None = g.get("idempotent_request")
    return value


def _answer(view: View, kwargs: dict[str, Any]) -> Reply:
    """The view's answer, its refusals included (they are answers to store and replay too)."""
    try:
        return view(**kwargs)
    except BadRequest as exc:
        return v1_error(400, exc.message, exc.code)
    except FieldErrors as exc:
        return field_errors(exc)
    except FangtiaoError as exc:
        fields = getattr(exc, "errors", None)
        return v1_error(exc.status, exc.message, v1_code(exc), fields if isinstance(fields, dict) else None)


# ---- the document ---------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Reply:
    return jsonify(spec.build())


@bp.get("/docs")
def docs() -> str:
    return render_template("api_v1/docs.html", document=spec.build())


# ---- tasks ------------------------------------------------------------------------------------------

WRITE = {"idempotent_key": True}


@operation(
    "get",
    "/tasks",
    summary="我的待办",
    tag="任务",
    roles="各办理角色",
    answer=schemas.TaskList,
    query=(
        PAGE_QUERY,
        {"name": "step", "required": False, "schema": {"type": "string", "maxLength": MAX_QUERY_TEXT}},
        {"name": "case_no", "required": False, "schema": {"type": "string", "maxLength": MAX_QUERY_TEXT}},
        {"name": "due", "required": False, "schema": {"type": "string", "enum": list(DUE_FILTERS)}},
    ),
)
def list_tasks() -> Reply:
    filters = TaskFilter(
        step=query_text("step"),
        case_no=query_text("case_no"),
        due=query_choice("due", DUE_FILTERS),
        page=query_page(),
    )
    listing = services().tasks.inbox(caller().viewer, filters)
    page = listing.tasks.page
    items = [
        {
            "id": t.id,
            "case_no": t.case.case_no,
            "case_title": t.case.title,
            "task_name": t.task_name,
            "title": t.title,
            "form": t.form_name,
            "due_at": t.due_at,
            "due_state": listing.states[t.id],
            "claimed_by": t.claimed_by,
            "revision": t.case.revision,
        }
        for t in page.items
    ]
    return dump(
        schemas.TaskList, {"tasks": items, "total": page.total, "page": page.page, "pages": page.pages}
    )


@operation(
    "post",
    "/tasks/<task_id>/claim",
    summary="认领任务",
    tag="任务",
    roles="任务所属机构与角色的办理人",
    answer=schemas.ClaimAnswer,
    **WRITE,
)
def claim_task(task_id: str) -> Reply:
    return dump(schemas.ClaimAnswer, services().tasks.claim(caller().viewer, task_id))


@operation(
    "post",
    "/tasks/<task_id>/release",
    summary="释放已认领的任务",
    tag="任务",
    roles="认领人",
    answer=schemas.ClaimAnswer,
    **WRITE,
)
def release_task(task_id: str) -> Reply:
    return dump(schemas.ClaimAnswer, services().tasks.release(caller().viewer, task_id))


@operation(
    "post",
    "/tasks/<task_id>/complete",
    summary="办理（提交）任务",
    tag="任务",
    roles="任务所属机构与角色的办理人（已被他人认领的任务除外）",
    body=schemas.CompleteRequest,
    answer=schemas.StepAnswer,
    notes="文件字段的文件以 Base64 放在 files 中一并提交。",
    **WRITE,
)
def complete_task(task_id: str) -> Reply:
    sent = body(schemas.CompleteRequest)
    files: dict[str, list[Upload]] = {}
    for name, chosen in sent["files"].items():
        try:
            files[name] = [
                Upload(f["filename"], f["content_type"], base64.b64decode(f["content_base64"], validate=True))
                for f in chosen
            ]
        except (binascii.Error, ValueError) as exc:
            raise FieldErrors({f"files.{name}": "content_base64 不是有效的 Base64"}) from exc
    done = services().tasks.complete(
        caller().viewer,
        task_id,
        sent["data"],
        sent["expected_revision"],
        files or None,
        idempotent_request=idempotent_request(),
    )
    return dump(schemas.StepAnswer, done)


# ---- cases --------------------------------------------------------------------------------------------


@operation(
    "post",
    "/cases",
    summary="登记信访事项（新建案件）",
    tag="案件",
    roles="信访部门经办人",
    body=schemas.RegisterRequest,
    answer=schemas.StepAnswer,
    status=201,
    **WRITE,
)
def register_case() -> Reply:
    sent = body(schemas.RegisterRequest)
    registered = services().cases.register(caller().viewer, sent["data"], idempotent_request())
    return dump(schemas.StepAnswer, registered, 201)


@operation(
    "get",
    "/cases/<case_no>",
    summary="案件概要（个人信息已脱敏）",
    tag="案件",
    roles="可查看该案件的角色",
    answer=schemas.CaseAnswer,
)
def read_case(case_no: str) -> Reply:
    found = services().cases.summary(caller().viewer, case_no)
    return dump(schemas.CaseAnswer, summary.as_json(summary.build(found, services().forms)))


@operation(
    "get",
    "/cases/<case_no>/files",
    summary="案件的文书与附件列表",
    tag="案件",
    roles="可查看该案件的角色",
    answer=schemas.CaseFilesAnswer,
)
def case_files(case_no: str) -> Reply:
    return dump(schemas.CaseFilesAnswer, services().cases.files(caller().viewer, case_no))


@operation(
    "get",
    "/documents/<int:document_id>",
    summary="一份文书（个人信息已脱敏）",
    tag="案件",
    roles="可查看该案件的角色",
    answer=schemas.DocumentAnswer,
)
def read_document(document_id: int) -> Reply:
    view = services().documents.document(caller().viewer, _id(document_id))
    row = view.document
    return dump(
        schemas.DocumentAnswer,
        {
            "id": row.id,
            "kind": row.kind,
            "title": row.title,
            "number": row.number,
            "created_at": row.created_at,
            "content": row.content,
            "intact": view.intact,
            "supersedes": view.supersedes,
            "superseded_by": view.superseded_by,
        },
    )


@operation(
    "get",
    "/attachments/<int:attachment_id>",
    summary="下载附件（记入审计日志）",
    tag="案件",
    roles="承办该案件的机构",
    binary=True,
)
def download_attachment(attachment_id: int) -> Reply:
    file = services().cases.attachment(caller().viewer, _id(attachment_id))
    response = Response(file.content, mimetype="application/octet-stream")
    # The name percent-encoded (RFC 5987): a CR, LF or quote in an uploaded name cannot break the header.
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"attachment-{attachment_id}\"; filename*=UTF-8''{quote(file.filename)}"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _id(value: int) -> int:
    if not 1 <= value <= schemas.MAX_INT:
        raise FangtiaoNotFound()
    return value


class FangtiaoNotFound(FangtiaoError):
    status = 404
    code = "not_found"

    def __init__(self) -> None:
        super().__init__("对象不存在")


# ---- administrators ---------------------------------------------------------------------------------


@operation(
    "get",
    "/admin/instances",
    summary="流程实例（案件）列表",
    tag="系统管理",
    roles="系统管理员",
    answer=schemas.InstanceList,
    query=(
        PAGE_QUERY,
        {"name": "status", "required": False, "schema": {"type": "string", "enum": list(CASE_STATUSES)}},
        {"name": "q", "required": False, "schema": {"type": "string", "maxLength": MAX_QUERY_TEXT}},
    ),
)
def list_instances() -> Reply:
    page = services().admin.instances(
        caller().viewer, query_text("q"), query_choice("status", CASE_STATUSES), query_page()
    )
    return dump(
        schemas.InstanceList,
        {"instances": page.items, "total": page.total, "page": page.page, "pages": page.pages},
    )


def _set_suspended(case_no: str, suspended: bool) -> Reply:
    services().admin.set_suspended(caller().viewer, case_no, suspended)
    status = "suspended" if suspended else "running"
    return dump(schemas.SuspendAnswer, {"case_no": case_no.strip().upper(), "status": status})


@operation(
    "post",
    "/admin/instances/<case_no>/suspend",
    summary="暂停案件（其计时器暂停触发）",
    tag="系统管理",
    roles="系统管理员",
    answer=schemas.SuspendAnswer,
    **WRITE,
)
def suspend_instance(case_no: str) -> Reply:
    return _set_suspended(case_no, True)


@operation(
    "post",
    "/admin/instances/<case_no>/resume",
    summary="恢复已暂停的案件",
    tag="系统管理",
    roles="系统管理员",
    answer=schemas.SuspendAnswer,
    **WRITE,
)
def resume_instance(case_no: str) -> Reply:
    return _set_suspended(case_no, False)


# ---- the procedure ------------------------------------------------------------------------------------


@operation(
    "get",
    "/procedure/drafts",
    summary="流程草稿列表",
    tag="流程",
    roles="流程管理员、系统管理员",
    answer=schemas.DraftList,
)
def list_drafts() -> Reply:
    drafts = services().repository.drafts(caller().viewer)
    return dump(
        schemas.DraftList,
        {
            "drafts": [
                {
                    "id": d.id,
                    "process_id": d.process_id,
                    "owner": d.owner,
                    "based_on_number": d.based_on_number,
                    "revision": d.revision,
                    "updated_at": d.updated_at,
                }
                for d in drafts
            ]
        },
    )


@operation(
    "post",
    "/procedure/drafts/<int:draft_id>/deploy",
    summary="部署草稿为新版本（检查未通过则 422）",
    tag="流程",
    roles="流程管理员",
    answer=schemas.VersionAnswer,
    status=201,
    **WRITE,
)
def deploy_draft(draft_id: int) -> Reply:
    return dump(schemas.VersionAnswer, services().repository.deploy(caller().viewer, _id(draft_id)), 201)
