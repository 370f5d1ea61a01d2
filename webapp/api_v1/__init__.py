"""The versioned JSON API for integrations under /api/v1, authenticated by integration tokens.

Unlike /api (the pages' own JSON, by the session cookie), every call here but the OpenAPI document and
its page carries `Authorization: Bearer <token>`; a token acts as one user, within the organisation and
role it was issued for. No cookie is read, so there is nothing for a cross-site request to ride on and
the CSRF token does not apply.
"""

from __future__ import annotations

from flask import Blueprint, g, request
from werkzeug.wrappers import Response

from orchestration.services.api_tokens import ApiCaller
from webapp.context import services
from webapp.errors import v1_error

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1", template_folder="templates")

PUBLIC_ENDPOINTS = frozenset({"api_v1.openapi", "api_v1.docs"})


@bp.before_request
def authenticate() -> Response | tuple[Response, int] | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        reply, status = v1_error(401, "请在 Authorization 头中提供接口令牌（Bearer ftk_…）", "token_required")
        reply.headers["WWW-Authenticate"] = "Bearer"
        return reply, status
    found = services().api_tokens.authenticate(secret.strip())
    if found is None:
        reply, status = v1_error(
            401, "接口令牌无效、已过期或已被吊销，或其用户已停用、调整了机构或角色", "token_invalid"
        )
        reply.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return reply, status
    g.api_caller = found
    return None


def caller() -> ApiCaller:
    found: ApiCaller = g.api_caller
    return found


from webapp.api_v1 import views  # noqa: E402,F401  (registers the routes on bp)
