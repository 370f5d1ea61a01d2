"""Login and logout. Passwords are checked against User.password_hash (werkzeug); the session id also
carries a digest of the hash, so a changed password or a deactivated user ends existing sessions."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from webapp.auth import bp
from webapp.context import SignedInUser, services
from webapp.errors import respond, wants_json
from webapp.extensions import login_manager

login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_id: str) -> SignedInUser | None:
    signed_in = services().users.load(session_id)
    return SignedInUser(signed_in) if signed_in is not None else None


@login_manager.unauthorized_handler
def unauthorized() -> Response | tuple[object, int]:
    if wants_json():
        return respond(401, "请先登录")
    flash(login_manager.login_message, "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an absolute or scheme-relative URL would make login an open redirect."""
    if not target:
        return url_for("tasks.inbox")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("tasks.inbox")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("tasks.inbox"))
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        signed_in = services().users.authenticate(username, password)
        if signed_in is not None:
            session.clear()  # nothing from before the login carries over into the signed-in session
            session.permanent = True
            login_user(SignedInUser(signed_in))
            flash(f"欢迎，{signed_in.viewer.display_name}", "success")
            return redirect(_safe_next(request.args.get("next")))
        return render_template("auth/login.html", username=username, error="用户名或密码错误"), 401
    return render_template("auth/login.html", username=username, error=None)


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    session.clear()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))
