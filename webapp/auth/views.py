"""Login and logout. Passwords are checked against User.password_hash (werkzeug); the session id also
carries a digest of the hash, so a changed password or a deactivated user ends existing sessions."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from orchestration.store.models import User
from webapp.auth import bp
from webapp.context import SignedInUser, db, session_token
from webapp.errors import respond, wants_json
from webapp.extensions import login_manager

login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@cache
def _dummy_hash() -> str:
    # Checking a password against this when the user does not exist keeps the response time the same,
    # so timing does not reveal which user names exist.
    return generate_password_hash("not-a-password")


@login_manager.user_loader
def load_user(user_id: str) -> SignedInUser | None:
    raw_id, _, token = user_id.partition(".")
    if not raw_id.isdigit():
        return None
    with db() as dbs:
        user = dbs.get(User, int(raw_id))
        if user is None or not user.active or session_token(user) != token:
            return None
        return SignedInUser(user)


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
        with db() as dbs:
            user = dbs.scalar(select(User).where(User.username == username)) if username else None
            hashed = user.password_hash if user is not None and user.password_hash else _dummy_hash()
            valid = check_password_hash(hashed, password) and user is not None and user.active
            signed_in = SignedInUser(user) if valid and user is not None else None
        if signed_in is not None:
            session.clear()  # nothing from before the login carries over into the signed-in session
            session.permanent = True
            login_user(signed_in)
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
