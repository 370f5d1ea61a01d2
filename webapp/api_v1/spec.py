"""The OpenAPI 3 document of /api/v1, built by apispec from the marshmallow schemas and from what each
route declares where it is defined (`operation` in webapp/api_v1/views.py): one place says both how a
route is served and how it is described."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from webapp.api_v1 import schemas

TITLE = "访调通 接口（第1版）"
PREFIX = "/api/v1"

ERROR_TEXT = {
    400: "请求格式有误（JSON、参数或幂等键）",
    401: "缺少或无效的接口令牌",
    403: "令牌的角色或机构无权进行该操作",
    404: "对象不存在",
    409: "冲突：案件已变化、任务已被认领或办结，或同一幂等键的请求尚未完成",
    413: "请求体过大",
    415: "请以 JSON 格式提交",
    422: "内容未通过校验，或同一幂等键已用于不同的请求",
    503: "数据库暂时无法连接，本次操作未保存",
}
READ_ERRORS = (400, 401, 403, 404, 503)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422, 503)

# Path parameters: what each may be. Integers stop at PostgreSQL's 32-bit integer.
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "task_id": {"type": "string", "pattern": "^[0-9A-Za-z-]{1,36}$"},
    "case_no": {"type": "string", "pattern": "^[0-9A-Za-z-]{1,32}$"},
    "document_id": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_INT},
    "attachment_id": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_INT},
    "draft_id": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_INT},
}


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str  # Flask's, e.g. /tasks/<task_id>/claim
    operation_id: str
    summary: str
    tag: str
    roles: str  # who may call it, in words
    body: type[Schema] | None = None
    answer: type[Schema] | None = None
    status: int = 200
    query: tuple[dict[str, Any], ...] = ()
    binary: bool = False  # the answer is a file, not JSON
    idempotent_key: bool = False  # a state-changing POST: needs an Idempotency-Key
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)


OPERATIONS: list[Operation] = []


def _operation_spec(op: Operation) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS[name]}
        for name in re.findall(r"\{(\w+)\}", op.path)
    ]
    parameters.extend({"in": "query", **q} for q in op.query)
    if op.idempotent_key:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "description": "每个改变状态的请求一个唯一键：同一键、同一请求体重放已存储的应答；"
                "同一键、不同请求体为 422",
                "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
            }
        )
    if op.binary:
        content: dict[str, Any] = {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
        }
    else:
        content = {"application/json": {"schema": op.answer}} if op.answer else {}
    responses: dict[str, Any] = {str(op.status): {"description": "成功", "content": content}}
    for status in WRITE_ERRORS if op.method == "post" else READ_ERRORS:
        responses[str(status)] = {
            "description": ERROR_TEXT[status],
            "content": {"application/json": {"schema": "Error"}},
        }
    spec: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "description": f"可调用的角色：{op.roles}。{op.notes}".strip(),
        "tags": [op.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if op.body is not None:
        spec["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
    return spec


def build() -> dict[str, Any]:
    spec = APISpec(
        title=TITLE,
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        servers=[{"url": PREFIX}],
        info={
            "description": "供省信访信息系统、调解平台等对接使用。以接口令牌认证（Authorization: Bearer "
            "ftk_…），令牌由系统管理员签发，限定一个机构和一个角色。错误一律为 "
            '{"error": {"code": …, "message": …}}。'
        },
    )
    spec.components.schema("Error", schema=schemas.ErrorSchema)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for op in OPERATIONS:
        spec.path(path=op.path, operations={op.method: _operation_spec(op)})
    document = spec.to_dict()
    document["security"] = [{"bearer": []}]
    return document
