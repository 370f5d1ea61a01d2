"""Every demo user × every page: allowed (200), forbidden (403), or sent to log in (302 / 401 for the API).

Case A is in 八廓街道 (城关区) and referred to mediation; case B is in 八廓街道 and still being screened.
The administrators' console is listed route by route (every GET and POST under /admin, checked against
the app's own routes, so a new one cannot be left out): only administrators reach any of it, and a
refused POST writes nothing.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from orchestration.domain.procedure import read_directories
from orchestration.engine.runtime import Runtime
from orchestration.services.demo import USERS
from orchestration.store.models import (
    AuditEvent,
    CalendarDay,
    Case,
    Document,
    Incident,
    OpenTask,
    Organisation,
    Region,
    Timer,
    User,
)
from tests.helpers import advance_to, open_task, start
from tests.orchestration.services.procedure_edits import ten_day_mediation
from tests.webapp.helpers import login

EVERYONE = {u[0] for u in USERS}
CASE_USERS = EVERYONE - {"policy"}
# Who sees each case: its handling organisations, the supervising county/city organisations, the admin.
CASE_A = {
    "clerk",
    "leader",
    "mediator",
    "justice",
    "county_clerk",
    "county_mediator",
    "county_justice",
    "city_mediator",
    "admin",
}
CASE_B = {"clerk", "leader", "county_clerk", "admin"}  # not referred yet: no mediation or justice users
PROCEDURE = {"policy", "admin"}  # 流程管理: policy officers change the procedure, administrators may read

PAGES: dict[str, set[str]] = {
    "/tasks": EVERYONE,
    "/tasks/done": EVERYONE,
    "/tasks/team": {"leader", "leader2"},
    "/register": {"clerk", "clerk2", "county_clerk"},
    "/cases": CASE_USERS,
    "/cases/{a}": CASE_A,
    "/cases/{b}": CASE_B,
    "/cases/{a}/diagram.bpmn": CASE_A,
    "/tasks/{b_task}": {"clerk"},
    "/tasks/{a_task}": {"mediator"},
    "/documents/{a_document}": CASE_A,
    "/notifications": EVERYONE,
    "/privacy-notices/2026-01": EVERYONE,
    "/api/tasks": EVERYONE,
    "/api/cases/{a}": CASE_A,
    "/api/cases/{b}": CASE_B,
    "/account/password": EVERYONE,
    "/policy": PROCEDURE,
    "/policy/processes/fangtiao_referral": PROCEDURE,
    "/policy/versions/1/export.zip": PROCEDURE,
    "/policy/versions/1": PROCEDURE,
    "/policy/versions/1/diagram.bpmn": PROCEDURE,
}

ADMINS = {"admin"}
CASE_NO = "FT2026-000001"
NOTICE = b'{"holidays": {"2027-01-01": "\xe5\x85\x83\xe6\x97\xa6"}}'
# Every route of the console: (method, rule) -> (URL, form data that would succeed for an administrator,
# in this order: the region created is the one removed).
ADMIN_ROUTES: dict[tuple[str, str], tuple[str, dict[str, object]]] = {
    ("GET", "/admin"): ("/admin", {}),
    ("GET", "/admin/health"): ("/admin/health", {}),
    ("GET", "/admin/users"): ("/admin/users", {}),
    ("GET", "/admin/users/new"): ("/admin/users/new", {}),
    ("POST", "/admin/users/new"): (
        "/admin/users/new",
        {
            "username": "clerk3",
            "display_name": "卓嘎",
            "role": "petition_clerk",
            "org_code": "540102002-xf",
            "password": "temporary-2026",
        },
    ),
    ("GET", "/admin/users/<username>"): ("/admin/users/clerk", {}),
    ("POST", "/admin/users/<username>"): (
        "/admin/users/clerk",
        {"display_name": "王芳芳", "role": "petition_clerk", "org_code": "540102001-xf"},
    ),
    ("POST", "/admin/users/<username>/deactivate"): ("/admin/users/clerk/deactivate", {"reason": "调离"}),
    ("POST", "/admin/users/<username>/reactivate"): ("/admin/users/clerk/reactivate", {"reason": "返岗"}),
    ("POST", "/admin/users/<username>/sessions/end"): (
        "/admin/users/clerk/sessions/end",
        {"reason": "设备遗失"},
    ),
    ("POST", "/admin/users/<username>/password"): (
        "/admin/users/clerk/password",
        {"password": "temporary-2026", "reason": "忘记密码"},
    ),
    ("GET", "/admin/organisations"): ("/admin/organisations", {}),
    ("GET", "/admin/organisations/new"): ("/admin/organisations/new", {}),
    ("POST", "/admin/organisations/new"): (
        "/admin/organisations/new",
        {"code": "x-1", "name": "某信访办", "kind": "petition_office", "region_code": "540103002"},
    ),
    ("GET", "/admin/organisations/<code>"): ("/admin/organisations/540100-yl", {}),
    ("POST", "/admin/organisations/<code>"): ("/admin/organisations/540100-yl", {"name": "改名"}),
    ("POST", "/admin/organisations/<code>/delete"): (
        "/admin/organisations/540100-yl/delete",
        {"reason": "撤销"},
    ),
    ("GET", "/admin/regions/new"): ("/admin/regions/new", {}),
    ("POST", "/admin/regions/new"): (
        "/admin/regions/new",
        {"code": "540103003", "name": "某镇", "parent_code": "540103"},
    ),
    ("GET", "/admin/regions/<code>"): ("/admin/regions/540103002", {}),
    ("POST", "/admin/regions/<code>"): ("/admin/regions/540103002", {"name": "某镇"}),
    ("POST", "/admin/regions/<code>/delete"): ("/admin/regions/540103003/delete", {"reason": "撤销"}),
    ("GET", "/admin/calendar"): ("/admin/calendar", {}),
    ("POST", "/admin/calendar/day"): (
        "/admin/calendar/day",
        {"day": "2027-01-04", "kind": "rest", "note": "调休", "confirm": "1"},
    ),
    ("POST", "/admin/calendar/load"): (
        "/admin/calendar/load",
        {"year": "2027", "schedule": NOTICE.decode(), "confirm": "1"},
    ),
    ("GET", "/admin/audit"): ("/admin/audit", {}),
    ("GET", "/admin/audit.csv"): ("/admin/audit.csv", {}),
    ("GET", "/admin/tokens"): ("/admin/tokens", {}),
    ("POST", "/admin/tokens"): (
        "/admin/tokens",
        {"name": "省信访信息系统", "username": "clerk", "days": "30"},
    ),
    ("POST", "/admin/tokens/<int:token_id>/revoke"): ("/admin/tokens/1/revoke", {"reason": "停用"}),
    # the instances, on the case `console_case` makes; "<…>" values are read from it when posted
    ("GET", "/admin/instances"): ("/admin/instances", {}),
    ("GET", "/admin/instances/<case_no>"): (f"/admin/instances/{CASE_NO}", {}),
    ("GET", "/admin/instances/<case_no>/diagram.bpmn"): (f"/admin/instances/{CASE_NO}/diagram.bpmn", {}),
    ("POST", "/admin/instances/<case_no>/suspend"): (
        f"/admin/instances/{CASE_NO}/suspend",
        {"reason": "核实"},
    ),
    ("POST", "/admin/instances/<case_no>/resume"): (
        f"/admin/instances/{CASE_NO}/resume",
        {"reason": "核实完毕"},
    ),
    ("POST", "/admin/instances/<case_no>/reassign"): (
        f"/admin/instances/{CASE_NO}/reassign",
        {"task": "<task>", "username": "mediator", "reason": "指定"},
    ),
    ("POST", "/admin/instances/<case_no>/retry"): (f"/admin/instances/{CASE_NO}/retry", {"reason": "已修复"}),
    ("POST", "/admin/instances/<case_no>/fire-timer"): (
        f"/admin/instances/{CASE_NO}/fire-timer",
        {"timer": "<timer>", "reason": "提前"},
    ),
    ("POST", "/admin/instances/<case_no>/reset"): (
        f"/admin/instances/{CASE_NO}/reset",
        {"task": "<reset>", "reason": "选错调解组织"},
    ),
    ("POST", "/admin/instances/<case_no>/migrate"): (
        f"/admin/instances/{CASE_NO}/migrate",
        {"version": "2", "reason": "按新版办理"},
    ),
    ("POST", "/admin/instances/<case_no>/terminate"): (
        f"/admin/instances/{CASE_NO}/terminate",
        {"reason": "重复登记"},
    ),
    ("POST", "/admin/instances/bulk"): ("/admin/instances/bulk", {"action": "suspend", "reason": "维护"}),
}


@pytest.fixture
def console_case(runtime: Runtime) -> int:
    """A case referred to mediation, with a timer, an incident and a second version to migrate to."""
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")
    runtime.deploy_files(ten_day_mediation(read_directories(runtime.processes_dir, runtime.forms_dir)))
    with runtime.transaction() as session:
        session.add(Incident(case_id=case_id, kind="timer", message="失败", created_at=runtime.clock.now()))
    return case_id


def _resolved(runtime: Runtime, case_id: int, data: dict[str, object]) -> dict[str, object]:
    """The form data with the case's current ids in place of "<task>", "<timer>" and "<reset>"."""
    with runtime.sessions() as session:
        ids = {
            "<task>": session.scalar(select(OpenTask.id).where(OpenTask.case_id == case_id)),
            "<timer>": session.scalar(select(Timer.task_id).where(Timer.case_id == case_id)),
            "<reset>": next(
                (
                    e.detail["task_id"]
                    for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id))
                    if e.task_name == "draft_referral" and e.action == "complete"
                ),
                None,
            ),
        }
    return {key: ids.get(value, value) if isinstance(value, str) else value for key, value in data.items()}


