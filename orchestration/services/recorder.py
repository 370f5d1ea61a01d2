"""The scenario recorder: a policy officer records a scenario against a draft by working the case in the
browser — registering it, completing its tasks as the demo users, moving the clock, capturing checks.

The recorder holds no state: the browser keeps the scenario so far, and every call replays it on a throwaway
database running the draft's files (as 场景对比 runs a draft's scenarios), then tries the proposed step. The
answer is the step as the scenario file will hold it and what the cases look like after it; a step that
fails is refused with the runtime's own message and field errors, and the browser adds nothing — unless the
officer records the refusal itself: the step proposed again with the error keys the refusal gave
(`Refused.expected`) is the scenario's check that the step is refused.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestration.domain import petition_clock, scenario_schema
from orchestration.domain.access import Viewer, handles_case
from orchestration.domain.forms import FormDefinition, Submission, initial_values, validate
from orchestration.engine.clock import SHANGHAI
from orchestration.errors import FangtiaoError, InvalidData
from orchestration.services.base import FormPage
from orchestration.services.cases import CaseService, may_report_risk
from orchestration.services.documents import DocumentService
from orchestration.services.petitions import PetitionService
from orchestration.services.scenarios import (
    ERROR_KEYS,
    Mismatch,
    ScenarioRun,
    fresh_database,
    in_force_by_kind,
)
from orchestration.services.tasks import TaskService
from orchestration.store.models import Case, Document, OpenTask, Organisation, Timer, User
from orchestration.vocabulary import Role

# The steps whose data the officer enters in the step's real form; every other step is sent as the
# scenario file holds it.
FILLED = ("start", "complete", "report_risk")
# The steps that act as a user: the runtime may refuse them, and a scenario may say that it must.
ACTIONS = (*FILLED, "correct_document", "extend_petition")
# What a captured expect step may check: the keys the recorder can read off the cases as they are.
CAPTURED = ("status", "outcome", "open_tasks", "timers", "documents")


@dataclass(frozen=True)
class Person:
    username: str
    name: str


class Refused(InvalidData):
    """The runtime refused the proposed step. `expected` records the refusal as a scenario checks it: the
    message exactly, and the field errors when there are any (see scenarios.ERROR_KEYS)."""

    def __init__(self, message: str, errors: dict[str, str]) -> None:
        super().__init__(message, errors)
        self.expected: dict[str, Any] = {"error": message, **({"field_errors": errors} if errors else {})}


@dataclass(frozen=True)
class TaskRow:
    task: str
    title: str
    role: str
    org: str | None  # the organisation's code
    org_name: str
    due: datetime | None
    users: list[Person]  # the demo users who may act on it


@dataclass(frozen=True)
class InForce:
    """A document in force: the latest of its kind that no correction has superseded — the one a
    correct_document step naming the kind corrects."""

    kind: str
    title: str
    number: str
    texts: list[tuple[str, str]]  # its text contents (key, value): what the recorder's form may change
    correctors: list[Person]  # the issuing body's demo users


@dataclass(frozen=True)
class CaseRow:
    case_no: str
    status: str
    outcome: str | None
    tasks: list[TaskRow]
    timers: list[tuple[str, datetime]]
    documents: list[str]  # kinds, in the order made
    document_titles: list[str]  # what the officer reads: each one's title and number
    risk_reporters: list[Person]  # the demo users who may report a risk now
    extenders: list[Person]  # the petition office's leaders, while the petition's limit may be extended
    in_force: list[InForce]  # by kind, in the order first made
    expect: dict[str, Any]  # an expect step that holds for the case as it is now (every key of CAPTURED)


@dataclass(frozen=True)
class Recording:
    now: datetime  # the scenario's clock after the steps
    step: dict[str, Any] | None  # the proposed step as recorded, when one was proposed
    cases: list[CaseRow]  # in the order registered (a step's `case`)
    registrars: list[Person]  # the demo users who may register a case
    form: FormPage | None  # the form asked for, with the initial values the real page would show


def replay(
    files: Mapping[str, str],
    process_id: str,
    clock: object,
    steps: object,
    proposal: object = None,
    form_for: object = None,
) -> Recording:
    """The scenario's steps replayed on the draft's files, then the proposed step tried (refused as
    InvalidData when it fails or is not a step the schema allows; as Refused when the runtime refused an
    action, which the step proposed again with `Refused.expected` records), and the form asked for drawn
    for its user: `{"do": "start", "as": …}`, `{"do": "complete", "task": …, "as": …, "case": …}` or
    `{"do": "report_risk", "as": …, "case": …}` (`case` as a step's)."""
    start = _clock(clock)
    recorded = _steps(clock, steps)
    with tempfile.TemporaryDirectory(prefix="fangtiao-recorder-") as workdir:
        engine = fresh_database(None, Path(workdir))
        try:
            run = ScenarioRun(engine, start, files, process_id)
            for index, step in enumerate(recorded, start=1):
                try:
                    run.step(step)
                except Mismatch as exc:
                    raise InvalidData(
                        f"已录制的第{index}步（{step['do']}）在草稿上不再成立：{exc}。"
                        "草稿可能在录制期间改过，请重新录制"
                    ) from exc
            added = _propose(run, clock, recorded, proposal) if proposal is not None else None
            form = _form(run, form_for) if form_for is not None else None
            return _recording(run, added, form)
        finally:
            engine.dispose()


def _clock(clock: object) -> datetime:
    try:
        start = datetime.fromisoformat(clock) if isinstance(clock, str) else None
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        raise InvalidData("起始时间应为带时区的时间，如 2026-11-02T09:00:00+08:00")
    return start


def _steps(clock: object, steps: object) -> list[dict[str, Any]]:
    if not isinstance(steps, list):
        raise InvalidData("已录制的步骤应为列表")
    if steps:
        _check_schema(clock, steps)
    return steps


def _check_schema(clock: object, steps: Sequence[Any]) -> None:
    problems = scenario_schema.problems({"name": "录制中的场景", "clock": clock, "steps": list(steps)})
    if problems:
        raise InvalidData("步骤写法有误：" + "；".join(problems))


def _propose(
    run: ScenarioRun, clock: object, recorded: list[dict[str, Any]], proposal: object
) -> dict[str, Any]:
    if not isinstance(proposal, Mapping):
        raise InvalidData("新的一步应为对象")
    form: FormDefinition | None = None
    if proposal.get("do") in FILLED:
        form, step = _filled(run, proposal)
    elif proposal.get("do") == "correct_document":
        step = _correction(proposal)
    elif proposal.get("do") == "extend_petition":
        step = {"do": "extend_petition", **_acting(proposal), "reason": _reason(proposal, "延长理由")}
    else:
        step = dict(proposal)
    expected = {k: proposal[k] for k in ERROR_KEYS if k in proposal}
    step.update(expected)
    _check_schema(clock, [*recorded, step])
    if expected:
        # run as the scenario will run it: the runner's own check that the step is refused just so; its
        # data stays as the browser sent it, which is what the runtime refused
        try:
            run.step(step)
        except Mismatch as exc:
            raise InvalidData(f"这一步不能记为应被拒绝的步骤：{exc}") from exc
        return step
    try:
        run.act(step)
    except Mismatch as exc:
        raise InvalidData(str(exc)) from exc
    except FangtiaoError as exc:
        errors = getattr(exc, "errors", {})
        if step["do"] in ACTIONS:
            raise Refused(exc.message, errors) from exc
        raise InvalidData(exc.message, errors) from exc
    if form is not None:
        # kept as the runtime's validation types it (numbers, true/false), as a scenario file writes it
        with run.runtime.sessions() as session:
            step["data"] = validate(form, step["data"], run.runtime.options(session))
    return step


def _acting(proposal: Mapping[str, Any]) -> dict[str, Any]:
    """Who acts on which case, as a step names them (`case` left out for the last case registered)."""
    if not isinstance(proposal.get("as"), str) or not proposal["as"]:
        raise InvalidData("请选择办理人")
    if not isinstance(proposal.get("case", -1), int):
        raise InvalidData("请选择案件")
    return {**({"case": proposal["case"]} if "case" in proposal else {}), "as": proposal["as"]}


def _reason(proposal: Mapping[str, Any], label: str) -> str:
    """A reason as typed; a blank one is the runtime's to refuse (a scenario may record that refusal)."""
    value = proposal.get("reason", "")
    if not isinstance(value, str):
        raise InvalidData(f"{label}应为文字")
    return value


def _correction(proposal: Mapping[str, Any]) -> dict[str, Any]:
    """A correct_document step from the recorder's form: the document's kind, the reason, and the changed
    contents as rows of (content key, new text); a row left blank is no row."""
    kind = proposal.get("kind")
    if not isinstance(kind, str) or not kind:
        raise InvalidData("请选择要更正的文书")
    rows = proposal.get("rows")
    if not isinstance(rows, list) or not all(
        isinstance(row, list) and len(row) == 2 and all(isinstance(cell, str) for cell in row) for row in rows
    ):
        raise InvalidData("更正的内容应为若干行“字段名、新值”")
    changes: dict[str, str] = {}
    for number, (key, value) in enumerate(rows, start=1):
        key, value = key.strip(), value.strip()
        if not key and not value:
            continue
        if not key:
            raise InvalidData(f"更正内容第{number}行：请选择要更正的字段")
        if key in changes:
            raise InvalidData(f"更正内容第{number}行：字段“{key}”已在前面填写过")
        changes[key] = value
    if not changes:
        raise InvalidData("请至少填写一项更正的内容（字段和新值）")
    return {
        "do": "correct_document",
        **_acting(proposal),
        "kind": kind,
        "changes": changes,
        "reason": _reason(proposal, "更正原因"),
    }


def _filled(run: ScenarioRun, proposal: Mapping[str, Any]) -> tuple[FormDefinition, dict[str, Any]]:
    """The step a filled-in form makes: what the browser sent, read as the task pages read it, with the
    file fields' chosen file names (a scenario names its files; see scenarios.with_uploads)."""
    sent = proposal.get("fields", {})
    if not isinstance(sent, Mapping) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(i, str) for i in v)
        for k, v in sent.items()
    ):
        raise InvalidData("表单内容应为“字段名 → 取值列表”的对象")
    form = _form(run, proposal).form
    data, _ = Submission(sent, {}).interpret(form)
    for form_field in form.fields:
        names = [n.strip() for n in sent.get(form_field.name, []) if n.strip()]
        if form_field.widget == "file" and names:
            data[form_field.name] = names
    where = {"task": proposal["task"]} if proposal["do"] == "complete" else {}
    if "case" in proposal:
        where["case"] = proposal["case"]
    return form, {"do": proposal["do"], **where, "as": proposal.get("as"), "data": data}


