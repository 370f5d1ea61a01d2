"""The privacy notice where consent is recorded: a form with the `privacy_notice_given` field (part P's
consent steps) shows the notice in force with the case's organisations; completing it records the version
shown; the notice has its own printable page; the case page lists each party's consent and notice.

Both consent steps carry the field: 引导分流 (the petitioner) and 征求对方当事人意见 (the respondent)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.errors import InvalidData
from orchestration.services import demo
from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.store.db import make_session_factory
from orchestration.store.models import AuditEvent, Case
from tests.helpers import SUCCESS_PATH, actor, advance_to, complete, open_task, set_case_data, start
from tests.webapp.helpers import case_revision, login, text
from webapp import create_app
from webapp.context import SERVICES_KEY

HEADINGS = ("一、谁处理您的个人信息", "五、向谁提供", "六、保存多久", "七、您的权利和行使方式")
CONSENT = next(data for name, _, data in SUCCESS_PATH if name == "guide_divert")


@pytest.fixture
def forms_dir(tmp_path: Path) -> Path:
    """A copy of forms/ (its consent steps carry the field the notice is recorded with)."""
    folder = tmp_path / "forms"
    shutil.copytree(PROJECT_ROOT / "forms", folder)
    assert (
        "privacy_notice_given"
        in json.loads((folder / "guide_divert.json").read_text(encoding="utf-8"))["schema"]["required"]
    )
    return folder


@pytest.fixture
def consent_runtime(engine: Engine, clock: FrozenClock, forms_dir: Path) -> Runtime:
    runtime = Runtime(make_session_factory(engine), clock, forms_dir=forms_dir)
    with runtime.sessions() as session, session.begin():
        demo.seed(session)
    runtime.deploy()
    return runtime


@pytest.fixture
def consent_client(
    database_url: str, consent_runtime: Runtime, clock: FrozenClock, forms_dir: Path, tmp_path: Path
) -> Iterator[FlaskClient]:
    settings = Settings.from_env({}, database_url=database_url, forms_dir=forms_dir)
    app: Flask = create_app(
        {
            "TESTING": True,
            "CLOCK": clock,
            "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": False,
            "INSTANCE_PATH": str(tmp_path / "instance"),
        },
        settings,
    )
    yield app.test_client()
    app.extensions[SERVICES_KEY].close()


def test_the_consent_form_shows_the_notice_in_force_with_the_cases_organisations(
    consent_client: FlaskClient, consent_runtime: Runtime
) -> None:
    case_id = start(consent_runtime)
    screening = advance_to(consent_runtime, case_id, "screen_case")
    login(consent_client, "clerk")
    assert 'id="privacy-notice"' not in consent_client.get(f"/tasks/{screening.id}").get_data(as_text=True)

    task = advance_to(consent_runtime, case_id, "guide_divert")
    page = consent_client.get(f"/tasks/{task.id}")
    shown = text(page)
    assert 'data-version="2026-01"' in page.get_data(as_text=True)
    assert "“访调对接”个人信息处理告知书" in shown and "2026年第1版" in shown
    assert all(heading in shown for heading in HEADINGS)
    assert "自案件办结之日起在系统中保存10年" in shown
    assert "本案机构 信访部门：八廓街道信访办" in shown
    assert "八廓街道人民调解委员会" in shown  # the receiving organisation the locality gives
    assert "/privacy-notices/2026-01" in page.get_data(as_text=True)


def test_completing_the_consent_records_the_version_the_party_was_shown(
    consent_client: FlaskClient, consent_runtime: Runtime
) -> None:
    case_id = start(consent_runtime)
    task = advance_to(consent_runtime, case_id, "guide_divert")
    clerk = actor(consent_runtime, "clerk")
    with pytest.raises(InvalidData):  # the version is the server's to record
        complete(
            consent_runtime,
            task.id,
            {**CONSENT, "privacy_notice_given": True, "privacy_notice_version": "1999-01"},
            clerk,
        )
    login(consent_client, "clerk")
    sent = consent_client.post(
        f"/tasks/{task.id}",
        data={
            "expected_revision": case_revision(consent_runtime, case_id),
            "privacy_notice_given": "on",
            "explanation_given": "on",
            "consent": "refuse",
            "refusal_reason": "不愿调解",
        },
    )
    assert sent.status_code == 302, text(sent)[:500]
    with consent_runtime.sessions() as session:
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.task_name == "guide_divert")
        )
        assert event is not None
        assert event.detail["data"]["privacy_notice_given"] is True
        assert event.detail["data"]["privacy_notice_version"] == "2026-01"
        case = session.get(Case, case_id)
        assert case is not None
        data = consent_runtime.case_data(session, case)
        assert data["privacy_notice_version"] == "2026-01"
        # the consent record the case page lists copies the version and when the party was told
        assert data["petitioner_consent"]["privacy_notice_version"] == "2026-01"
        assert data["petitioner_consent"]["decision"] == "refuse"
        assert data["petitioner_consent"]["informed_at"]


def test_a_form_without_the_notice_records_no_version(runtime: Runtime) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "screen_case")
    screening = next(data for name, _, data in SUCCESS_PATH if name == "screen_case")
    runtime.complete_task(task.id, screening, actor(runtime, "clerk"))
    with runtime.sessions() as session:
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.task_name == "screen_case")
        )
        assert event is not None and "privacy_notice_version" not in event.detail["data"]
    assert open_task(runtime, case_id, "guide_divert")


def test_the_notice_has_a_printable_page_per_version(client: FlaskClient) -> None:
    login(client, "mediator")
    page = client.get("/privacy-notices/2026-01")
    assert page.status_code == 200
    assert all(heading in text(page) for heading in HEADINGS)
    assert client.get("/privacy-notices/1999-01").status_code == 404


def test_the_case_page_lists_each_consent_and_the_notice_given(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    set_case_data(
        runtime,
        case_id,
        petitioner_consent={
            "decision": "agree",
            "informed_at": "2026-11-02T10:00:00+08:00",
            "by": "clerk",
            "privacy_notice_given": True,
            "privacy_notice_version": "2026-01",
            "documents": [],
        },
        respondent_consent={"decision": "refuse", "by": "clerk", "documents": []},
    )
    login(client, "clerk")
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        number = case.case_no
    page = client.get(f"/cases/{number}")
    shown = text(page)
    assert (
        "信访人意见 同意人民调解；已告知个人信息处理规则（ 版本 2026-01 ），告知时间 2026年11月2日 10:00"
        in shown
    )
    assert "对方当事人意见 不同意人民调解；未记录告知个人信息处理规则" in shown
    assert 'href="/privacy-notices/2026-01"' in page.get_data(as_text=True)
