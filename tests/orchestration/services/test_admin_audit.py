"""The audit log for administrators: searched by case, user, action and period, in pages and exported in
batches, ID numbers and phones masked, events of other regions' cases left out."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from orchestration.engine.clock import SHANGHAI, FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.errors import Forbidden
from orchestration.read import queries
from orchestration.services import admin_audit
from orchestration.services.admin_audit import AuditFilter, AuditLogService
from orchestration.services.admin_people import PeopleService
from orchestration.services.users import UserService
from orchestration.store.models import Case
from tests.helpers import REGISTRATION, actor, advance_to, start, viewer
from tests.orchestration.services.test_admin_people import county_admin


@pytest.fixture
def log(runtime: Runtime) -> AuditLogService:
    return AuditLogService(runtime)


@pytest.fixture
def history(runtime: Runtime, clock: FrozenClock) -> dict[str, str]:
    """A case registered on 11-02 and taken to mediation on 11-03 (八廓街道), one of 东嘎街道 registered
    on 11-04, and an administrator's change of a user on 11-05 (no case)."""
    first = start(runtime)
    clock.advance(timedelta(days=1))
    advance_to(runtime, first, "mediate")
    clock.advance(timedelta(days=1))
    second = runtime.start_case(
        {**REGISTRATION, "locality": "540103001", "petitioner_name": "赵六"}, actor(runtime, "clerk2")
    ).case_id
    clock.advance(timedelta(days=1))
    PeopleService(runtime).update_user(
        viewer(runtime, "admin"), "clerk", "王芳芳", "petition_clerk", "540102001-xf"
    )
    with runtime.sessions() as session:
        numbers = {case_id: case_no for case_id, case_no in session.execute(select(Case.id, Case.case_no))}
    return {"first": numbers[first], "second": numbers[second]}


def test_search_by_case_user_action_and_period(
    runtime: Runtime, log: AuditLogService, history: dict[str, str]
) -> None:
    admin = viewer(runtime, "admin")
    everything = log.search(admin, AuditFilter())
    assert everything.total == 10  # the deployment, 2 registrations, 6 completions, 1 change of a user
    assert [r.id for r in everything.items] == sorted((r.id for r in everything.items), reverse=True)

    first = log.search(admin, AuditFilter(case_no=history["first"]))
    assert {r.case_no for r in first.items} == {history["first"]}
    assert [r.action for r in reversed(first.items)] == ["start"] + ["complete"] * 6
    assert log.search(admin, AuditFilter(case_no=history["first"][-3:])).total >= 1  # part of a number

    assert {r.actor for r in log.search(admin, AuditFilter(actor="leader")).items} == {"leader"}
    assert [r.action for r in log.search(admin, AuditFilter(actor="leader")).items] == ["complete"]
    assert [r.case_no for r in log.search(admin, AuditFilter(action="start")).items] == [
        history["second"],
        history["first"],
    ]
    people = log.search(admin, AuditFilter(action="user_update"))
    assert [(r.actor, r.case_no, r.detail["user"]) for r in people.items] == [("admin", None, "clerk")]

    on_the_3rd = log.search(admin, AuditFilter(since=date(2026, 11, 3), until=date(2026, 11, 3)))
    assert on_the_3rd.total == 6 and {r.action for r in on_the_3rd.items} == {"complete"}
    assert log.search(admin, AuditFilter(since=date(2026, 11, 6))).total == 0
    assert log.search(admin, AuditFilter(until=date(2026, 11, 1))).total == 0
    assert log.search(admin, AuditFilter(case_no="FT1999")).total == 0


def test_personal_data_is_masked(runtime: Runtime, log: AuditLogService, history: dict[str, str]) -> None:
    (registration,) = log.search(
        viewer(runtime, "admin"), AuditFilter(action="start", case_no=history["first"])
    ).items
    data = registration.detail["data"]
    assert data["petitioner_id_number"] == "5401**********1234"
    assert data["petitioner_phone"] == "138****8000"
    assert data["petitioner_name"] == "张三"
    exported = [r for r in log.export(viewer(runtime, "admin"), AuditFilter(action="start"))]
    assert all("540102199001011234" not in str(r.detail) for r in exported) and len(exported) == 2


def test_an_administrator_sees_the_events_of_their_regions_cases(
    runtime: Runtime, log: AuditLogService, history: dict[str, str]
) -> None:
    county = county_admin(runtime, UserService(runtime))
    found = log.search(county, AuditFilter())
    assert {r.case_no for r in found.items} == {history["second"], None}
    assert log.search(county, AuditFilter(case_no=history["first"])).total == 0


def test_pages_and_the_export_in_batches(
    runtime: Runtime, log: AuditLogService, history: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = viewer(runtime, "admin")
    whole = log.search(admin, AuditFilter())
    monkeypatch.setattr(queries, "PER_PAGE", 4)
    second = log.search(admin, AuditFilter(page=2))
    assert (second.total, second.pages, second.page) == (10, 3, 2)
    assert [r.id for r in second.items] == [r.id for r in whole.items[4:8]]
    monkeypatch.setattr(admin_audit, "EXPORT_BATCH", 5)  # 9 events: batches of 5 and 4
    exported = list(log.export(admin, AuditFilter()))
    assert [r.id for r in exported] == [r.id for r in whole.items]
    monkeypatch.setattr(admin_audit, "EXPORT_BATCH", 3)  # 9 events: the last batch full, then an empty one
    assert [r.id for r in log.export(admin, AuditFilter())] == [r.id for r in whole.items]


def test_only_administrators_read_the_log(runtime: Runtime, log: AuditLogService) -> None:
    for username in ("clerk", "leader", "mediator", "justice", "policy", "county_clerk"):
        someone = viewer(runtime, username)
        with pytest.raises(Forbidden, match="不是系统管理员"):
            log.search(someone, AuditFilter())
        with pytest.raises(Forbidden, match="不是系统管理员"):
            log.export(someone, AuditFilter())  # refused when asked, before any row is read


def test_the_period_is_counted_in_beijing_time(
    runtime: Runtime, log: AuditLogService, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 11, 2, 23, 30, tzinfo=SHANGHAI))  # 15:30 UTC: still the 2nd in Beijing
    start(runtime)
    found = log.search(viewer(runtime, "admin"), AuditFilter(action="start", until=date(2026, 11, 2)))
    assert found.total == 1
    assert (
        log.search(viewer(runtime, "admin"), AuditFilter(action="start", since=date(2026, 11, 3))).total == 0
    )