def _form(run: ScenarioRun, target: object) -> FormPage:
    """The form of a registration, of an open task or of a risk report, drawn for the user who is to fill
    it in, with the options and initial values the real page gives that user."""
    if (
        not isinstance(target, Mapping)
        or target.get("do") not in FILLED
        or not isinstance(target.get("as"), str)
    ):
        raise InvalidData("请选择要填写的表单（登记、某项待办或风险报告）和办理人")
    if not isinstance(target.get("case", -1), int):
        raise InvalidData("请选择案件")
    with run.runtime.sessions() as session:
        viewer = Viewer.of(_user(run, session, target["as"]))
        task_id = case_no = None
        if target["do"] == "complete":
            if not isinstance(target.get("task"), str):
                raise InvalidData("请选择要办理的待办任务")
            task_id = _task(run, session, target)
        elif target["do"] == "report_risk":
            case_no = _case_no(run, session, target)
    try:
        if task_id is not None:
            page = TaskService(run.runtime).page(viewer, task_id)
            return FormPage(page.form, page.options, initial_values(page.form, page.data, page.options))
        if case_no is not None:
            risk = CaseService(run.runtime).page(viewer, case_no).risk_form
            if risk is None:
                raise InvalidData("此刻该用户不能报告风险：只有承办案件的人民调解组织在调解期间可以报告")
            return risk
        return CaseService(run.runtime).registration_form(viewer)
    except FangtiaoError as exc:
        # the demo user's refusal (not the officer's): the recording goes on with another user
        raise InvalidData(exc.message) from exc


