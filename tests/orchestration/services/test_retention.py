"""Retention of closed cases: a case past the period is anonymised (nothing personal left in any of its rows)
or purged; a case inside it is untouched; each run is audited and running again changes nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from orchestration.domain.access import Viewer
from orchestration.domain.forms import Upload
from orchestration.engine.clock import SHANGHAI, FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.errors import Forbidden
from orchestration.services import Services
from orchestration.services.retention import RetentionMode, retention_cutoff
from orchestration.store.models import Attachment, AuditEvent, Base, Case, Document
from orchestration.vocabulary import AuditAction, CaseStatus
from tests.conftest import START
from tests.helpers import SUCCESS_PATH, actor, complete, open_task, start

PETITIONER_ID, RESPONDENT_ID = "540102199001011234", "540102198505055678"
PETITIONER_PHONE, RESPONDENT_PHONE = "13800138000", "13900139000"
ADDRESS = "八廓街道冲赛康社区"
PERSONAL = ("张三", "李四", PETITIONER_ID, RESPONDENT_ID, PETITIONER_PHONE, RESPONDENT_PHONE, ADDRESS)
YEARS = 10


def closed_case(runtime: Runtime, petitioner: str = "张三", respondent: str = "李四") -> int:
    """A case along the whole success path, its parties' particulars in fields, free text and an upload;
    left at its last step (the follow-up visit), which closes it."""
    case_id = start(
        runtime,
        petitioner_name=petitioner,
        respondent_name=respondent,
        matter=f"{petitioner}与{respondent}院墙归属纠纷",
        petitioner_address=ADDRESS,
        respondent_id_number=RESPONDENT_ID,
        respondent_phone=RESPONDENT_PHONE,
        facts=f"{petitioner}（住{ADDRESS}，电话{PETITIONER_PHONE}）与{respondent}因院墙归属发生争执。",
    )
    upload = Upload(f"{petitioner}同意书.pdf", "application/pdf", f"%PDF {PETITIONER_ID}".encode())
    for name, username, data in SUCCESS_PATH:
        if name == "follow_up_visit":
            return case_id
        task = open_task(runtime, case_id, name)
        files = None
        if name == "guide_divert":
            data = {k: v for k, v in data.items() if k != "consent_documents"}
            files = {"consent_documents": [upload]}
        elif name == "draft_referral":
            data = {
                **data,
                "referral_summary": f"{petitioner}与{respondent}（电话{RESPONDENT_PHONE}）院墙纠纷",
            }
        complete(runtime, task.id, data, actor(runtime, username), files=files)
    raise AssertionError("the success path has no follow-up visit")


def close(runtime: Runtime, case_id: int) -> None:
    data = next(data for name, _, data in SUCCESS_PATH if name == "follow_up_visit")
    runtime.complete_task(open_task(runtime, case_id, "follow_up_visit").id, data, actor(runtime, "mediator"))


def rows_of(engine: Engine, case_id: int) -> dict[str, list[str]]:
    """Every row of every table that belongs to the case, as text."""
    found: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            column = table.c.get("case_id") if table.name != "cases" else table.c.id
            if column is None:
                continue
            rows = connection.execute(select(table).where(column == case_id)).mappings()
            texts = [json.dumps(dict(row), default=repr, ensure_ascii=False) for row in rows]
            if texts:
                found[table.name] = texts
    return found


@pytest.fixture
def services(engine: Engine, runtime: Runtime, clock: FrozenClock) -> Services:
    return Services(engine, clock)


@pytest.fixture
def admin(services: Services) -> Viewer:
    viewer = services.users.viewer("admin")
    assert viewer is not None
    return viewer


@pytest.fixture
def two_cases(runtime: Runtime, clock: FrozenClock) -> tuple[int, int]:
    """(closed on 2 November 2026, closed a day later), and the clock ten years after the first closed."""
    old, recent = closed_case(runtime), closed_case(runtime, "王五", "赵六")
    close(runtime, old)
    clock.advance(timedelta(days=1))
    close(runtime, recent)
    clock.set(START + timedelta(days=365 * YEARS + 3))  # ten calendar years and a few hours on
    return old, recent


def test_the_cutoff_is_the_same_moment_years_before() -> None:
    now = datetime(2036, 11, 5, 9, tzinfo=SHANGHAI)
    assert retention_cutoff(now, 10) == datetime(2026, 11, 5, 9, tzinfo=SHANGHAI)
    assert retention_cutoff(datetime(2028, 2, 29, tzinfo=SHANGHAI), 1) == datetime(
        2027, 2, 28, tzinfo=SHANGHAI
    )


def test_the_report_counts_the_cases_past_the_period(
    services: Services, runtime: Runtime, two_cases: tuple[int, int], admin: Viewer
) -> None:
    old, _ = two_cases
    report = services.retention.report(YEARS)
    with runtime.sessions() as session:
        case = session.get(Case, old)
        assert case is not None
    assert (report.count, report.oldest_case_no, report.oldest_closed_at) == (
        1,
        case.case_no,
        case.completed_at,
    )
    assert services.retention.report(YEARS, admin).count == 1
    assert services.retention.report(YEARS + 1).count == 0


def test_anonymising_leaves_nothing_personal_and_the_case_readable(
    services: Services, runtime: Runtime, engine: Engine, two_cases: tuple[int, int], admin: Viewer
) -> None:
    old, recent = two_cases
    before = rows_of(engine, old)
    assert any(value in text for value in PERSONAL for texts in before.values() for text in texts)
    assert "attachments" in before and "notifications" in before and "documents" in before
    untouched = rows_of(engine, recent)

    outcomes = services.retention.apply(admin, YEARS, RetentionMode.ANONYMISE)

    assert [(o.done, o.error) for o in outcomes] == [(True, None)]
    after = rows_of(engine, old)
    leaks = [
        (table, value)
        for table, texts in after.items()
        for text in texts
        for value in PERSONAL
        if value in text
    ]
    assert leaks == []
    assert "attachments" not in after
    assert rows_of(engine, recent) == untouched

    with runtime.sessions() as session:
        case = session.get(Case, old)
        assert case is not None and case.status == CaseStatus.COMPLETED
        data = runtime.case_data(session, case)  # the state still restores
        letter = session.scalar(
            select(Document).where(Document.case_id == old, Document.kind == "referral_letter")
        )
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.case_id == old, AuditEvent.action == AuditAction.ANONYMISE)
        )
    assert (data["petitioner_name"], data["respondent_name"]) == ("当事人甲", "当事人乙")
    assert "petitioner_id_number" not in data and "respondent_phone" not in data
    assert "petitioner_address" not in data
    assert data["facts"] == "当事人甲（住［已隐去］，电话［已隐去］）与当事人乙因院墙归属发生争执。"
    assert letter is not None and letter.content["petitioner_name"] == "当事人甲"
    assert letter.content["summary"] == "当事人甲与当事人乙（电话［已隐去］）院墙纠纷"
    assert event is not None and event.actor == "admin"
    assert event.detail == {
        "case_no": case.case_no,
        "closed_at": case.completed_at.isoformat() if case.completed_at else None,
        "retention_years": YEARS,
        "attachments": 3,  # both parties' consent documents and the signed agreement's copy
    }
    page = services.cases.page(admin, case.case_no)
    assert page.summary.data["petitioner_name"] == "当事人甲"


def test_running_again_changes_nothing(
    services: Services, engine: Engine, two_cases: tuple[int, int], admin: Viewer
) -> None:
    old, recent = two_cases
    services.retention.apply(admin, YEARS, RetentionMode.ANONYMISE)
    once = {case_id: rows_of(engine, case_id) for case_id in two_cases}
    assert services.retention.report(YEARS).count == 0
    assert services.retention.apply(admin, YEARS, RetentionMode.ANONYMISE) == []
    assert services.retention.apply(admin, YEARS, RetentionMode.PURGE) == []  # anonymised is handled
    assert {case_id: rows_of(engine, case_id) for case_id in (old, recent)} == once


def test_purging_deletes_every_row_and_keeps_an_audit_event(
    services: Services, runtime: Runtime, engine: Engine, two_cases: tuple[int, int], admin: Viewer
) -> None:
    old, recent = two_cases
    with runtime.sessions() as session:
        case = session.get(Case, old)
        assert case is not None
        number = case.case_no
    untouched = rows_of(engine, recent)

    assert [o.case_no for o in services.retention.apply(admin, YEARS, RetentionMode.PURGE)] == [number]

    assert rows_of(engine, old) == {}
    assert rows_of(engine, recent) == untouched
    with runtime.sessions() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.PURGE)))
        assert session.scalar(select(Attachment.id).where(Attachment.case_id == old)) is None
    assert [(e.case_id, e.actor, e.detail["case_no"], e.detail["retention_years"]) for e in events] == [
        (None, "admin", number, YEARS)
    ]
    assert services.retention.report(YEARS).count == 0


def test_only_an_administrator_applies_it_and_only_to_their_region(
    services: Services, two_cases: tuple[int, int]
) -> None:
    clerk = services.users.viewer("clerk")
    assert clerk is not None
    with pytest.raises(Forbidden):
        services.retention.apply(clerk, YEARS, RetentionMode.ANONYMISE)
    assert services.retention.report(YEARS, clerk).count == 1  # the clerk's office handles the case
    admin = services.users.viewer("admin")
    assert admin is not None
    elsewhere = replace(admin, region_code="540103")  # an administrator of the other district
    assert services.retention.report(YEARS, elsewhere).count == 0
    assert services.retention.apply(elsewhere, YEARS, RetentionMode.ANONYMISE) == []


def test_a_case_that_cannot_be_anonymised_is_left_as_it_was(
    services: Services,
    runtime: Runtime,
    engine: Engine,
    two_cases: tuple[int, int],
    admin: Viewer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, _ = two_cases
    before = rows_of(engine, old)

    def broken(session: Any, case: Case) -> Any:
        raise ValueError("状态无法还原")

    monkeypatch.setattr(services.runtime, "decode", broken)
    outcomes = services.retention.apply(admin, YEARS, RetentionMode.ANONYMISE)
    assert [(o.done, o.error) for o in outcomes] == [(False, "ValueError: 状态无法还原")]
    assert rows_of(engine, old) == before
