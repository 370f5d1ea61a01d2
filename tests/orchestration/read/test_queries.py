"""Task lists (filters, due states, sort, paging, counts), 已办, case search, deadlines, notifications."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from orchestration.engine.clock import SHANGHAI, FrozenClock
from orchestration.engine.runtime import Runtime, passed_steps
from orchestration.read import case_view, queries
from orchestration.read.queries import TaskFilter
from orchestration.store.models import Case, Notification, OpenTask, Timer
from tests.helpers import actor, advance_to, open_task, start, viewer


def tasks(runtime: Runtime, username: str, filters: TaskFilter | None = None) -> queries.TaskList:
    with runtime.sessions() as session:
        return queries.my_tasks(
            session,
            viewer(runtime, username),
            filters or TaskFilter(),
            runtime.clock.now(),
            runtime.calendar(session),
        )


def set_due(runtime: Runtime, case_id: int, due: datetime | None) -> None:
    with runtime.sessions() as session, session.begin():
        for task in session.scalars(select(OpenTask).where(OpenTask.case_id == case_id)):
            task.due_at = due


def test_due_state_near_is_within_one_working_day(runtime: Runtime) -> None:
    now = datetime(2026, 11, 6, 10, 0, tzinfo=SHANGHAI)  # a Friday
    with runtime.sessions() as session:
        calendar = runtime.calendar(session)
    assert queries.due_state(None, now, calendar) is None
    assert queries.due_state(now - timedelta(minutes=1), now, calendar) == "overdue"
    # The next working day after Friday is Monday: a Monday deadline is 临期 on Friday.
    assert queries.due_state(datetime(2026, 11, 9, 23, 59, 59, tzinfo=SHANGHAI), now, calendar) == "near"
    assert queries.due_state(datetime(2026, 11, 10, 12, 0, tzinfo=SHANGHAI), now, calendar) == "normal"


def test_my_tasks_sorted_by_due_with_counts_and_filters(runtime: Runtime, clock: FrozenClock) -> None:
    now = clock.now()
    overdue, near, normal, undated = (start(runtime) for _ in range(4))
    set_due(runtime, overdue, now - timedelta(hours=1))
    set_due(runtime, near, now + timedelta(hours=5))
    set_due(runtime, normal, now + timedelta(days=10))
    set_due(runtime, undated, None)

    result = tasks(runtime, "clerk")
    assert [t.case_id for t in result.page.items] == [overdue, near, normal, undated]
    assert dict(result.counts) == {"all": 4, "overdue": 1, "near": 1, "normal": 2}
    assert result.steps == [("screen_case", "甄别适用范围")]

    assert [t.case_id for t in tasks(runtime, "clerk", TaskFilter(due="overdue")).page.items] == [overdue]
    assert [t.case_id for t in tasks(runtime, "clerk", TaskFilter(due="near")).page.items] == [near]
    assert [t.case_id for t in tasks(runtime, "clerk", TaskFilter(due="normal")).page.items] == [
        normal,
        undated,
    ]
    with runtime.sessions() as session:
        number = session.get(Case, near)
        assert number is not None
        case_no = number.case_no
    only = tasks(runtime, "clerk", TaskFilter(case_no=case_no[-3:].lower()))
    assert [t.case_id for t in only.page.items] == [near]
    assert tasks(runtime, "clerk", TaskFilter(step="guide_divert")).page.total == 0
    # Counts describe the whole list, not the filtered page.
    assert only.counts["all"] == 4


def test_my_tasks_pages(runtime: Runtime) -> None:
    ids = [start(runtime) for _ in range(5)]
    first = tasks(runtime, "clerk", TaskFilter(per_page=2))
    third = tasks(runtime, "clerk", TaskFilter(per_page=2, page=3))
    assert (first.page.total, first.page.pages, first.page.has_next, first.page.has_prev) == (
        5,
        3,
        True,
        False,
    )
    assert len(third.page.items) == 1 and not third.page.has_next
    seen = [
        t.case_id
        for p in (1, 2, 3)
        for t in tasks(runtime, "clerk", TaskFilter(per_page=2, page=p)).page.items
    ]
    assert sorted(seen) == sorted(ids)


def test_tasks_are_for_role_and_organisation_only(runtime: Runtime) -> None:
    start(runtime)
    assert tasks(runtime, "clerk").page.total == 1
    assert tasks(runtime, "leader").page.total == 0
    assert tasks(runtime, "clerk2").page.total == 0
    assert tasks(runtime, "county_clerk").page.total == 0


def test_team_tasks_and_task_counts(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "approve_referral")
    start(runtime)
    with runtime.sessions() as session:
        team = queries.team_tasks(
            session, viewer(runtime, "leader"), TaskFilter(), clock.now(), runtime.calendar(session)
        )
        assert {t.task_name for t in team.page.items} == {"approve_referral", "screen_case"}
        assert queries.task_counts(session, viewer(runtime, "leader"), clock.now()) == (1, 0)
        users = queries.claimable_users(session, team.page.items[0])
        assert all(u.org_id == team.page.items[0].org_id for u in users)


def test_done_tasks_come_from_the_audit_log(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = start(runtime)
    clock.advance(timedelta(minutes=5))
    advance_to(runtime, case_id, "draft_referral")
    with runtime.sessions() as session:
        done = queries.done_tasks(session, viewer(runtime, "clerk"))
        assert [d.event.task_name for d in done.items] == [
            "respondent_consent",
            "guide_divert",
            "screen_case",
            "register",
        ]
        assert done.items[0].case_no.startswith("FT2026-")
        assert queries.done_tasks(session, viewer(runtime, "leader")).total == 0


def test_search_cases_respects_access_and_matches_number_or_title(runtime: Runtime) -> None:
    first = start(runtime)
    start(runtime, matter="相邻通行纠纷")
    start(runtime, locality="540103001")  # 东嘎街道: another county
    with runtime.sessions() as session:
        clerk = viewer(runtime, "clerk")
        assert queries.search_cases(session, clerk).total == 2
        assert [c.title for c in queries.search_cases(session, clerk, "通行").items] == ["相邻通行纠纷"]
        case = session.get(Case, first)
        assert case is not None
        assert [c.id for c in queries.search_cases(session, clerk, case.case_no.lower()).items] == [first]
        assert queries.search_cases(session, viewer(runtime, "admin")).total == 3
        assert queries.search_cases(session, viewer(runtime, "clerk2")).total == 1
        assert queries.search_cases(session, clerk, status="completed").total == 0
        assert queries.search_cases(session, clerk, "100%_").total == 0  # LIKE wildcards are literal


def test_case_deadlines_and_petition_clock(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        data = runtime.case_data(session, case)
        deadlines, view = queries.case_deadlines(session, case, data, runtime.calendar(session), clock.now())
        labels = [d.label for d in deadlines]
        assert "待办“依法调解”办理期限" in labels
        assert any(label.startswith("调解期限") for label in labels)
        assert any(label.startswith("定时：") for label in labels)
        assert all(d.state in ("normal", "near", "overdue") for d in deadlines)
        assert view is not None
        assert view.clock.paused_since is not None  # mediation pauses the petition clock
        assert view.pauses and view.pauses[0][1] is None
        steps = passed_steps(runtime.decode(session, case))
        assert {"screen_case", "approve_referral", "review_referral"} <= steps
        assert "mediate" not in steps
        xml, process_id = case_view.process_diagram(session, case)
        assert process_id in xml


def test_deadline_in_an_unpublished_year_is_estimated(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        calendar = runtime.calendar(session)
        start_ = datetime(2026, 12, 20, tzinfo=SHANGHAI)
        assert queries._estimated(calendar, start_, datetime(2027, 1, 10, tzinfo=SHANGHAI))
        assert not queries._estimated(calendar, start_, datetime(2026, 12, 28, tzinfo=SHANGHAI))


def test_notifications_for_org_and_role_and_mark_read(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "review_referral")  # the referral notifies the mediation organisation
    mediator = viewer(runtime, "mediator")
    with runtime.sessions() as session, session.begin():
        session.add(
            Notification(
                org_id=mediator.org_id, role=None, kind="info", message="全体", created_at=clock.now()
            )
        )
        session.add(
            Notification(
                org_id=mediator.org_id, role="admin", kind="info", message="别人", created_at=clock.now()
            )
        )
    with runtime.sessions() as session:
        page = queries.notifications(session, mediator)
        assert {n.message for n in page.items} >= {"全体"} and "别人" not in {n.message for n in page.items}
        assert queries.unread_count(session, mediator) == page.total == 2
        assert queries.unread_count(session, viewer(runtime, "mediator2")) == 0
        first = page.items[0].id
    with runtime.sessions() as session, session.begin():
        assert queries.mark_read(session, mediator, clock.now(), [first]) == 1
        assert queries.mark_read(session, mediator, clock.now(), [first]) == 0
    with runtime.sessions() as session:
        assert queries.unread_count(session, mediator) == 1
        assert queries.notifications(session, mediator, unread_only=True).total == 1
    with runtime.sessions() as session, session.begin():
        assert queries.mark_read(session, mediator, clock.now()) == 1
    with runtime.sessions() as session:
        assert queries.unread_count(session, mediator) == 0
        # each person reads for themselves: another mediator of the same committee has not read them
        colleague = replace(mediator, user_id=mediator.user_id + 1000)
        assert queries.unread_count(session, colleague) == 2


def test_open_task_helpers(runtime: Runtime) -> None:
    case_id = start(runtime)
    assert open_task(runtime, case_id, "screen_case").title == "甄别适用范围"
    runtime.complete_task(
        open_task(runtime, case_id, "screen_case").id,
        {"dispute_category": "citizen_property"},
        actor(runtime, "clerk"),
    )
    with runtime.sessions() as session:
        assert [t.task_name for t in queries.open_tasks_of(session, case_id)] == ["guide_divert"]
        assert [e.action for e in queries.audit_trail(session, case_id)] == ["start", "complete"]


def test_deadlines_of_a_finished_step_are_marked_done(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "feedback_success")  # mediation ended with an agreement
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        data = runtime.case_data(session, case)
        deadlines, _ = queries.case_deadlines(session, case, data, runtime.calendar(session), clock.now())
        states = {d.label: d.state for d in deadlines if d.kind == "data"}
        assert (
            states[
                "调解期限（受理之日起15日；届满日为法定休假日的，顺延至其后第一个工作日，民法典第二百零三条）"
            ]
            == "done"
        )
        assert (
            states[
                "调解最长期限（含延长合计不超过30日，实施意见六(三)；届满日为法定休假日的，顺延至其后第一个工作日，民法典第二百零三条）"
            ]
            == "done"
        )
        assert states["调解成功结果反馈期限（5个工作日）"] == "normal"  # the step now running
        assert states["申请司法确认期限（协议生效之日起30日）"] == "normal"


def test_the_mediation_deadline_shown_is_the_waiting_timers_once(
    runtime: Runtime, clock: FrozenClock
) -> None:
    """A diagram whose timer counts 10 days (a policy officer's edit) while the handler wrote 15 into the
    data: the table shows the timer's due, once, labelled with the 10 days it counts."""
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    with runtime.transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        accepted = datetime.fromisoformat(runtime.case_data(session, case)["acceptance"]["accepted_at"])
        calendar = runtime.calendar(session)
        timer = session.scalars(
            select(Timer).where(Timer.case_id == case_id, Timer.name == "调解期限届满")
        ).one()
        timer.due_at = calendar.add_days(accepted, 10)
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        data = runtime.case_data(session, case)
        deadlines, _ = queries.case_deadlines(session, case, data, runtime.calendar(session), clock.now())
    mediation = [d for d in deadlines if d.label.startswith("调解期限") and "最长" not in d.label]
    assert [(d.label.split("；")[0], d.due, d.kind) for d in mediation] == [
        ("调解期限（受理之日起10日", calendar.add_days(accepted, 10), "data")
    ]
    assert data["acceptance"]["mediation_deadline"] == calendar.add_days(accepted, 15).isoformat()
    assert not any(d.label == "定时：调解期限届满" for d in deadlines)
    assert any(d.label == "定时：调解期限临近" for d in deadlines)  # another timer is still shown as such


def test_a_mediation_deadline_whose_day_count_is_ambiguous_names_none(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        calendar = runtime.calendar(session)
    accepted = datetime(2026, 11, 2, 10, tzinfo=SHANGHAI)  # a Monday
    acceptance = {"accepted_at": accepted.isoformat()}
    # day 12 is a Saturday, 13 a Sunday: 12, 13 and 14 days all end on Monday 16 November
    assert "受理之日起14日" not in queries.mediation_label(
        calendar, acceptance, calendar.add_days(accepted, 14)
    )
    assert "流程计时器所定期间届满" in queries.mediation_label(
        calendar, acceptance, calendar.add_days(accepted, 13)
    )
    assert "受理之日起15日" in queries.mediation_label(calendar, acceptance, calendar.add_days(accepted, 15))


def test_the_days_the_handler_read_from_the_timer_name_an_ambiguous_deadline(runtime: Runtime) -> None:
    """The handler wrote the days the diagram's timer names with the deadline it gives: when that is the
    deadline shown, its days are the label's, even where several counts end on the same day."""
    with runtime.sessions() as session:
        calendar = runtime.calendar(session)
    accepted = datetime(2026, 11, 2, 10, tzinfo=SHANGHAI)
    due = calendar.add_days(accepted, 13)  # Monday 16 November, which 12, 13 and 14 days all reach
    written = {
        "accepted_at": accepted.isoformat(),
        "mediation_days": 13,
        "mediation_deadline": due.isoformat(),
    }
    assert "受理之日起13日" in queries.mediation_label(calendar, written, due)
    # a deadline the data do not hold (the timer moved since) is counted from the calendar again
    assert "受理之日起10日" in queries.mediation_label(calendar, written, calendar.add_days(accepted, 10))


def test_a_feedback_deadline_is_labelled_with_the_period_the_handler_counted(
    runtime: Runtime, clock: FrozenClock
) -> None:
    """The period the diagram's feedback timer counted, written with the deadline; data written before the
    handlers recorded it name the periods they counted with then."""
    case_id = start(runtime)
    advance_to(runtime, case_id, "feedback_success")
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        data = runtime.case_data(session, case)
        due = data["agreement"]["feedback_deadline"]
        assert data["agreement"]["feedback_period"] == "5个工作日"

        def labels(agreement: dict[str, str], termination: dict[str, str]) -> set[str]:
            changed = {**data, "agreement": agreement, "termination": termination}
            deadlines, _ = queries.case_deadlines(
                session, case, changed, runtime.calendar(session), clock.now()
            )
            return {d.label for d in deadlines if "反馈期限" in d.label}

        edited = labels(
            {"feedback_deadline": due, "feedback_period": "7日"},
            {"feedback_deadline": due, "feedback_period": "2个工作日"},
        )
        assert edited == {"调解成功结果反馈期限（7日）", "调解不成功反馈期限（2个工作日）"}
        earlier = labels({"feedback_deadline": due}, {"feedback_deadline": due})
        assert earlier == {"调解成功结果反馈期限（5个工作日）", "调解不成功反馈期限（3个工作日）"}
