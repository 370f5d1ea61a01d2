"""Sessions kept on the server (issue 11, finding 1) and throttled logins (finding 2): a copied cookie is
worth nothing after logout, a session ends 8 hours after the login however busy, an administrator ends
all of a user's sessions; failed logins lock a name and an address for a while and are audited."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.settings import Settings
from orchestration.store.models import AuditEvent, LoginFailure, UserSession
from orchestration.vocabulary import AuditAction
from tests.webapp.conftest import make_app
from tests.webapp.helpers import login, text
from webapp.context import SERVICES_KEY

COOKIE = "fangtiao_session"
PASSWORD = "fangtiao-demo"


def _sessions(runtime: Runtime) -> list[UserSession]:
    with runtime.sessions() as session:
        return list(session.scalars(select(UserSession).order_by(UserSession.id)))


def _failures_audited(runtime: Runtime) -> list[AuditEvent]:
    with runtime.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.LOGIN_FAILURE)))


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of the client's session cookie."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    return thief


def test_a_copied_cookie_is_worth_nothing_after_logout(
    app: Flask, client: FlaskClient, runtime: Runtime
) -> None:
    login(client, "clerk")
    thief = _copy(app, client)
    assert thief.get("/tasks").status_code == 200
    client.post("/logout")
    replayed = thief.get("/tasks")
    assert replayed.status_code == 302 and replayed.location.startswith("/login")
    assert _sessions(runtime) == []


def test_the_server_keeps_only_a_hash_of_the_random_token(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "clerk")
    with client.session_transaction() as flask_session:
        token = flask_session["_user_id"]
    (row,) = _sessions(runtime)
    assert len(token) >= 40 and token not in row.token_hash
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not token.startswith(f"{row.user_id}.")  # nothing derived from the user


def test_a_session_ends_eight_hours_after_login_however_busy(
    database_url: str, clock: FrozenClock, runtime: Runtime, tmp_path: Path
) -> None:
    app = make_app(database_url, clock, tmp_path, session_hours=Settings.from_env({}).session_hours)
    client = app.test_client()
    login(client, "clerk")
    for _ in range(7):
        clock.advance(timedelta(hours=1))
        assert client.get("/tasks").status_code == 200  # each answer refreshes the cookie
    clock.advance(timedelta(minutes=59))
    assert client.get("/tasks").status_code == 200
    clock.advance(timedelta(minutes=1))
    ended = client.get("/tasks")
    assert ended.status_code == 302 and ended.location.startswith("/login")
    login(client, "clerk")  # a new login starts a new 8 hours, and cleans the expired row away
    assert len(_sessions(runtime)) == 1
    app.extensions[SERVICES_KEY].close()


def test_an_administrator_ends_all_sessions_of_a_user(
    app: Flask, client: FlaskClient, runtime: Runtime
) -> None:
    phone, desk = app.test_client(), app.test_client()
    login(phone, "clerk")
    login(desk, "clerk")
    login(client, "admin")
    page = client.get("/admin/users/clerk")
    assert "结束全部登录" in text(page)
    refused = client.post("/admin/users/clerk/sessions/end", data={"reason": " "})
    assert refused.status_code == 422
    assert phone.get("/tasks").status_code == 200

    done = client.post("/admin/users/clerk/sessions/end", data={"reason": "手机遗失"})
    assert done.status_code == 302
    assert "已结束 clerk 的全部登录（2 个）" in text(client.get(done.location))
    assert phone.get("/tasks").status_code == 302 and desk.get("/tasks").status_code == 302
    assert client.get("/admin/users").status_code == 200  # the administrator's own session goes on
    with runtime.sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == AuditAction.SESSIONS_END))
        assert event is not None and event.actor == "admin"
        assert event.detail == {"user": "clerk", "sessions": 2, "reason": "手机遗失"}
    login(phone, "clerk")  # the password still works


def test_changing_ones_password_ends_the_other_sessions_only(app: Flask, client: FlaskClient) -> None:
    login(client, "clerk")
    other = app.test_client()
    login(other, "clerk")
    changed = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "new-pass-2026",
            "repeat_password": "new-pass-2026",
        },
    )
    assert changed.status_code == 302
    assert client.get("/tasks").status_code == 200
    assert other.get("/tasks").status_code == 302


def test_failed_logins_lock_the_name_with_a_time_and_are_audited(
    client: FlaskClient, clock: FrozenClock, runtime: Runtime
) -> None:
    for _ in range(5):
        assert client.post("/login", data={"username": "clerk", "password": "wrong"}).status_code == 401
    locked = client.post("/login", data={"username": "clerk", "password": PASSWORD})
    assert locked.status_code == 429
    # the test clock starts at 2026-11-02 09:00 Beijing time; locked for 15 minutes from the first failure
    assert "登录失败次数过多，已暂时锁定，请于 11月2日 09:15 后再试" in text(locked)
    assert client.get("/tasks").status_code == 302
    events = _failures_audited(runtime)
    assert [e.detail["reason"] for e in events] == ["wrong_password"] * 5 + ["locked"]
    assert {e.actor for e in events} == {"clerk"} and events[0].detail["address"] == "127.0.0.1"

    clock.advance(timedelta(minutes=14, seconds=59))
    assert client.post("/login", data={"username": "clerk", "password": PASSWORD}).status_code == 429
    clock.advance(timedelta(seconds=1))
    login(client, "clerk")
    with runtime.sessions() as session:  # a successful login clears the name's failures
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_an_unknown_name_is_locked_the_same_way(client: FlaskClient) -> None:
    for name in ("clerk", "nobody"):
        answers = [
            client.post("/login", data={"username": name, "password": "wrong"}).status_code for _ in range(6)
        ]
        assert answers == [401] * 5 + [429], name


def test_failed_logins_lock_an_address_across_names(client: FlaskClient, runtime: Runtime) -> None:
    for number in range(20):
        response = client.post("/login", data={"username": f"guess{number}", "password": "x"})
        assert response.status_code == 401
    locked = client.post("/login", data={"username": "mediator", "password": PASSWORD})
    assert locked.status_code == 429 and "已暂时锁定" in text(locked)
    elsewhere = client.post(
        "/login",
        data={"username": "mediator", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert elsewhere.status_code == 302


def test_a_name_no_user_can_have_is_refused_without_a_lookup(client: FlaskClient, runtime: Runtime) -> None:
    for name in ("cl\x00erk", "cl\r\nerk", "x" * 65):
        response = client.post("/login", data={"username": name, "password": PASSWORD})
        shown = text(response)
        assert response.status_code == 400
        assert "用户名含有无效字符或过长" in shown or "含有无法保存的字符" in shown, name
    assert _failures_audited(runtime) == []
