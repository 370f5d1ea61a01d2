"""Error pages in Chinese, and JSON errors for the API: {"error": message, "errors": {field: message}};
under /api/v1 {"error": {"code": stable_code, "message": 中文, "fields": {field: message}}}."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from orchestration.errors import (
    Conflict,
    FangtiaoError,
    Forbidden,
    Gone,
    InvalidData,
    NotFound,
    ProcedureError,
)
from orchestration.services.health import database_outage

MESSAGES = {
    400: "请求有误",
    401: "请先登录",
    403: "您无权访问该页面",
    404: "页面不存在",
    405: "不支持该操作",
    409: "操作冲突，请刷新后重试",
    413: "上传的文件过大",
    415: "请以 JSON 格式提交",
    422: "提交的内容有误",
    429: "尝试次数过多，请稍后再试",
    500: "系统内部错误，请稍后重试或联系管理员",
    503: "数据库暂时无法连接，本次操作未保存，请稍后重试",
}


# /api/v1's stable error codes: by status, and by the runtime's exception (the most specific class wins).
V1_PREFIX = "/api/v1/"
V1_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_data",
    500: "internal_error",
    503: "database_unavailable",
}
V1_EXCEPTION_CODES: list[tuple[type[FangtiaoError], str]] = [
    (Gone, "task_gone"),
    (ProcedureError, "procedure_refused"),
    (InvalidData, "invalid_data"),
    (Conflict, "conflict"),
    (NotFound, "not_found"),
    (Forbidden, "forbidden"),
]


def v1_code(exc: FangtiaoError) -> str:
    own = getattr(exc, "code", None)
    if isinstance(own, str):
        return own
    return next((code for kind, code in V1_EXCEPTION_CODES if isinstance(exc, kind)), V1_CODES[400])


def v1_error(
    status: int, message: str, code: str | None = None, field_errors: dict[str, str] | None = None
) -> tuple[Any, int]:
    error: dict[str, Any] = {"code": code or V1_CODES.get(status, "error"), "message": message}
    if field_errors:
        error["fields"] = field_errors
    return jsonify({"error": error}), status


def wants_json() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def respond(
    status: int, message: str, field_errors: dict[str, str] | None = None, code: str | None = None
) -> tuple[Any, int]:
    if (request.path + "/").startswith(V1_PREFIX):
        return v1_error(status, message, code, field_errors)
    if wants_json():
        return jsonify({"error": message, "errors": field_errors or {}}), status
    return render_template("errors/error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(FangtiaoError)
    def runtime_error(exc: FangtiaoError) -> tuple[Any, int]:
        field_errors = exc.errors if isinstance(exc, InvalidData) else None
        return respond(exc.status, exc.message, field_errors, v1_code(exc))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[Any, int]:
        return respond(400, "页面已过期或来源无法验证（CSRF），请刷新页面后重新提交")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Any, int] | Response:
        status = exc.code or 500
        if status == 405 and not wants_json():
            return respond(405, MESSAGES[405])
        return respond(status, MESSAGES.get(status, exc.name))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Any, int]:
        if database_outage(exc):
            # Nothing of the request was committed; the pool has dropped the dead connections.
            app.logger.warning("数据库无法连接：%s（%s）", request.path, type(exc).__name__)
            return respond(503, MESSAGES[503])
        if app.testing:
            raise exc  # tests want the traceback of an unexpected error, not a friendly page
        # Logged with the traceback; the user sees a plain message, never the stack.
        app.logger.exception("未处理的错误：%s", request.path)
        return respond(500, MESSAGES[500])
