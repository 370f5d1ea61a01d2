"""In-app notifications: list, unread count in the navigation, mark read (one or all)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from orchestration.engine.runtime import Runtime
from orchestration.store.models import Notification
from tests.helpers import advance_to, start
from tests.webapp.helpers import element, login, text


def test_referral_notification_reaches_the_mediators(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    login(client, "mediator")
    page = client.get("/notifications")
    assert "收到访调对接移送案件" in text(page)
    assert element(page, "nav-unread-count")
    with runtime.sessions() as session:
        note = session.scalar(select(Notification).where(Notification.role == "mediator"))
        assert note is not None
    assert element(page, f"notification-case-{note.id}")
    assert client.post(f"/notifications/{note.id}/read").status_code == 302
    page = client.get("/notifications")
    assert 'id="nav-unread-count"' not in page.get_data(as_text=True)
    assert "没有未读通知" in text(client.get("/notifications?unread=1"))
    # Other organisations do not see it and cannot mark it.
    login(client, "mediator2")
    assert "收到访调对接移送案件" not in text(client.get("/notifications"))
    client.post(f"/notifications/{note.id}/read")
    assert "该通知已读或不存在" in text(client.get("/notifications"))


def test_mark_all_read(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")  # the acceptance notifies the clerks
    login(client, "clerk")
    assert "已由" in text(client.get("/notifications"))
    response = client.post("/notifications/read-all")
    assert response.status_code == 302
    assert "已将 1 条通知标为已读" in text(client.get("/notifications"))
    assert "暂无通知" not in text(client.get("/notifications"))  # read ones stay listed
