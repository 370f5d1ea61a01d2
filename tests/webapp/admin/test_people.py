"""人员 and 机构与区域 from the browser's side: forms, Chinese refusals on the page they came from (4xx,
nothing stored), and what a change does to the users concerned."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from orchestration.engine.runtime import Runtime
from orchestration.services import claims
from orchestration.store.models import AuditEvent, OpenTask, Organisation, Region, User
from tests.helpers import actor, open_task, start
from tests.webapp.helpers import element, login, text

NEW_USER = {
    "username": "clerk3",
    "display_name": "卓嘎",
    "role": "petition_clerk",
    "org_code": "540102002-xf",
    "password": "temporary-2026",
    "reason": "新入职",
}


def stored(runtime: Runtime) -> dict[str, Any]:
    with runtime.sessions() as session:
        return {
            "users": list(
                session.execute(
                    select(
                        User.username,
                        User.display_name,
                        User.role,
                        User.org_id,
                        User.active,
                        User.password_hash,
                    ).order_by(User.id)
                )
            ),
            "organisations": list(
                session.execute(select(Organisation.code, Organisation.name, Organisation.document_prefix))
            ),
            "regions": list(session.execute(select(Region.code, Region.name))),
            "claims": list(session.execute(select(OpenTask.id, OpenTask.claimed_by))),
            "audit": session.scalar(select(func.count()).select_from(AuditEvent)),
        }


def test_an_administrator_creates_a_user_who_then_chooses_a_password(
    client: FlaskClient, app: Flask, runtime: Runtime
) -> None:
    login(client, "admin")
    form = client.get("/admin/users/new?org=540102002-xf")
    assert form.status_code == 200 and "新建用户" in text(form)
    assert 'value="540102002-xf" selected' in element(form, "new-org_code")
    created = client.post("/admin/users/new", data=NEW_USER)
    assert created.status_code == 302 and created.location == "/admin/users/clerk3"
    page = client.get(created.location)
    assert "已新建用户 clerk3" in text(page) and "下次登录须修改密码" in text(page)
    assert "clerk3" in text(client.get("/admin/users?q=卓嘎"))

    newcomer = app.test_client()
    response = newcomer.post("/login", data={"username": "clerk3", "password": "temporary-2026"})
    assert response.location == "/account/password"
    newcomer.post(
        "/account/password",
        data={
            "current_password": "temporary-2026",
            "new_password": "zhuoga-2026",
            "repeat_password": "zhuoga-2026",
        },
    )
    inbox = newcomer.get("/tasks")
    assert inbox.status_code == 200 and "吉日街道信访办" in text(inbox)


def test_a_bad_new_user_is_shown_its_errors_and_nothing_is_stored(
    client: FlaskClient, runtime: Runtime
) -> None:
    login(client, "admin")
    before = stored(runtime)
    response = client.post(
        "/admin/users/new",
        data={**NEW_USER, "username": "clerk", "org_code": "540102002-sf", "password": "short"},
    )
    assert response.status_code == 422
    page = text(response)
    assert "提交的内容有误，请按提示修改" in page
    assert "该用户名已被使用" in element(response, "err-new-username")
    assert "信访部门经办人只能属于信访部门" in element(response, "err-new-org_code")
    assert "密码至少需要8个字符" in element(response, "err-new-password")
    assert "short" not in response.get_data(as_text=True)  # a password is never sent back
    assert 'value="卓嘎"' in element(response, "new-display_name")  # what was typed stays
    assert stored(runtime) == before


def test_deactivating_a_user_ends_their_session_and_returns_their_tasks(
    client: FlaskClient, app: Flask, runtime: Runtime
) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    claims.claim(runtime, task.id, actor(runtime, "clerk"))
    clerk = app.test_client()
    login(clerk, "clerk")
    login(client, "admin")
    page = client.get("/admin/users/clerk")
    assert "认领中的待办：1 项" in text(page)

    before = stored(runtime)
    refused = client.post("/admin/users/clerk/deactivate", data={"reason": " "})
    assert refused.status_code == 422 and "请填写原因" in element(refused, "err-deactivate-reason")
    assert stored(runtime) == before
    assert clerk.get("/tasks").status_code == 200

    done = client.post("/admin/users/clerk/deactivate", data={"reason": "调离本单位"})
    assert done.status_code == 302
    flashed = text(client.get(done.location))
    assert "已停用用户 clerk" in flashed and "其认领的 1 项待办已退回所在机构的任务池" in flashed
    assert open_task(runtime, case_id, "screen_case").claimed_by is None
    assert clerk.get("/tasks").status_code == 302  # signed out
    assert clerk.post("/login", data={"username": "clerk", "password": "fangtiao-demo"}).status_code == 401
    assert "已停用" in text(client.get("/admin/users?status=inactive"))

    again = client.post("/admin/users/clerk/deactivate", data={"reason": "再次"})
    assert again.status_code == 409 and "用户 clerk 已停用" in text(again)
    assert client.post("/admin/users/clerk/reactivate", data={"reason": "返岗"}).status_code == 302
    assert clerk.get("/tasks").status_code == 302  # the old session stays ended
    login(clerk, "clerk")


def test_a_password_reset_sends_the_user_to_change_it(
    client: FlaskClient, app: Flask, runtime: Runtime
) -> None:
    mediator = app.test_client()
    login(mediator, "mediator")
    login(client, "admin")
    refused = client.post(
        "/admin/users/mediator/password", data={"password": "12345678", "reason": "忘记密码"}
    )
    assert refused.status_code == 422 and "不能只由数字" in element(refused, "err-password-password")
    assert mediator.get("/tasks").status_code == 200

    reset = client.post(
        "/admin/users/mediator/password", data={"password": "temporary-2026", "reason": "忘记密码"}
    )
    assert reset.status_code == 302
    assert "已重置 mediator 的密码" in text(client.get(reset.location))
    assert mediator.get("/tasks").status_code == 302
    login(mediator, "mediator", "temporary-2026")
    assert mediator.get("/tasks").location == "/account/password"


def test_an_administrator_may_not_deactivate_or_demote_themselves(
    client: FlaskClient, runtime: Runtime
) -> None:
    login(client, "admin")
    page = client.get("/admin/users/admin")
    assert "不能停用自己的账号" in text(page) and 'id="user-deactivate-form"' not in page.get_data(
        as_text=True
    )
    before = stored(runtime)
    refused = client.post("/admin/users/admin/deactivate", data={"reason": "测试"})
    assert refused.status_code == 403 and "不能停用自己的账号" in text(refused)
    demoted = client.post(
        "/admin/users/admin", data={"display_name": "系统管理员", "role": "mediator", "org_code": "540100-sf"}
    )
    assert demoted.status_code == 422  # a mediator cannot sit in a 司法局 either
    demoted = client.post(
        "/admin/users/admin",
        data={"display_name": "系统管理员", "role": "policy_officer", "org_code": "540100-sf"},
    )
    assert demoted.status_code == 403 and "不能更改自己的角色或所属机构" in text(demoted)
    assert stored(runtime) == before


def test_editing_a_user(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "admin")
    response = client.post(
        "/admin/users/leader",
        data={
            "display_name": "李建国",
            "role": "petition_clerk",
            "org_code": "540102001-xf",
            "reason": "岗位调整",
        },
    )
    assert response.status_code == 302
    assert "用户信息已保存" in text(client.get(response.location))
    with runtime.sessions() as session:
        assert session.scalar(select(User.role).where(User.username == "leader")) == "petition_clerk"
    assert client.get("/admin/users/nobody").status_code == 404


def test_the_organisation_tree_and_an_organisations_settings(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "admin")
    tree = client.get("/admin/organisations")
    page = text(tree)
    for words in (
        "拉萨市",
        "城关区",
        "八廓街道",
        "八廓街道司法所",
        "城八",
        "八廓街道人民调解委员会",
        "乃琼镇",
    ):
        assert words in page, words
    assert "城八" in element(tree, "org-540102001-tw") and "拉萨市城关区人民法院" in element(
        tree, "org-540102001-tw"
    )

    response = client.post(
        "/admin/organisations/540102001-tw",
        data={"name": "八廓街道人民调解委员会“访调对接”工作室", "document_prefix": "拉医", "seal_name": ""},
    )
    assert response.status_code == 422
    assert "已由拉萨市医疗纠纷人民调解委员会使用" in element(response, "err-org-document_prefix")
    response = client.post(
        "/admin/organisations/540102001-tw",
        data={
            "name": "八廓街道人民调解委员会“访调对接”工作室",
            "document_prefix": "城八人调",
            "seal_name": "",
            "court_name": "拉萨市城关区人民法院",
            "reason": "按新规范",
        },
    )
    assert response.status_code == 302
    with runtime.sessions() as session:
        org = session.scalar(select(Organisation).where(Organisation.code == "540102001-tw"))
        assert org is not None
        assert (org.document_prefix, org.seal_name, org.court_name) == (
            "城八人调",
            None,
            "拉萨市城关区人民法院",
        )


def test_organisations_and_regions_are_created_and_removed_only_while_unreferenced(
    client: FlaskClient, runtime: Runtime
) -> None:
    login(client, "admin")
    assert client.get("/admin/regions/new?parent=540102").status_code == 200
    created = client.post(
        "/admin/regions/new", data={"code": "540102003", "name": "纳金街道", "parent_code": "540102"}
    )
    assert created.status_code == 302
    form = client.get("/admin/organisations/new?region=540102003")
    assert 'value="540102003" selected' in element(form, "org-region_code")
    created = client.post(
        "/admin/organisations/new",
        data={
            "code": "540102003-xf",
            "name": "纳金街道信访办",
            "kind": "petition_office",
            "region_code": "540102003",
            "document_prefix": "城纳访",
            "seal_name": "",
        },
    )
    assert created.status_code == 302 and "已新建机构“纳金街道信访办”" in text(client.get(created.location))

    before = stored(runtime)
    refused = client.post("/admin/regions/540102003/delete", data={"reason": "撤销"})
    assert refused.status_code == 409 and "区域“纳金街道”仍有机构 1 个，不能删除" in text(refused)
    refused = client.post("/admin/organisations/540102001-sf/delete", data={"reason": "撤销"})
    assert refused.status_code == 409 and "机构“八廓街道司法所”仍有用户 1 名，不能删除" in text(refused)
    refused = client.post("/admin/organisations/540102003-xf/delete", data={"reason": ""})
    assert refused.status_code == 422 and "请填写原因" in element(refused, "err-delete-reason")
    bad = client.post("/admin/regions/new", data={"code": "12", "name": "", "parent_code": "540102001"})
    assert bad.status_code == 422
    assert "6至12位数字" in element(bad, "err-region-code") and "请填写名称" in element(
        bad, "err-region-name"
    )
    assert stored(runtime) == before

    assert client.post("/admin/organisations/540102003-xf/delete", data={"reason": "误建"}).status_code == 302
    assert client.post("/admin/regions/540102003/delete", data={"reason": "误建"}).status_code == 302
    assert "纳金街道" not in text(client.get("/admin/organisations"))
