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
    with runtime.sessions() as session, session.begin():
        user = session.scalar(select(User).where(User.username == "clerk"))
        assert user is not None
        user.password_hash = generate_password_hash("new-password")
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
