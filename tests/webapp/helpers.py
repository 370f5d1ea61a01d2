"""Helpers for web tests: logging in as a demo user, reading a page's text."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from orchestration.engine.runtime import Runtime
from orchestration.services.demo import DEMO_PASSWORD
from orchestration.store.models import Case


def login(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> TestResponse:
    client.post("/logout")  # signing in while signed in would keep the first user
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def text(response: TestResponse) -> str:
    """The page as a reader sees it: tags removed, entities decoded, whitespace collapsed."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))


def element(response: TestResponse, element_id: str) -> str:
    """The opening tag and following markup of the element with that id (for attribute checks)."""
    body = response.get_data(as_text=True)
    match = re.search(rf'<[^>]*\bid="{re.escape(element_id)}"[^>]*>', body)
    assert match is not None, f"no element #{element_id}"
    return body[match.start() : match.start() + 2000]


def case_revision(runtime: Runtime, case_id: int) -> int:
    """The revision a task page would carry in its hidden field."""
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.revision
