"""接口令牌 in the console: created with the secret shown once, listed without it, revoked; refused input
shown on the page; administrators only."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.webapp.helpers import login, text


def test_create_show_once_list_and_revoke(client: FlaskClient) -> None:
    login(client, "admin")
    assert "尚未创建接口令牌" in text(client.get("/admin/tokens"))
    made = client.post("/admin/tokens", data={"name": "调解平台", "username": "mediator", "days": "30"})
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    secret = text(made).split("无法找回）：")[1].split()[0]
    assert secret.startswith("ftk_")
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listing = client.get("/admin/tokens")
    assert "调解平台" in text(listing) and secret not in listing.get_data(as_text=True)
    assert client.post("/admin/tokens/1/revoke").status_code == 302
    assert "已吊销" in text(client.get("/admin/tokens"))
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_refused_input_and_other_roles(client: FlaskClient) -> None:
    login(client, "admin")
    bad = client.post("/admin/tokens", data={"name": "", "username": "nobody", "days": "30"})
    assert bad.status_code == 422 and "请填写令牌名称" in text(bad) and "在用的用户名" in text(bad)
    assert (
        client.post("/admin/tokens", data={"name": "x", "username": "clerk", "days": "²"}).status_code == 422
    )
    login(client, "clerk")
    assert client.get("/admin/tokens").status_code == 403
    assert (
        client.post("/admin/tokens", data={"name": "x", "username": "clerk", "days": "30"}).status_code == 403
    )