def _user(run: ScenarioRun, session: Session, username: str) -> User:
    try:
        return run.user(session, username)
    except Mismatch as exc:
        raise InvalidData(str(exc)) from exc


def _case_no(run: ScenarioRun, session: Session, target: Mapping[str, Any]) -> str:
    try:
        case = session.get(Case, run.case_id(target))
    except Mismatch as exc:
        raise InvalidData(str(exc)) from exc
    assert case is not None
    return case.case_no


def _task(run: ScenarioRun, session: Session, target: Mapping[str, Any]) -> str:
    try:
        return run.task_id(session, run.case_id(target), target["task"])
    except Mismatch as exc:
        raise InvalidData(str(exc)) from exc


def _recording(run: ScenarioRun, step: dict[str, Any] | None, form: FormPage | None) -> Recording:
    with run.runtime.sessions() as session:
        orgs = {o.id: o for o in session.scalars(select(Organisation))}
        users = list(session.scalars(select(User).where(User.active).order_by(User.username)))
        last = len(run.cases) - 1
        cases = [
            _case(run, session, case_id, None if index == last else index, orgs, users)
            for index, case_id in enumerate(run.cases)
        ]
    registrars = [Person(u.username, u.display_name) for u in users if u.role == Role.PETITION_CLERK]
    return Recording(run.clock.now(), step, cases, registrars, form)


