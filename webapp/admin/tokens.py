"""接口令牌: the integration tokens of /api/v1 — listed, created (the secret shown once, on the answer to
the creating POST, never stored or shown again) and revoked."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from orchestration.errors import InvalidData
from orchestration.services.api_tokens import DEFAULT_DAYS, MAX_DAYS
from webapp.admin import bp
from webapp.context import services, viewer

Page = str | tuple[str, int] | Response


def _page(status: int = 200, **shown: object) -> tuple[str, int]:
    page = render_template(
        "admin/tokens.html",
        tokens=services().api_tokens.tokens(viewer()),
        default_days=DEFAULT_DAYS,
        max_days=MAX_DAYS,
        **shown,
    )
    return page, status


@bp.get("/tokens")
def tokens() -> Page:
    return _page()


@bp.post("/tokens")
def tokens_create() -> Page:
    sent = {name: request.form.get(name, "") for name in ("name", "username", "days")}
    days = sent["days"].strip()
    if not (days.isascii() and days.isdigit() and len(days) <= 4):
        return _page(422, errors={"days": f"有效期应为 1 至 {MAX_DAYS} 天"}, sent=sent)
    try:
        made = services().api_tokens.create(viewer(), sent["username"], sent["name"], int(days))
    except InvalidData as exc:
        return _page(422, errors=exc.errors, message=exc.message, sent=sent)
    # The answer itself shows the secret (no redirect: it must not pass through the session cookie).
    page, _ = _page(201, made=made)
    response = Response(page, status=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/tokens/<int:token_id>/revoke")
def tokens_revoke(token_id: int) -> Response:
    revoked = services().api_tokens.revoke(viewer(), token_id)
    flash(f"令牌“{revoked.name}”已吊销", "success")
    return redirect(url_for("admin.tokens"))
