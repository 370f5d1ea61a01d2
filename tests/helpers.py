"""Small builders for tests: registration data, actors, a case advanced to a given task."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, select

from orchestration.domain.access import Viewer
from orchestration.domain.forms import FormRegistry, Upload
from orchestration.engine.clock import Clock
from orchestration.engine.runtime import Actor, Runtime, StepResult
from orchestration.services import demo
from orchestration.services.scenarios import with_uploads
from orchestration.settings import PROJECT_ROOT
from orchestration.store.db import make_session_factory
from orchestration.store.models import AuditEvent, Case, OpenTask, Timer, User

REGISTRATION: dict[str, Any] = {
    "petitioner_name": "张三",
    "petitioner_id_number": "540102199001011234",
    "petitioner_phone": "13800138000",
    "petitioner_count": 1,
    "respondent_name": "李四",
    "respondent_type": "citizen",
    "locality": "540102001",
    "petition_channel": "visit",
    "received_on": "2026-11-02",
    "matter": "邻里宅基地院墙归属纠纷",
    "facts": "双方因院墙归属发生争执。",
}

_FORMS = FormRegistry.load(PROJECT_ROOT / "forms")
# Fields that take only files uploaded for the case: a test or bench sends their file names as uploads.
FILE_FIELDS = frozenset(
    f.name for name in _FORMS.names() for f in _FORMS.get(name).fields if f.widget == "file"
)

# The data each step of the success path is completed with, and who completes it.
SUCCESS_PATH: list[tuple[str, str, dict[str, Any]]] = [
    ("screen_case", "clerk", {"dispute_category": "citizen_property"}),
    (
        "guide_divert",
        "clerk",
        {
            "explanation_given": True,
            "privacy_notice_given": True,
            "consent": "agree",
            "consent_documents": ["同意书.pdf"],
        },
    ),
    (
        "respondent_consent",
        "clerk",
        {
            "privacy_notice_given": True,
            "respondent_decision": "agree",
            "respondent_consent_documents": ["对方同意书.pdf"],
        },
    ),
    (
        "draft_referral",
        "clerk",
        {
            "mediation_org": "540102001-tw",
            "referral_summary": "宅基地纠纷",
            "contact_person": "王芳",
            "contact_phone": "13800138001",
        },
    ),
    ("approve_referral", "leader", {"approval": "approve"}),
    ("review_referral", "mediator", {"review_decision": "accept", "mediator_name": "次仁卓玛"}),
    (
        "mediate",
        "mediator",
        {
            "session_record": "经调解达成一致",
            "mediation_outcome": "agreement",
            "agreement_form": "written",
            "agreement_facts": "院墙共有",
            "agreement_terms": "维持现状",
            # the day the tests' clock stands on: an agreement cannot take effect in the future
            "agreement_effective_on": "2026-11-02",
        },
    ),
    ("feedback_success", "mediator", {"fed_back_on": "2026-11-02", "agreement_copy": ["协议书签署件.pdf"]}),
    ("receive_success", "clerk", {"received_by": "王芳"}),
    ("conclude_petition", "clerk", {"concluded_on": "2026-11-02"}),
    (
        "follow_up_visit",
        "mediator",
        {
            "visited_on": "2026-11-02",
            "visit_method": "phone",
            "mediation_visitors": "次仁卓玛",
            "petition_visitors": "王芳",
            "performance": "fully",
            "social_effect": "良好",
        },
    ),
]


def deployed_runtime(engine: Engine, clock: Clock) -> Runtime:
    """A runtime on an empty database with the demo network and the procedure deployed."""
    runtime = Runtime(make_session_factory(engine), clock)
    with runtime.sessions() as session, session.begin():
        demo.seed(session)
    runtime.deploy()
    return runtime


def actor(runtime: Runtime, username: str) -> Actor:
    with runtime.sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        return Actor.of(user)


def viewer(runtime: Runtime, username: str) -> Viewer:
    with runtime.sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return Viewer.of(user)


def add_colleague(runtime: Runtime, username: str, display_name: str, of: str, active: bool = True) -> None:
    """A user with the same role, organisation and password as the demo user `of`."""
    with runtime.sessions() as session, session.begin():
        model = session.scalar(select(User).where(User.username == of))
        assert model is not None, of
        session.add(
            User(
                username=username,
                display_name=display_name,
                role=model.role,
                org_id=model.org_id,
                password_hash=model.password_hash,
                active=active,
            )
        )


def open_task(runtime: Runtime, case_id: int, name: str) -> OpenTask:
    with runtime.sessions() as session:
        row = session.scalar(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.task_name == name))
        assert row is not None, f"no open task {name}"
        return row


def complete(
    runtime: Runtime,
    task_id: str,
    data: Mapping[str, Any],
    by: Actor,
    files: Mapping[str, Sequence[Upload]] | None = None,
    **kwargs: Any,
) -> StepResult:
    """Completes the task as a browser would: the file names given for file fields are uploaded with
    the step (a file field takes only files stored for the case)."""
    with runtime.sessions() as session:
        task = session.get(OpenTask, task_id)
        case = session.get(Case, task.case_id) if task is not None else None
        form = runtime.forms_of(session, case.version_id).get(task.form_name or "") if case and task else None
    if form is None:  # an unknown task: let the runtime refuse it
        return runtime.complete_task(task_id, data, by, files=files, **kwargs)
    rest, named = with_uploads(form, data)
    merged = {**named, **(files or {})}  # files given for a field replace the names the data gives
    return runtime.complete_task(task_id, rest, by, files=merged or None, **kwargs)


def start(runtime: Runtime, **overrides: Any) -> int:
    return runtime.start_case({**REGISTRATION, **overrides}, actor(runtime, "clerk")).case_id


def advance_to(runtime: Runtime, case_id: int, task_name: str) -> OpenTask:
    """Completes the success path up to (not including) the named task."""
    for name, username, data in SUCCESS_PATH:
        if name == task_name:
            return open_task(runtime, case_id, name)
        complete(runtime, open_task(runtime, case_id, name).id, data, actor(runtime, username))
    raise AssertionError(f"{task_name} is not on the success path")


def set_case_data(runtime: Runtime, case_id: int, **values: Any) -> None:
    """Writes values into the stored case data, as a step of another part of the procedure would (e.g. a
    consent record), for tests of what reads them."""
    with runtime.transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        workflow = runtime.decode(session, case)
        for task in workflow.get_tasks():
            task.data.update(values)
        case.state = runtime.codec.dump(workflow)
        case.revision += 1


def case_snapshot(runtime: Runtime, case_id: int) -> dict[str, Any]:
    """Everything a step of the case writes, to show that a refused step wrote none of it."""
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        audits = session.execute(
            select(AuditEvent.id, AuditEvent.action)
            .where(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.id)
        )
        tasks = session.execute(
            select(OpenTask.id, OpenTask.task_name, OpenTask.claimed_by, OpenTask.due_at)
            .where(OpenTask.case_id == case_id)
            .order_by(OpenTask.id)
        )
        timers = session.execute(
            select(Timer.task_id, Timer.due_at, Timer.attempts)
            .where(Timer.case_id == case_id)
            .order_by(Timer.id)
        )
        return {
            "revision": case.revision,
            "status": case.status,
            "state": case.state,
            "last_error": case.last_error,
            "audits": [tuple(row) for row in audits],
            "open_tasks": [tuple(row) for row in tasks],
            "timers": [tuple(row) for row in timers],
        }
