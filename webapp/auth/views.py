"""Login, logout and changing one's own password. Passwords are checked against User.password_hash
(werkzeug), failed logins throttled and audited by the service. The signed cookie carries only the random
token of a session kept on the server (services/users.py): logout, a changed or reset password,
deactivation and an administrator ending the sessions delete it, so a copied cookie stops working. A user
whose password an administrator reset is sent to change it before any other page."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from orchestration.errors import InvalidData, TooManyAttempts
from orchestration.vocabulary import Role
from webapp.auth import bp
from webapp.context import SignedInUser, services, viewer
from webapp.errors import respond, wants_json
from webapp.extensions import login_manager
from webapp.security import same_site_path

# What a user who must change their password may still reach.
WHILE_CHANGING = frozenset({"auth.change_password", "auth.logout", "static", "health.healthz"})

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


@bp.before_app_request
def require_password_change() -> ResponseReturnValue | None:
    # the endpoint first: the health check must not load the user (that needs the database)
    if request.endpoint in WHILE_CHANGING or not getattr(current_user, "must_change_password", False):
        return None
    if wants_json():
        return respond(403, "管理员已重置您的密码，请先登录网页修改密码")
    return redirect(url_for("auth.change_password"))


def home() -> str:
    """Where a signed-in user starts: the administrators' console, or 待办."""
    return url_for("admin.home") if viewer().role == Role.ADMIN else url_for("tasks.inbox")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an absolute or scheme-relative URL would make login an open redirect."""
    if not target:
        return home()
    return target if same_site_path(target) else home()


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(home())
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        try:
            signed_in = services().users.authenticate(username, password, request.remote_addr or "")
        except TooManyAttempts as exc:
            return render_template("auth/login.html", username=username, error=exc.message), exc.status
        except InvalidData as exc:
            return render_template("auth/login.html", username="", error=exc.message), 400
        if signed_in is not None:
            session.clear()  # nothing from before the login carries over into the signed-in session
            session.permanent = True
            login_user(SignedInUser(signed_in))
            if signed_in.must_change_password:
                flash("管理员已为您设置临时密码，请先修改密码", "info")
                return redirect(url_for("auth.change_password"))
            flash(f"欢迎，{signed_in.viewer.display_name}", "success")
            return redirect(_safe_next(request.args.get("next")))
        return render_template("auth/login.html", username=username, error="用户名或密码错误"), 401
    return render_template("auth/login.html", username=username, error=None)


@bp.post("/logout")
def logout() -> Response:
    if current_user.is_authenticated:
        services().users.end_session(current_user.get_id())
    logout_user()
    session.clear()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("auth/password.html", errors={}, message=None)
    try:
        signed_in = services().users.change_password(
            viewer(),
            request.form.get("current_password", ""),
            request.form.get("new_password", ""),
            request.form.get("repeat_password", ""),
        )
    except InvalidData as exc:
        return render_template("auth/password.html", errors=exc.errors, message=exc.message), 422
    # the session id changes with the password; the other sessions of the user have ended
    login_user(SignedInUser(signed_in))
    flash("密码已修改", "success")
    return redirect(home())
