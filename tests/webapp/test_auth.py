"""Login with hashed passwords, hardened cookies, logout, safe redirects, the secret key."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.services.users import UserService
from orchestration.store.models import User
from tests.webapp.conftest import make_app
from tests.webapp.helpers import login, text
from webapp import settings
from webapp.context import SERVICES_KEY


def test_pages_need_login(client: FlaskClient) -> None:
    response = client.get("/tasks")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=/tasks")
    assert client.get("/").location == "/login"


def test_login_page_is_chinese(client: FlaskClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert 'lang="zh-CN"' in page.get_data(as_text=True)
    assert "登录访调通" in text(page)


def test_login_with_the_right_password_and_logout(client: FlaskClient) -> None:
    response = client.post(
        "/login?next=/notifications", data={"username": "clerk", "password": "fangtiao-demo"}
    )
    assert response.status_code == 302 and response.location == "/notifications"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = client.get("/tasks")
    assert page.status_code == 200 and "王芳" in text(page)
    assert client.get("/").location == "/tasks"
    out = client.post("/logout")
    assert out.status_code == 302 and out.location == "/login"
    assert client.get("/tasks").status_code == 302


def test_wrong_password_or_unknown_user_get_the_same_answer(client: FlaskClient) -> None:
    for username, password in (("clerk", "wrong"), ("nobody", "fangtiao-demo"), ("", "")):
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 401
        assert "用户名或密码错误" in text(response)
    assert client.get("/tasks").status_code == 302


def test_next_must_stay_on_this_site(client: FlaskClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(
            f"/login?next={target}", data={"username": "clerk", "password": "fangtiao-demo"}
        )
        assert response.location == "/tasks", target
        client.post("/logout")


def test_inactive_user_cannot_log_in_and_is_logged_out(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "clerk")
    with runtime.sessions() as session, session.begin():
        user = session.scalar(select(User).where(User.username == "clerk"))
        assert user is not None
        user.active = False
    assert client.get("/tasks").status_code == 302
    response = client.post("/login", data={"username": "clerk", "password": "fangtiao-demo"})
    assert response.status_code == 401


def test_changing_the_password_ends_existing_sessions(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "clerk")
    users = UserService(runtime)
    viewer = users.viewer("clerk")
    assert viewer is not None
    users.change_password(viewer, "fangtiao-demo", "new-password", "new-password")
    assert client.get("/tasks").status_code == 302
    login(client, "clerk", "new-password")
    assert client.get("/tasks").status_code == 200


def test_secure_cookie_is_configurable(
    database_url: str, runtime: Runtime, clock: FrozenClock, tmp_path: Path
) -> None:
    app = make_app(database_url, clock, tmp_path, SESSION_COOKIE_SECURE=True)
    try:
        response = app.test_client().post("/login", data={"username": "clerk", "password": "fangtiao-demo"})
        assert "Secure" in response.headers["Set-Cookie"]
    finally:
        app.extensions[SERVICES_KEY].close()


def test_secret_key_is_generated_once_in_the_instance_folder(
    database_url: str, runtime: Runtime, clock: FrozenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FANGTIAO_SECRET_KEY", raising=False)
    first = make_app(database_url, clock, tmp_path, SECRET_KEY=None)
    second = make_app(database_url, clock, tmp_path, SECRET_KEY=None)
    try:
        key_file = tmp_path / "instance" / settings.SECRET_FILE
        assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
        assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text().strip()
        assert len(first.config["SECRET_KEY"]) == 64
        monkeypatch.setenv("FANGTIAO_SECRET_KEY", "from-the-environment")
        third = make_app(database_url, clock, tmp_path, SECRET_KEY=None)
        assert third.config["SECRET_KEY"] == "from-the-environment"
        third.extensions[SERVICES_KEY].close()
    finally:
        first.extensions[SERVICES_KEY].close()
        second.extensions[SERVICES_KEY].close()


def test_security_headers(client: FlaskClient, app: Flask) -> None:
    login(client, "clerk")
    response = client.get("/tasks")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _must_change(runtime: Runtime, username: str, password: str) -> None:
    """As an administrator's reset leaves the user: a temporary password to change at the next login."""
    with runtime.sessions() as session, session.begin():
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        user.password_hash = generate_password_hash(password)
        user.must_change_password = True


def test_a_reset_password_must_be_changed_before_anything_else(client: FlaskClient, runtime: Runtime) -> None:
    _must_change(runtime, "clerk", "temporary-2026")
    response = client.post(
        "/login?next=/notifications", data={"username": "clerk", "password": "temporary-2026"}
    )
    assert response.status_code == 302 and response.location == "/account/password"
    page = client.get("/account/password")
    assert page.status_code == 200 and "管理员已为您设置临时密码" in text(page)
    for url in ("/tasks", "/cases", "/notifications", "/"):
        assert client.get(url).location == "/account/password", url
    api = client.get("/api/tasks")
    assert api.status_code == 403 and "修改密码" in api.get_json()["error"]
    assert client.post("/tasks/x/claim").location == "/account/password"

    refused = client.post(
        "/account/password",
        data={"current_password": "temporary-2026", "new_password": "abc", "repeat_password": "abc"},
    )
    assert refused.status_code == 422 and "密码至少需要8个字符" in text(refused)
    assert client.get("/tasks").location == "/account/password"  # still to be done

    done = client.post(
        "/account/password",
        data={
            "current_password": "temporary-2026",
            "new_password": "wangfang-2026",
            "repeat_password": "wangfang-2026",
        },
    )
    assert done.status_code == 302 and done.location == "/tasks"
    assert client.get("/tasks").status_code == 200  # the session goes on under the new password
    assert client.get("/api/tasks").status_code == 200
    client.post("/logout")
    assert client.post("/login", data={"username": "clerk", "password": "temporary-2026"}).status_code == 401
    login(client, "clerk", "wangfang-2026")
    assert client.get("/tasks").status_code == 200


def test_anyone_may_change_their_own_password(client: FlaskClient, runtime: Runtime, app: Flask) -> None:
    login(client, "mediator")
    other = app.test_client()
    login(other, "mediator")
    page = client.get("/account/password")
    assert page.status_code == 200 and "管理员已为您设置临时密码" not in text(page)
    wrong = client.post(
        "/account/password",
        data={
            "current_password": "nope",
            "new_password": "cirenzhuoma-1",
            "repeat_password": "cirenzhuoma-1",
        },
    )
    assert wrong.status_code == 422 and "当前密码不正确" in text(wrong)
    changed = client.post(
        "/account/password",
        data={
            "current_password": "fangtiao-demo",
            "new_password": "cirenzhuoma-1",
            "repeat_password": "cirenzhuoma-1",
        },
    )
    assert changed.status_code == 302
    assert client.get("/tasks").status_code == 200
    assert other.get("/tasks").status_code == 302  # the other browser's session has ended


def test_the_health_check_answers_a_user_who_must_change_their_password(
    client: FlaskClient, runtime: Runtime
) -> None:
    _must_change(runtime, "clerk", "temporary-2026")
    client.post("/login", data={"username": "clerk", "password": "temporary-2026"})
    assert client.get("/healthz").status_code == 200


def test_administrators_start_in_the_console(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "admin", "password": "fangtiao-demo"})
    assert response.location == "/admin"
    assert client.get("/").location == "/admin"
