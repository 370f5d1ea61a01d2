"""No 500 on odd input (issue 11, finding 3): every request below answers 4xx with a Chinese message and
writes nothing, on SQLite and PostgreSQL; a file name with CR/LF is cleaned at upload and stays
downloadable."""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from orchestration.engine.runtime import Runtime
from orchestration.store.models import Attachment, Base
from tests.helpers import REGISTRATION, advance_to, start
from tests.webapp.helpers import case_revision, login, text

HUGE = 2**63
INT32_OVER = 2**31
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# tables a refused request may still touch: none of them hold what the request asked to change
UNTOUCHED = [t for t in Base.metadata.sorted_tables if t.name not in {"user_sessions", "login_failures"}]


def _counts(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) or 0 for t in UNTOUCHED}


def _nested(depth: int) -> str:
    return '{"expected_revision": 1, "data": {"facts": ' + "[" * depth + "]" * depth + "}}"


# (label, method, path with {task} and {revision} placeholders, keyword arguments of the request)
ODD: list[tuple[str, str, str, dict[str, Any]]] = [
    ("superscript page", "GET", "/tasks?page=²", {}),
    ("30-digit page", "GET", "/cases?page=" + "9" * 30, {}),
    ("30-digit page of notifications", "GET", "/notifications?page=" + "9" * 30, {}),
    ("2^63 document", "GET", f"/documents/{HUGE}", {}),
    ("2^31 document", "GET", f"/documents/{INT32_OVER}", {}),
    ("2^63 full document", "GET", f"/documents/{HUGE}?full=1", {}),
    ("2^63 attachment", "GET", f"/attachments/{HUGE}", {}),
    ("2^31 attachment", "GET", f"/attachments/{INT32_OVER}", {}),
    ("2^63 notification", "POST", f"/notifications/{HUGE}/read", {}),
    ("2^31 notification", "POST", f"/notifications/{INT32_OVER}/read", {}),
    ("2^31 document correction", "GET", f"/documents/{INT32_OVER}/correct", {}),
    (
        "arabic-indic revision",
        "POST",
        "/tasks/{task}",
        {"data": {"dispute_category": "citizen_property", "expected_revision": "١"}},
    ),
    (
        "5000-digit revision",
        "POST",
        "/tasks/{task}",
        {"data": {"dispute_category": "citizen_property", "expected_revision": "9" * 5000}},
    ),
    (
        "api: 2^40 revision",
        "POST",
        "/api/tasks/{task}/complete",
        {"json": {"expected_revision": 2**40, "data": {"dispute_category": "citizen_property"}}},
    ),
    (
        "api: 5000-digit revision",
        "POST",
        "/api/tasks/{task}/complete",
        {
            "data": '{"expected_revision": ' + "9" * 5000 + ', "data": {}}',
            "content_type": "application/json",
        },
    ),
    (
        "api: JSON nested 100,000 deep",
        "POST",
        "/api/tasks/{task}/complete",
        {"data": _nested(100_000), "content_type": "application/json"},
    ),
    (
        "api: JSON nested 200 deep",
        "POST",
        "/api/tasks/{task}/complete",
        {"data": _nested(200), "content_type": "application/json"},
    ),
    (
        "api: lone surrogate in task data",
        "POST",
        "/api/tasks/{task}/complete",
        {
            "data": '{"expected_revision": {revision}, "data": {"dispute_category": "citizen_property", '
            '"screening_notes": "\\ud800"}}',
            "content_type": "application/json",
        },
    ),
    (
        "api: NUL in task data",
        "POST",
        "/api/tasks/{task}/complete",
        {
            "data": '{"expected_revision": {revision}, "data": {"dispute_category": "citizen_property", '
            '"screening_notes": "a\\u0000b"}}',
            "content_type": "application/json",
        },
    ),
    ("NUL in a task filter", "GET", "/tasks?case_no=FT%00", {}),
    ("NUL in a step filter", "GET", "/tasks?step=screen%00case", {}),
    ("NUL in the case search", "GET", "/cases?q=%E5%BC%A0%00", {}),
    ("NUL in the api's filter", "GET", "/api/tasks?case_no=%00", {}),
    ("NUL in a case number", "GET", "/cases/FT2026-000001%00", {}),
    ("NUL in a case number (api)", "GET", "/api/cases/FT2026%00", {}),
    ("NUL in a task id", "GET", "/tasks/abc%00", {}),
    ("NUL in the login name", "POST", "/login", {"data": {"username": "clerk\x00", "password": "x"}}),
    (
        "NUL in a registration field",
        "POST",
        "/register",
        {"data": {**{k: str(v) for k, v in REGISTRATION.items()}, "petitioner_name": "张\x00三"}},
    ),
    (
        "NUL in task data (form)",
        "POST",
        "/tasks/{task}",
        {
            "data": {
                "dispute_category": "citizen_property",
                "screening_notes": "a\x00b",
                "expected_revision": "{revision}",
            }
        },
    ),
    (
        "NUL in a file name",
        "POST",
        "/tasks/{consent_task}",
        {
            "data": {
                "explanation_given": "true",
                "privacy_notice_given": "true",
                "consent": "agree",
                "consent_documents": [("upload", "同意\x00书.pdf")],
                "expected_revision": "{consent_revision}",
            },
            "content_type": "multipart/form-data",
        },
    ),
]