def _case(
    run: ScenarioRun,
    session: Session,
    case_id: int,
    index: int | None,
    orgs: Mapping[int, Organisation],
    users: Sequence[User],
) -> CaseRow:
    case = session.get(Case, case_id)
    assert case is not None
    open_tasks = list(
        session.scalars(select(OpenTask).where(OpenTask.case_id == case_id).order_by(OpenTask.task_name))
    )
    tasks = [
        TaskRow(
            t.task_name,
            t.title,
            t.role,
            orgs[t.org_id].code if t.org_id else None,
            orgs[t.org_id].name if t.org_id else "",
            t.due_at,
            [
                Person(u.username, u.display_name)
                for u in users
                if u.role == t.role and u.org_id == t.org_id and t.claimed_by in (None, u.id)
            ],
        )
        for t in open_tasks
    ]
    timers = [
        (name, due)
        for name, due in session.execute(
            select(Timer.name, Timer.due_at)
            .where(Timer.case_id == case_id)
            .order_by(Timer.due_at, Timer.name)
        )
    ]
    documents = list(
        session.scalars(select(Document).where(Document.case_id == case_id).order_by(Document.id))
    )
    kinds = [d.kind for d in documents]
    expect: dict[str, Any] = {"do": "expect", **({} if index is None else {"case": index})}
    expect.update(
        status=case.status,
        outcome=case.outcome,
        open_tasks=[{"task": t.task, "role": t.role, "org": t.org, "due": _iso(t.due)} for t in tasks],
        timers=[{"name": name, "due": _iso(due)} for name, due in timers],
        documents=kinds,
    )
    viewers = [(Person(u.username, u.display_name), Viewer.of(u)) for u in users]
    reporters = [person for person, viewer in viewers if may_report_risk(viewer, case, open_tasks)]
    clock = petition_clock.compute(petition_clock.events(session, case_id), run.runtime.calendar(session))
    petitions = PetitionService(run.runtime)
    extenders = (
        [p for p, v in viewers if petitions.may_extend(v, case) and handles_case(v, case)]
        if petition_clock.extension(clock, run.clock.now()) is None
        else []
    )
    return CaseRow(
        case.case_no,
        case.status,
        case.outcome,
        tasks,
        timers,
        kinds,
        [f"{d.title}（{d.number}）" for d in documents],
        reporters,
        extenders,
        _documents_in_force(DocumentService(run.runtime), case, documents, viewers),
        expect,
    )


def _documents_in_force(
    service: DocumentService,
    case: Case,
    documents: Sequence[Document],
    viewers: Sequence[tuple[Person, Viewer]],
) -> list[InForce]:
    return [
        InForce(
            d.kind,
            d.title,
            d.number,
            [(k, v or "") for k, v in d.content.items() if isinstance(v, str) or v is None],
            [p for p, v in viewers if service.may_correct(v, d) and handles_case(v, case)],
        )
        for d in in_force_by_kind(documents).values()
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).isoformat() if moment is not None else None
