"""Administrators keep users, regions and organisations: each change audited in its own transaction, a
refusal writing nothing, a deactivated user's claimed tasks back in the pool and their sessions ended."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from orchestration.domain.access import Viewer
from orchestration.engine.runtime import Runtime
from orchestration.errors import Conflict, FangtiaoError, Forbidden, InvalidData, NotFound
from orchestration.services import claims
from orchestration.services.admin_people import PeopleService, UserFilter
from orchestration.services.demo import DEMO_PASSWORD
from orchestration.services.users import UserService
from orchestration.store.models import AuditEvent, OpenTask, Organisation, Region, User
from tests.helpers import actor, advance_to, open_task, start

NEW_PASSWORD = "temporary-2026"


@pytest.fixture
def people(runtime: Runtime) -> PeopleService:
    return PeopleService(runtime)


@pytest.fixture
def users(runtime: Runtime) -> UserService:
    return UserService(runtime)


def viewer(users: UserService, username: str) -> Viewer:
    found = users.viewer(username)
    assert found is not None, username
    return found


@pytest.fixture
def admin(users: UserService) -> Viewer:
    return viewer(users, "admin")


def county_admin(runtime: Runtime, users: UserService) -> Viewer:
    """An administrator of 堆龙德庆区 only (at its 司法局)."""
    with runtime.sessions() as session, session.begin():
        org = session.scalar(select(Organisation).where(Organisation.code == "540103-sf"))
        model = session.scalar(select(User).where(User.username == "admin"))
        assert org is not None and model is not None
        session.add(
            User(
                username="county_admin",
                display_name="区管理员",
                role="admin",
                org_id=org.id,
                password_hash=model.password_hash,
            )
        )
    return viewer(users, "county_admin")


def snapshot(runtime: Runtime) -> dict[str, Any]:
    """What a change of people or organisations writes, to show a refusal wrote nothing."""
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
                        User.must_change_password,
                    ).order_by(User.id)
                )
            ),
            "organisations": list(
                session.execute(
                    select(
                        Organisation.code,
                        Organisation.name,
                        Organisation.document_prefix,
                        Organisation.seal_name,
                    )
                )
            ),
            "regions": list(session.execute(select(Region.code, Region.name))),
            "claims": list(session.execute(select(OpenTask.id, OpenTask.claimed_by))),
            "audit": session.scalar(select(func.count()).select_from(AuditEvent)),
        }


def last_audit(runtime: Runtime) -> AuditEvent:
    with runtime.sessions() as session:
        event = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        assert event is not None
        return event


def user_row(runtime: Runtime, username: str) -> User:
    with runtime.sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return user


# ---- users ------------------------------------------------------------------------------------------


def test_a_new_user_signs_in_and_must_choose_a_password(
    runtime: Runtime, people: PeopleService, users: UserService, admin: Viewer
) -> None:
    people.create_user(admin, "clerk3", "卓嘎", "petition_clerk", "540102002-xf", NEW_PASSWORD, "新入职")
    event = last_audit(runtime)
    assert (event.actor, event.action, event.case_id) == ("admin", "user_create", None)
    assert event.detail["user"] == "clerk3" and event.detail["reason"] == "新入职"
    assert event.detail["organisation"] == "540102002-xf"
    signed_in = users.authenticate("clerk3", NEW_PASSWORD)
    assert signed_in is not None and signed_in.must_change_password
    assert signed_in.viewer.org_name == "吉日街道信访办" and signed_in.viewer.role == "petition_clerk"
    loaded = users.load(signed_in.session_id)
    assert loaded is not None and loaded.must_change_password

    changed = users.change_password(signed_in.viewer, NEW_PASSWORD, "my-own-pass-1", "my-own-pass-1")
    assert not changed.must_change_password
    assert users.load(signed_in.session_id) is None  # the session of the old password is over
    assert users.load(changed.session_id) is not None
    assert users.authenticate("clerk3", "my-own-pass-1") is not None
    event = last_audit(runtime)
    assert (event.actor, event.action, event.detail) == ("clerk3", "password_change", {"user": "clerk3"})


BAD_USERS: dict[str, tuple[dict[str, str], str, str]] = {
    "user name": ({"username": "王芳"}, "username", "小写字母"),
    "user name taken": ({"username": "clerk"}, "username", "已被使用"),
    "short password": ({"password": "abc1"}, "password", "至少需要8个字符"),
    "digits only": ({"password": "12345678"}, "password", "不能只由数字"),
    "no name": ({"display_name": "  "}, "display_name", "请填写姓名"),
    "no role": ({"role": "system"}, "role", "请选择角色"),
    "unknown organisation": ({"org_code": "nowhere"}, "org_code", "请选择您管理区域内的机构"),
    "clerk at a 司法所": ({"org_code": "540102001-sf"}, "org_code", "信访部门经办人只能属于信访部门"),
    "mediator at a petition office": (
        {"role": "mediator", "org_code": "540102001-xf"},
        "org_code",
        "人民调解员只能属于",
    ),
}


@pytest.mark.parametrize(("change", "field", "message"), BAD_USERS.values(), ids=BAD_USERS.keys())
def test_a_bad_new_user_is_refused_in_chinese_and_nothing_is_written(
    runtime: Runtime, people: PeopleService, admin: Viewer, change: dict[str, str], field: str, message: str
) -> None:
    before = snapshot(runtime)
    values = {
        "username": "clerk3",
        "display_name": "卓嘎",
        "role": "petition_clerk",
        "org_code": "540102002-xf",
        "password": NEW_PASSWORD,
        **change,
    }
    with pytest.raises(InvalidData) as refused:
        people.create_user(admin, **values)
    assert refused.value.status == 422
    assert message in refused.value.errors[field]
    assert snapshot(runtime) == before


def test_an_administrator_keeps_only_their_own_region(
    runtime: Runtime, people: PeopleService, users: UserService
) -> None:
    county = county_admin(runtime, users)
    listed = {u.username for u in people.users(county, UserFilter()).items}
    assert listed == {"clerk2", "leader2", "mediator2", "justice2", "county_admin"}
    assert {code for code, _ in people.organisation_choices(county)} == {
        "540103-xf",
        "540103-tj",
        "540103-sf",
        "540103001-xf",
        "540103001-tw",
        "540103001-sf",
        "540103002-xf",
        "540103002-tw",
        "540103002-sf",
    }
    before = snapshot(runtime)
    with pytest.raises(Forbidden, match="不在您管理的区域内"):
        people.deactivate_user(county, "clerk", "调离")
    with pytest.raises(Forbidden):
        people.update_organisation(county, "540102001-sf", "改名", None, None, None)
    with pytest.raises(InvalidData) as refused:
        people.create_user(county, "clerk3", "卓嘎", "petition_clerk", "540102002-xf", NEW_PASSWORD)
    assert "管理区域内" in refused.value.errors["org_code"]
    with pytest.raises(Forbidden):
        people.delete_region(county, "540102002", "撤销")
    assert snapshot(runtime) == before
    assert [n.code for n in people.tree(county)] == ["540103"]


def test_the_user_list_filters(people: PeopleService, admin: Viewer) -> None:
    assert people.users(admin, UserFilter()).total == 14
    assert [u.username for u in people.users(admin, UserFilter(text="王")).items] == ["clerk"]
    assert {u.username for u in people.users(admin, UserFilter(org_code="540102001-xf")).items} == {
        "clerk",
        "leader",
    }
    people.deactivate_user(admin, "clerk2", "调离")
    assert [u.username for u in people.users(admin, UserFilter(active=False)).items] == ["clerk2"]
    assert people.users(admin, UserFilter(active=True)).total == 13


def test_editing_a_user_moves_their_claims_back_when_role_or_organisation_changes(
    runtime: Runtime, people: PeopleService, admin: Viewer
) -> None:
    case_id = start(runtime)
    task = open_task(runtime, case_id, "screen_case")
    claims.claim(runtime, task.id, actor(runtime, "clerk"))

    assert people.update_user(admin, "clerk", "王芳芳", "petition_clerk", "540102001-xf") == 0
    assert open_task(runtime, case_id, "screen_case").claimed_by is not None  # a new name keeps the claim
    event = last_audit(runtime)
    assert event.action == "user_update" and event.detail["changes"] == {"display_name": ["王芳", "王芳芳"]}

    assert people.update_user(admin, "clerk", "王芳芳", "petition_leader", "540102001-xf", "任分管领导") == 1
    assert open_task(runtime, case_id, "screen_case").claimed_by is None
    with runtime.sessions() as session:
        actions = list(
            session.execute(
                select(AuditEvent.action, AuditEvent.case_id, AuditEvent.actor)
                .order_by(AuditEvent.id.desc())
                .limit(2)
            )
        )
    assert actions == [("user_update", None, "admin"), ("release", case_id, "admin")]
    assert user_row(runtime, "clerk").role == "petition_leader"


def test_an_administrator_cannot_lock_themselves_out(
    runtime: Runtime, people: PeopleService, admin: Viewer
) -> None:
    before = snapshot(runtime)
    with pytest.raises(Forbidden, match="不能停用自己的账号"):
        people.deactivate_user(admin, "admin", "测试")
    with pytest.raises(Forbidden, match="不能更改自己的角色"):
        people.update_user(admin, "admin", "系统管理员", "policy_officer", "540100-sf")
    assert snapshot(runtime) == before


def test_deactivating_a_user_returns_their_tasks_to_the_pool_and_ends_their_sessions(
    runtime: Runtime, people: PeopleService, users: UserService, admin: Viewer
) -> None:
    first = start(runtime)
    second = start(runtime)
    mediate = advance_to(runtime, first, "mediate")
    claims.claim(runtime, mediate.id, actor(runtime, "mediator"))
    claims.claim(runtime, open_task(runtime, second, "screen_case").id, actor(runtime, "clerk"))
    signed_in = users.authenticate("mediator", DEMO_PASSWORD)
    assert signed_in is not None and users.load(signed_in.session_id) is not None

    assert people.deactivate_user(admin, "mediator", "调离本单位") == 1
    assert open_task(runtime, first, "mediate").claimed_by is None  # back in the committee's pool
    assert open_task(runtime, second, "screen_case").claimed_by is not None  # another's claim stays
    assert users.load(signed_in.session_id) is None
    with runtime.sessions() as session:
        release = session.scalar(
            select(AuditEvent).where(AuditEvent.case_id == first, AuditEvent.action == "release")
        )
        assert release is not None and release.actor == "admin"
        assert release.detail["previous"] == "次仁卓玛" and release.detail["reason"] == "调离本单位"
    event = last_audit(runtime)
    assert event.action == "user_deactivate" and event.detail == {
        "user": "mediator",
        "released_tasks": 1,
        "reason": "调离本单位",
    }
    assert users.authenticate("mediator", DEMO_PASSWORD) is None
    assert last_audit(runtime).action == "login_failure"
    with pytest.raises(Conflict, match="已停用"):
        people.deactivate_user(admin, "mediator", "再次")

    people.reactivate_user(admin, "mediator", "返岗")
    assert users.authenticate("mediator", DEMO_PASSWORD) is not None
    assert users.load(signed_in.session_id) is None  # a session from before stays ended
    assert last_audit(runtime).action == "user_reactivate"
    with pytest.raises(Conflict, match="未停用"):
        people.reactivate_user(admin, "mediator", "再次")


def test_a_password_reset_ends_sessions_and_forces_a_change(
    runtime: Runtime, people: PeopleService, users: UserService, admin: Viewer
) -> None:
    signed_in = users.authenticate("clerk", DEMO_PASSWORD)
    assert signed_in is not None
    people.reset_password(admin, "clerk", NEW_PASSWORD, "忘记密码")
    assert users.load(signed_in.session_id) is None
    event = last_audit(runtime)
    assert (event.action, event.detail) == ("password_reset", {"user": "clerk", "reason": "忘记密码"})
    assert NEW_PASSWORD not in str(event.detail)
    assert users.authenticate("clerk", DEMO_PASSWORD) is None
    again = users.authenticate("clerk", NEW_PASSWORD)
    assert again is not None and again.must_change_password

    before = snapshot(runtime)
    refusals: list[tuple[tuple[str, str, str], str, str]] = [
        (("wrong-password-1", "new-password-1", "new-password-1"), "current_password", "当前密码不正确"),
        ((NEW_PASSWORD, NEW_PASSWORD, NEW_PASSWORD), "new_password", "不能与当前密码相同"),
        ((NEW_PASSWORD, "new-password-1", "new-password-2"), "repeat_password", "两次输入的新密码不一致"),
        ((NEW_PASSWORD, "short1", "short1"), "new_password", "至少需要8个字符"),
    ]
    for (current, new, repeated), field, message in refusals:
        with pytest.raises(InvalidData) as refused:
            users.change_password(again.viewer, current, new, repeated)
        assert message in refused.value.errors[field]
    assert snapshot(runtime) == before
    assert users.load(again.session_id) is not None


def test_reasons_are_required_where_a_change_takes_something_away(
    runtime: Runtime, people: PeopleService, admin: Viewer
) -> None:
    before = snapshot(runtime)
    for call in (
        lambda: people.deactivate_user(admin, "clerk", " "),
        lambda: people.reset_password(admin, "clerk", NEW_PASSWORD, ""),
        lambda: people.delete_organisation(admin, "540100-yl", ""),
        lambda: people.delete_region(admin, "540103002", ""),
    ):
        with pytest.raises(InvalidData) as refused:
            call()
        assert refused.value.errors == {"reason": "请填写原因"}
    assert snapshot(runtime) == before


def test_unknown_users_organisations_and_regions_are_404(people: PeopleService, admin: Viewer) -> None:
    for call in (
        lambda: people.user(admin, "nobody"),
        lambda: people.deactivate_user(admin, "nobody", "原因"),
        lambda: people.organisation(admin, "nowhere"),
        lambda: people.delete_organisation(admin, "nowhere", "原因"),
        lambda: people.region(admin, "999999"),
    ):
        with pytest.raises(NotFound) as missing:
            call()
        assert missing.value.status == 404


ADMIN_CALLS: dict[str, Callable[[PeopleService, Viewer], object]] = {
    "users": lambda p, v: p.users(v, UserFilter()),
    "user": lambda p, v: p.user(v, "clerk"),
    "create_user": lambda p, v: p.create_user(v, "x1", "某", "mediator", "540102001-tw", NEW_PASSWORD),
    "update_user": lambda p, v: p.update_user(v, "clerk", "某", "petition_clerk", "540102001-xf"),
    "deactivate_user": lambda p, v: p.deactivate_user(v, "clerk", "原因"),
    "reactivate_user": lambda p, v: p.reactivate_user(v, "clerk", "原因"),
    "reset_password": lambda p, v: p.reset_password(v, "clerk", NEW_PASSWORD, "原因"),
    "tree": lambda p, v: p.tree(v),
    "organisation": lambda p, v: p.organisation(v, "540100-yl"),
    "create_organisation": lambda p, v: p.create_organisation(
        v, "x-1", "某", "petition_office", "540100", None, None, None
    ),
    "update_organisation": lambda p, v: p.update_organisation(v, "540100-yl", "某", None, None, None),
    "set_document_settings": lambda p, v: p.set_document_settings(v, "540100-yl", "拉医二"),
    "delete_organisation": lambda p, v: p.delete_organisation(v, "540100-yl", "原因"),
    "region": lambda p, v: p.region(v, "540103002"),
    "create_region": lambda p, v: p.create_region(v, "540103003", "某镇", "540103"),
    "update_region": lambda p, v: p.update_region(v, "540103002", "某镇"),
    "delete_region": lambda p, v: p.delete_region(v, "540103002", "原因"),
}


@pytest.mark.parametrize("call", ADMIN_CALLS.values(), ids=ADMIN_CALLS.keys())
def test_only_administrators_may_do_any_of_it(
    runtime: Runtime,
    people: PeopleService,
    users: UserService,
    call: Callable[[PeopleService, Viewer], object],
) -> None:
    before = snapshot(runtime)
    for username in ("clerk", "leader", "mediator", "justice", "policy", "county_clerk"):
        with pytest.raises(Forbidden, match="不是系统管理员"):
            call(people, viewer(users, username))
    assert snapshot(runtime) == before


# ---- regions and organisations ---------------------------------------------------------------------


def test_the_tree_is_the_city_its_counties_and_their_townships_with_their_bodies(
    people: PeopleService, admin: Viewer
) -> None:
    (city,) = people.tree(admin)
    assert (city.code, city.level) == ("540100", "city")
    assert [c.name for c in city.children] == ["城关区", "堆龙德庆区"]
    assert [t.name for t in city.children[0].children] == ["八廓街道", "吉日街道"]
    bakuo = city.children[0].children[0]
    assert [(o.name, o.document_prefix, o.seal_name, o.users) for o in bakuo.organisations] == [
        ("八廓街道司法所", "城八", "八廓街道司法所", 1),
        ("八廓街道人民调解委员会“访调对接”工作室", "城八", "八廓街道人民调解委员会", 1),
        ("八廓街道信访办", "城八", "八廓街道信访办", 2),
    ]


def test_organisations_are_created_edited_and_removed_while_nothing_refers_to_them(
    runtime: Runtime, people: PeopleService, admin: Viewer
) -> None:
    people.create_organisation(
        admin,
        "540102002-jt",
        "吉日街道交通事故纠纷人民调解委员会",
        "trade_mediation",
        "540102002",
        "城吉交",
        "",
        "拉萨市城关区人民法院",
        "新设",
    )
    org = people.organisation(admin, "540102002-jt")
    assert (org.kind, org.region_name, org.document_prefix, org.seal_name, org.court_name, org.users) == (
        "trade_mediation",
        "吉日街道",
        "城吉交",
        None,
        "拉萨市城关区人民法院",
        0,
    )
    people.update_organisation(
        admin,
        "540102002-jt",
        "吉日街道交通事故纠纷调解委员会",
        "城吉交调",
        "吉日街道交通事故纠纷调解委员会",
        "拉萨市城关区人民法院",
    )
    event = last_audit(runtime)
    assert event.action == "organisation" and event.detail["changes"] == {
        "name": ["吉日街道交通事故纠纷人民调解委员会", "吉日街道交通事故纠纷调解委员会"],
        "document_prefix": ["城吉交", "城吉交调"],
        "seal_name": [None, "吉日街道交通事故纠纷调解委员会"],
    }
    before = snapshot(runtime)
    with pytest.raises(InvalidData) as refused:
        people.update_organisation(admin, "540102002-jt", "某", "城八", None, None)
    # another mediation organisation's prefix: their agreements would share numbers
    assert "八廓街道人民调解委员会" in refused.value.errors["document_prefix"]
    with pytest.raises(InvalidData) as refused:
        people.update_organisation(admin, "540102002-jt", "某", "(2026)", None, None)
    assert "文号前缀应为1至16个汉字、字母或数字" in refused.value.errors["document_prefix"]
    with pytest.raises(InvalidData) as refused:
        people.create_organisation(admin, "540102002-jt", "某", "nonsense", "540100", None, None, None)
    assert set(refused.value.errors) == {"code", "kind"}
    assert snapshot(runtime) == before
    # a body of another side may share one: its documents are of other kinds (拉医: the city's medical
    # mediation committee's)
    people.create_organisation(
        admin, "540102002-xf2", "吉日街道第二信访办", "petition_office", "540102002", "拉医", None, None
    )
    assert people.organisation(admin, "540102002-xf2").document_prefix == "拉医"

    people.delete_organisation(admin, "540102002-jt", "误建")
    assert last_audit(runtime).detail == {
        "organisation": "540102002-jt",
        "name": "吉日街道交通事故纠纷调解委员会",
        "reason": "误建",
    }
    with pytest.raises(NotFound):
        people.organisation(admin, "540102002-jt")


def test_an_organisation_with_users_or_cases_cannot_be_removed(
    runtime: Runtime, people: PeopleService, admin: Viewer
) -> None:
    with pytest.raises(Conflict, match="机构“八廓街道司法所”仍有用户 1 名，不能删除"):
        people.delete_organisation(admin, "540102001-sf", "撤销")
    start(runtime)  # a case of 八廓街道: its petition office handles it and holds its first task
    before = snapshot(runtime)
    with pytest.raises(Conflict) as refused:
        people.delete_organisation(admin, "540102001-xf", "撤销")
    assert refused.value.message == "机构“八廓街道信访办”仍有用户 2 名、案件 1 件、待办任务 1 项，不能删除"
    assert refused.value.status == 409
    assert snapshot(runtime) == before
    people.deactivate_user(admin, "justice2", "调离")  # an inactive user still refers to it
    with pytest.raises(Conflict, match="用户 1 名"):
        people.delete_organisation(admin, "540103001-sf", "撤销")


def test_regions_are_created_under_a_county_and_removed_while_empty(
    runtime: Runtime, people: PeopleService, admin: Viewer
) -> None:
    people.create_region(admin, "540102003", "纳金街道", "540102", "区划调整")
    region = people.region(admin, "540102003")
    assert (region.level, region.parent_code) == ("township", "540102")
    people.update_region(admin, "540102003", "纳金乡")
    assert people.region(admin, "540102003").name == "纳金乡"
    before = snapshot(runtime)
    for code, name, parent, field, message in (
        ("540102004", "某村", "540102003", "parent_code", "乡镇（街道）之下不能再设区域"),
        ("540102003", "重复", "540102", "code", "该区划代码已被使用"),
        ("ABC", "某地", "540102", "code", "6至12位数字"),
        ("540102005", "", "540102", "name", "请填写名称"),
    ):
        with pytest.raises(InvalidData) as refused:
            people.create_region(admin, code, name, parent)
        assert message in refused.value.errors[field]
    with pytest.raises(Conflict, match="区域“八廓街道”仍有机构 3 个，不能删除"):
        people.delete_region(admin, "540102001", "撤销")
    with pytest.raises(Conflict, match="区域“城关区”仍有下级区域 3 个、机构 3 个，不能删除"):
        people.delete_region(admin, "540102", "撤销")
    with pytest.raises(Forbidden, match="不能删除您自己所在的区域"):
        people.delete_region(admin, "540100", "撤销")
    assert snapshot(runtime) == before
    people.delete_region(admin, "540102003", "区划调整")
    assert last_audit(runtime).action == "region_delete"


def test_a_region_with_cases_cannot_be_removed(
    runtime: Runtime, people: PeopleService, admin: Viewer
) -> None:
    start(runtime, locality="540102002")
    for code in ("540102002-xf", "540102002-tw", "540102002-sf"):
        with pytest.raises(FangtiaoError):
            people.delete_organisation(admin, code, "撤销")  # users or the case refer to them
    with pytest.raises(Conflict, match="案件 1 件"):
        people.delete_region(admin, "540102002", "撤销")