def _fill(value: Any, places: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, place in places.items():
            value = value.replace("{" + key + "}", place)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, places) for k, v in value.items()}
    if isinstance(value, list):
        # a file is made for each request: the test client closes what it sent
        return [
            (io.BytesIO(b"%PDF-1.4"), v[1], "application/pdf") if isinstance(v, tuple) else v for v in value
        ]
    return value


@pytest.mark.parametrize(("label", "method", "path", "kwargs"), ODD, ids=[o[0] for o in ODD])
def test_odd_input_is_refused_in_chinese_and_writes_nothing(
    client: FlaskClient, runtime: Runtime, label: str, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    case_id = start(runtime)
    other = start(runtime)
    consent = advance_to(runtime, other, "guide_divert")
    screen = advance_to(runtime, case_id, "screen_case")
    places = {
        "task": screen.id,
        "revision": str(case_revision(runtime, case_id)),
        "consent_task": consent.id,
        "consent_revision": str(case_revision(runtime, other)),
    }
    login(client, "clerk")
    before = _counts(runtime)
    response = client.open(_fill(path, places), method=method, **_fill(kwargs, places))
    assert 400 <= response.status_code < 500, (label, response.status_code)
    if response.is_json:
        body = response.get_json()
        assert CHINESE.search(body["error"]), body
    else:
        assert CHINESE.search(text(response)), label
    assert _counts(runtime) == before, label


def _multipart(fields: dict[str, str], field: str, encoded_name: str, content: bytes) -> bytes:
    """A multipart body whose file name is given as RFC 5987 filename*=, the way a client can send a
    name with CR/LF (a plain quoted filename cannot carry them)."""
    parts = [
        f'--B\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f"--B\r\nContent-Disposition: form-data; name=\"{field}\"; filename*=UTF-8''{encoded_name}\r\n"
        "Content-Type: application/pdf\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + b"--B--\r\n"


def test_a_file_name_with_line_breaks_is_cleaned_and_downloads(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "guide_divert")
    login(client, "clerk")
    body = _multipart(
        {
            "explanation_given": "true",
            "privacy_notice_given": "true",
            "consent": "agree",
            "expected_revision": str(case_revision(runtime, case_id)),
        },
        "consent_documents",
        quote("同意\r\nX-Evil: 1\r\n书\t.pdf"),
        b"%PDF-1.4",
    )
    response = client.post(f"/tasks/{task.id}", data=body, content_type="multipart/form-data; boundary=B")
    assert response.status_code == 302, text(response)
    with runtime.sessions() as session:
        stored = session.scalar(select(Attachment).where(Attachment.case_id == case_id))
        assert stored is not None
    assert stored.filename == "同意 X-Evil: 1 书 .pdf"
    download = client.get(f"/attachments/{stored.id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4"
    assert "X-Evil" not in download.headers
    assert "\n" not in download.headers["Content-Disposition"]


def test_a_file_name_stored_before_with_line_breaks_still_downloads(
    client: FlaskClient, runtime: Runtime
) -> None:
    """Attachments uploaded before names were cleaned: the Content-Disposition cleans them too."""
    case_id = start(runtime)
    advance_to(runtime, case_id, "guide_divert")
    with runtime.transaction() as session:
        row = Attachment(
            case_id=case_id,
            filename="同意\r\n书.pdf",
            content_type="application/pdf",
            size=4,
            sha256=hashlib.sha256(b"%PDF").hexdigest(),
            content=b"%PDF",
            uploaded_at=datetime(2026, 11, 2, tzinfo=UTC),
            uploaded_by="clerk",
        )
        session.add(row)
        session.flush()
        attachment_id = row.id
    login(client, "clerk")
    download = client.get(f"/attachments/{attachment_id}")
    assert download.status_code == 200 and download.data == b"%PDF"
    assert json.dumps(download.headers["Content-Disposition"]).count("\\r") == 0