@pytest.fixture
def places(runtime: Runtime) -> dict[str, str]:
    a = start(runtime)
    a_task = advance_to(runtime, a, "mediate")
    b = start(runtime)
    with runtime.sessions() as session:
        numbers = {c.id: c.case_no for c in session.scalars(select(Case))}
        document = session.scalar(select(Document.id).where(Document.case_id == a))
    return {
        "a": numbers[a],
        "b": numbers[b],
        "a_task": a_task.id,
        "b_task": open_task(runtime, b, "screen_case").id,
        "a_document": str(document),
    }


@pytest.mark.parametrize("username", sorted(EVERYONE))
def test_each_user_on_each_page(client: FlaskClient, places: dict[str, str], username: str) -> None:
    login(client, username)
    outcomes = {}
    for pattern, allowed in PAGES.items():
        status = client.get(pattern.format(**places)).status_code
        outcomes[pattern] = status
        assert status == (200 if username in allowed else 403), (username, pattern, status)


def test_anonymous_is_sent_to_log_in(client: FlaskClient, places: dict[str, str]) -> None:
    for pattern in PAGES:
        url = pattern.format(**places)
        response = client.get(url)
        if url.startswith("/api/"):
            assert response.status_code == 401, url
        else:
            assert response.status_code == 302 and response.location.startswith("/login?next="), url
    for url in (
        "/logout",
        "/notifications/read-all",
        f"/cases/{places['a']}/reveal",
        f"/cases/{places['a']}/extend-petition",
    ):
        response = client.post(url)
        assert response.status_code == 302, url


