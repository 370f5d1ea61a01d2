"""Every demo user × every page: allowed (200), forbidden (403), or sent to log in (302 / 401 for the API).

Case A is in 八廓街道 (城关区) and referred to mediation; case B is in 八廓街道 and still being screened.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from orchestration.engine.runtime import Runtime
from orchestration.services.demo import USERS
from orchestration.store.models import Case, Document
from tests.helpers import advance_to, open_task, start
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
    "city_mediator",
    "admin",
}
CASE_B = {"clerk", "leader", "county_clerk", "admin"}  # not referred yet: no mediation or justice users

PAGES: dict[str, set[str]] = {
    "/tasks": EVERYONE,
    "/tasks/done": EVERYONE,
    "/tasks/team": {"leader", "leader2"},
    "/register": {"clerk", "clerk2", "county_clerk"},
    "/cases": CASE_USERS,
    "/cases/{a}": CASE_A,
    "/cases/{b}": CASE_B,
    "/tasks/{b_task}": {"clerk"},
    "/tasks/{a_task}": {"mediator"},
    "/documents/{a_document}": CASE_A,
    "/notifications": EVERYONE,
    "/privacy-notices/2026-01": EVERYONE,
    "/api/tasks": EVERYONE,
    "/api/cases/{a}": CASE_A,
    "/api/cases/{b}": CASE_B,
}


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
    for url in ("/logout", "/notifications/read-all", f"/cases/{places['a']}/reveal"):
        response = client.post(url)
        assert response.status_code == 302, url