@pytest.mark.parametrize("username", sorted(CASE_USERS))
def test_only_the_case_petition_office_leader_may_extend_its_limit(
    client: FlaskClient, runtime: Runtime, places: dict[str, str], username: str
) -> None:
    """Case B is still at screening, so even its leader is answered with a refusal on the page (302), while
    everyone else is forbidden outright and nothing is written."""
    login(client, username)
    before = _written(runtime)
    status = client.post(f"/cases/{places['b']}/extend-petition", data={"reason": "案情复杂"}).status_code
    assert status == (302 if username == "leader" else 403), (username, status)
    assert _written(runtime) == before


def test_the_table_lists_every_route_of_the_console(app: Flask) -> None:
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert routes == set(ADMIN_ROUTES)


def _written(runtime: Runtime) -> tuple[object, ...]:
    """What any POST of the console would write."""
    with runtime.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(AuditEvent)),
            list(session.execute(select(User.username, User.display_name, User.active, User.password_hash))),
            list(session.execute(select(Organisation.code, Organisation.name))),
            list(session.execute(select(Region.code, Region.name))),
            list(session.execute(select(CalendarDay.day, CalendarDay.is_working))),
            list(session.execute(select(Case.case_no, Case.status, Case.revision, Case.version_id))),
            list(session.execute(select(OpenTask.id, OpenTask.claimed_by))),
            list(session.execute(select(Incident.id, Incident.resolved_at))),
        )


@pytest.mark.parametrize("username", sorted(EVERYONE))
def test_only_administrators_reach_the_console(
    client: FlaskClient, runtime: Runtime, console_case: int, username: str
) -> None:
    login(client, username)
    before = _written(runtime)
    for (method, rule), (url, data) in ADMIN_ROUTES.items():
        if method == "GET":
            status = client.get(url).status_code
            assert status == (200 if username in ADMINS else 403), (username, rule, status)
        elif username not in ADMINS:
            status = client.post(url, data=_resolved(runtime, console_case, data)).status_code
            assert status == 403, (username, rule, status)
    if username not in ADMINS:
        assert _written(runtime) == before


def test_an_administrators_posts_are_accepted(
    client: FlaskClient, runtime: Runtime, console_case: int
) -> None:
    """The data of the table is what succeeds, so a refusal above is the role check's, not the data's."""
    login(client, "admin")
    for (method, rule), (url, data) in ADMIN_ROUTES.items():
        if method == "POST":
            status = client.post(url, data=_resolved(runtime, console_case, data)).status_code
            # A new token's secret is shown once, on the answer itself rather than after a redirect.
            assert status == (201 if rule == "/admin/tokens" else 302), (rule, status)


def test_a_visitor_is_sent_to_log_in_from_every_route_of_the_console(
    client: FlaskClient, runtime: Runtime, console_case: int
) -> None:
    before = _written(runtime)
    for (method, rule), (url, data) in ADMIN_ROUTES.items():
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        assert response.status_code == 302 and response.location.startswith("/login?next="), (method, rule)
    assert _written(runtime) == before
