"""The procedure's repository, for policy officers: processes and their versions (what changed, how many
cases run on each), drafts, the checks, scenarios against a draft, deployment, migration of running cases
and export. Every call checks the viewer: policy officers do everything; administrators may read.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from orchestration.domain import scenario_schema
from orchestration.domain.access import Viewer
from orchestration.domain.calendar import SHANGHAI
from orchestration.domain.procedure import (
    SCENARIOS,
    DeployError,
    Finding,
    check_files,
    layout,
    scenario_texts,
)
from orchestration.engine.changes import ChangeSummary, Element, summarise
from orchestration.engine.migration import MigrationRefused
from orchestration.engine.runtime import Runtime
from orchestration.engine.specs import latest_version
from orchestration.engine.timer_builder import TimerPreview
from orchestration.errors import Conflict, Forbidden, InvalidData, NotFound
from orchestration.read import queries
from orchestration.services import recorder, scenarios
from orchestration.services.base import Service, actor_of
from orchestration.store import audit
from orchestration.store.models import Case, Draft, ProcessVersion
from orchestration.vocabulary import AuditAction, CaseStatus, Role

__all__ = [
    "CaseMove",
    "ChangeSummary",
    "Conflict",
    "DeployError",
    "DraftView",
    "Element",
    "Finding",
    "MigrationReport",
    "ProcessSummary",
    "RepositoryService",
    "ScenarioReport",
    "ScenarioRow",
    "VersionInfo",
]

# cases still on their way: a suspended case is paused, not finished
UNFINISHED = (CaseStatus.RUNNING, CaseStatus.SUSPENDED)


@dataclass(frozen=True)
class ProcessSummary:
    process_id: str
    name: str
    latest_version_id: int
    running_by_version: dict[int, int]  # version id -> cases not finished on it


@dataclass(frozen=True)
class VersionInfo:
    id: int
    number: int
    deployed_by: str  # username
    deployed_at: datetime
    changes: ChangeSummary  # against the version before (empty for the first)
    running: int
    process_id: str
    deployed_by_name: str


@dataclass(frozen=True)
class DraftView:
    id: int
    owner: str  # username
    based_on_version_id: int
    revision: int
    files: dict[str, str]
    updated_at: datetime
    process_id: str
    owner_name: str
    based_on_number: int
    updated_by: str


@dataclass(frozen=True)
class ScenarioRow:
    file: str
    name: str
    draft_passed: bool
    deployed_passed: bool
    differences: list[str]
    draft_message: str = ""  # why the scenario failed on the draft
    deployed_message: str = ""


@dataclass(frozen=True)
class ScenarioReport:
    rows: list[ScenarioRow]
    deployed_version_id: int


@dataclass(frozen=True)
class CaseMove:
    case_no: str
    current_steps: list[str]
    movable: bool
    reason: str  # why not; "" when it can move
    moved: list[dict[str, str]] = field(default_factory=list)  # deadlines that would move


@dataclass(frozen=True)
class MigrationReport:
    moved: list[str]
    refused: dict[str, str]  # case number -> why it stayed


def _may_read(viewer: Viewer) -> None:
    if viewer.role not in (Role.POLICY_OFFICER, Role.ADMIN):
        raise Forbidden("只有流程管理员和系统管理员可以查看流程版本")


def _may_change(viewer: Viewer) -> None:
    if viewer.role != Role.POLICY_OFFICER:
        raise Forbidden("只有流程管理员可以修改、部署流程或迁移案件")


def _when(moment: datetime) -> str:
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


class RepositoryService(Service):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        # what changed between two versions, computed once (versions never change)
        self._changes: dict[tuple[int, int], ChangeSummary] = {}

    # ---- processes and versions ---------------------------------------------------------------

    def processes(self, viewer: Viewer) -> list[ProcessSummary]:
        _may_read(viewer)
        with self.reading() as session:
            latest = dict(
                session.execute(
                    select(ProcessVersion.process_id, func.max(ProcessVersion.id)).group_by(
                        ProcessVersion.process_id
                    )
                ).all()
            )
            running = _running(session)
            summaries = []
            for process_id, version_id in sorted(latest.items()):
                spec = self.runtime.specs.get(_version(session, version_id)).spec
                ids = session.scalars(
                    select(ProcessVersion.id).where(ProcessVersion.process_id == process_id)
                )
                counts = {i: running[i] for i in ids if i in running}
                summaries.append(
                    ProcessSummary(process_id, spec.description or process_id, version_id, counts)
                )
            return summaries

    def versions(self, viewer: Viewer, process_id: str) -> list[VersionInfo]:
        """Every version of the process, the newest first."""
        _may_read(viewer)
        with self.reading() as session:
            rows = list(
                session.scalars(
                    select(ProcessVersion)
                    .where(ProcessVersion.process_id == process_id)
                    .order_by(ProcessVersion.number)
                )
            )
            if not rows:
                raise NotFound(f"没有流程 {process_id}")
            running = _running(session)
            names = queries.user_names(session, usernames={v.deployed_by for v in rows})
            infos = []
            for previous, version in zip([None, *rows], rows, strict=False):
                changes = self._summary(previous, version) if previous is not None else ChangeSummary()
                infos.append(self._info(version, changes, running.get(version.id, 0), names))
            return infos[::-1]

    def version_files(self, viewer: Viewer, version_id: int) -> dict[str, str]:
        _may_read(viewer)
        with self.reading() as session:
            return dict(_version(session, version_id).files)

    def export(self, viewer: Viewer, version_id: int) -> bytes:
        """The version's files as a zip laid out as the project holds them: processes/… and forms/…."""
        _may_read(viewer)
        with self.reading() as session:
            version = _version(session, version_id)
            files, when = dict(version.files), version.deployed_at.astimezone(SHANGHAI)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(files):
                # the deployment time on every entry: the same version always exports the same bytes
                entry = zipfile.ZipInfo(layout(name), date_time=when.timetuple()[:6])
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, files[name].encode("utf-8"))
        return buffer.getvalue()

    def _summary(self, previous: ProcessVersion, version: ProcessVersion) -> ChangeSummary:
        key = (previous.id, version.id)
        if key not in self._changes:
            old, new = self.runtime.specs.get(previous), self.runtime.specs.get(version)
            registry = self.runtime.codec.registry
            self._changes[key] = summarise(registry, old, new, previous.files, version.files)
        return self._changes[key]

    def _info(
        self, version: ProcessVersion, changes: ChangeSummary, running: int, names: Mapping[str, str]
    ) -> VersionInfo:
        return VersionInfo(
            id=version.id,
            number=version.number,
            deployed_by=version.deployed_by,
            deployed_at=version.deployed_at,
            changes=changes,
            running=running,
            process_id=version.process_id,
            deployed_by_name=names.get(version.deployed_by, version.deployed_by),
        )

    # ---- drafts -------------------------------------------------------------------------------

    def create_draft(self, viewer: Viewer, from_version_id: int) -> DraftView:
        _may_change(viewer)
        now = self.now()
        with self.runtime.transaction() as session:
            version = _version(session, from_version_id)
            latest = latest_version(session, version.process_id)
            assert latest is not None
            draft = Draft(
                process_id=version.process_id,
                owner=viewer.username,
                based_on_version_id=version.id,
                current_version_id=latest.id,
                revision=1,
                files=dict(version.files),
                created_at=now,
                updated_at=now,
                updated_by=viewer.username,
            )
            session.add(draft)
            session.flush()
            return self._view(session, draft)

    def draft(self, viewer: Viewer, draft_id: int) -> DraftView:
        _may_read(viewer)
        with self.reading() as session:
            return self._view(session, _draft(session, draft_id))

    def drafts(self, viewer: Viewer) -> list[DraftView]:
        """Every draft, the latest saved first: officers see each other's work in progress."""
        _may_read(viewer)
        with self.reading() as session:
            rows = session.scalars(select(Draft).order_by(Draft.updated_at.desc(), Draft.id.desc()))
            return [self._view(session, d) for d in rows]

    def save_draft(
        self, viewer: Viewer, draft_id: int, files: Mapping[str, str], expected_revision: int
    ) -> DraftView:
        """Replaces the draft's files. Only its owner saves it, and only over the revision the editor
        loaded: a save based on an older revision is a conflict naming who saved last and when."""
        _may_change(viewer)
        check_files(files)
        with self.runtime.transaction() as session:
            draft = _draft(session, draft_id, lock=True)
            self._owner(session, viewer, draft, "保存")
            _same_revision(session, draft, expected_revision)
            self._store(session, viewer, draft, dict(files))
            return self._view(session, draft)

    def delete_draft(self, viewer: Viewer, draft_id: int) -> None:
        _may_change(viewer)
        with self.runtime.transaction() as session:
            draft = _draft(session, draft_id, lock=True)
            self._owner(session, viewer, draft, "删除")
            session.delete(draft)

    def record_scenario(
        self, viewer: Viewer, draft_id: int, scenario: Mapping[str, Any], expected_revision: int
    ) -> str:
        """Keeps a scenario recorded in the browser with the draft (checked by the scenario schema), as a
        save over the revision the editor loaded; returns its file name."""
        _may_change(viewer)
        problems = scenario_schema.problems(scenario)
        if problems:
            raise InvalidData("场景写法有误：" + "；".join(problems))
        with self.runtime.transaction() as session:
            draft = _draft(session, draft_id, lock=True)
            self._owner(session, viewer, draft, "修改")
            _same_revision(session, draft, expected_revision)
            numbers = [int(m.group(1)) for n in draft.files if (m := re.match(rf"{SCENARIOS}(\d+)", n))]
            name = f"{SCENARIOS}{max(numbers, default=0) + 1:02d}_recorded.json"
            text = json.dumps(scenario, ensure_ascii=False, indent=2) + "\n"
            self._store(session, viewer, draft, {**draft.files, name: text})
        return name

    def recorder_draft(self, viewer: Viewer, draft_id: int) -> DraftView:
        """The draft a scenario is to be recorded for: only who may change drafts records."""
        _may_change(viewer)
        return self.draft(viewer, draft_id)

    def replay(
        self,
        viewer: Viewer,
        draft_id: int,
        clock: object,
        steps: object,
        proposal: object = None,
        form_for: object = None,
    ) -> recorder.Recording:
        """The recorder's call: a scenario being recorded replayed on the draft's files, with the proposed
        step tried and the form asked for drawn (see services/recorder.py). Only who may change drafts
        records; the draft's author keeps the scenario (record_scenario)."""
        _may_change(viewer)
        with self.reading() as session:
            draft = _draft(session, draft_id)
            files, process_id = dict(draft.files), draft.process_id
        return recorder.replay(files, process_id, clock, steps, proposal, form_for)

    def _owner(self, session: Session, viewer: Viewer, draft: Draft, act: str) -> None:
        if draft.owner != viewer.username:
            owner = queries.user_names(session, usernames={draft.owner}).get(draft.owner, draft.owner)
            raise Forbidden(f"草稿属于{owner}，只有其作者可以{act}；您可以基于同一版本另建草稿")

    def _store(self, session: Session, viewer: Viewer, draft: Draft, files: dict[str, str]) -> None:
        check_files(files)
        draft.files = files
        draft.revision += 1
        draft.updated_at = self.now()
        draft.updated_by = viewer.username

    def _view(self, session: Session, draft: Draft) -> DraftView:
        based_on = _version(session, draft.based_on_version_id)
        owner = queries.user_names(session, usernames={draft.owner}).get(draft.owner, draft.owner)
        return DraftView(
            id=draft.id,
            owner=draft.owner,
            based_on_version_id=draft.based_on_version_id,
            revision=draft.revision,
            files=dict(draft.files),
            updated_at=draft.updated_at,
            process_id=draft.process_id,
            owner_name=owner,
            based_on_number=based_on.number,
            updated_by=draft.updated_by,
        )

    # ---- checking, scenarios, deploying --------------------------------------------------------

    def check(self, viewer: Viewer, draft_id: int) -> list[Finding]:
        _may_read(viewer)
        with self.reading() as session:
            draft = _draft(session, draft_id)
            files, process_id = dict(draft.files), draft.process_id
        return self.runtime.check(files, process_id)

    def timer_preview(self, viewer: Viewer, draft_id: int, expression: str) -> TimerPreview:
        """A timer's expression as the side panel's builder shows it: its fields, if it has the builder's
        shape, and the moment it gives with the check's sample data of the saved draft (or why none)."""
        _may_read(viewer)
        with self.reading() as session:
            files = dict(_draft(session, draft_id).files)
        return self.runtime.timer_preview(files, expression)

    def run_scenarios(self, viewer: Viewer, draft_id: int) -> ScenarioReport:
        """The draft's scenarios, each run on the draft and on the deployed version (throwaway databases)."""
        _may_read(viewer)
        with self.reading() as session:
            draft = _draft(session, draft_id)
            deployed = latest_version(session, draft.process_id)
            assert deployed is not None
            files, process_id = dict(draft.files), draft.process_id
            deployed_files, deployed_id = dict(deployed.files), deployed.id
        compared = scenarios.compare(scenario_texts(files), files, deployed_files, process_id)
        rows = [
            ScenarioRow(
                c.file,
                c.name,
                c.draft.passed,
                c.deployed.passed,
                c.differences,
                c.draft.message,
                c.deployed.message,
            )
            for c in compared
        ]
        return ScenarioReport(rows, deployed_id)

    def deploy(self, viewer: Viewer, draft_id: int) -> VersionInfo:
        """A new version from the draft, for new cases; running cases stay on theirs. Refused with the
        findings when the check finds an error, and as a conflict when another version was deployed since
        the draft was made (its changes would be lost; a draft of an older version made to return to it is
        fine). The draft is used up."""
        _may_change(viewer)
        with self.runtime.transaction() as session:
            draft = _draft(session, draft_id, lock=True)
            latest = latest_version(session, draft.process_id)
            if latest is not None and latest.id != draft.current_version_id:
                who = queries.user_names(session, usernames={latest.deployed_by}).get(latest.deployed_by)
                raise Conflict(
                    f"草稿建立后，{who or latest.deployed_by}于{_when(latest.deployed_at)}"
                    f"部署了第{latest.number}版：直接部署会丢失其中的修改。请基于第{latest.number}版新建草稿，"
                    "把修改合并进去"
                )
            version, _ = self.runtime.deploy_in(
                session, draft.files, actor_of(viewer), draft.process_id, draft=draft.id, owner=draft.owner
            )
            session.delete(draft)
            names = queries.user_names(session, usernames={version.deployed_by})
            previous = session.scalar(
                select(ProcessVersion).where(
                    ProcessVersion.process_id == version.process_id,
                    ProcessVersion.number == version.number - 1,
                )
            )
            changes = self._summary(previous, version) if previous is not None else ChangeSummary()
            running = _running(session).get(version.id, 0)
            return self._info(version, changes, running, names)

    # ---- migrating running cases --------------------------------------------------------------

    def migration_preview(self, viewer: Viewer, from_version_id: int, to_version_id: int) -> list[CaseMove]:
        """Which running cases of a version could move to another now, and why not; nothing is changed."""
        _may_read(viewer)
        with self.reading() as session:
            _same_process(session, from_version_id, to_version_id)
            moves = []
            unfinished = _unfinished_on(from_version_id)
            ids = list(session.scalars(unfinished.with_only_columns(Case.id)))
            # a few hundred states at a time: ten thousand of them would not fit well in memory at once
            for chunk in range(0, len(ids), 500):
                for case in session.scalars(unfinished.where(Case.id.in_(ids[chunk : chunk + 500]))):
                    preview = self.runtime.preview_migration(session, case, to_version_id)
                    verdict, steps = preview.verdict, preview.current_steps
                    moves.append(
                        CaseMove(case.case_no, steps, verdict.movable, verdict.reason, preview.moved)
                    )
                session.expunge_all()
            return moves

    def migrate(
        self, viewer: Viewer, from_version_id: int, to_version_id: int, case_nos: list[str]
    ) -> MigrationReport:
        """Moves the cases, each all or nothing in its own locked transaction; a case that cannot move (or
        is not a running case of the source version) stays as it was and is listed with the reason."""
        _may_change(viewer)
        actor = actor_of(viewer)
        with self.reading() as session:
            source, target = _same_process(session, from_version_id, to_version_id)
            numbers = (source.number, target.number)
            found: dict[str, int] = {}
            for chunk in range(0, len(case_nos), 1000):  # bound parameters per statement stay few
                rows = session.execute(
                    select(Case.case_no, Case.id).where(
                        Case.version_id == from_version_id,
                        Case.status.in_(UNFINISHED),
                        Case.case_no.in_(case_nos[chunk : chunk + 1000]),
                    )
                )
                found.update({case_no: case_id for case_no, case_id in rows})
        moved, refused = [], {}
        for case_no in case_nos:
            if case_no not in found:
                refused[case_no] = f"不是第{numbers[0]}版上未办结的案件"
                continue
            try:
                self.runtime.migrate_case(found[case_no], to_version_id, actor)
            except MigrationRefused as exc:
                refused[case_no] = exc.message
            else:
                moved.append(case_no)
        with self.runtime.transaction() as session:
            detail = {"from": numbers[0], "to": numbers[1], "moved": moved, "refused": refused}
            audit.record(session, self.now(), viewer.username, AuditAction.MIGRATE, None, None, **detail)
        return MigrationReport(moved, refused)


def _same_revision(session: Session, draft: Draft, expected_revision: int) -> None:
    """A change based on an older revision than the draft's is a conflict naming who saved last and when."""
    if draft.revision != expected_revision:
        names = queries.user_names(session, usernames={draft.updated_by})
        raise Conflict(
            f"草稿已由{names.get(draft.updated_by, draft.updated_by)}于{_when(draft.updated_at)}"
            f"保存为第{draft.revision}版，您的修改基于第{expected_revision}版，未保存。"
            "请重新打开草稿后再修改"
        )


def _version(session: Session, version_id: int) -> ProcessVersion:
    version = session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound("流程版本不存在")
    return version


def _draft(session: Session, draft_id: int, lock: bool = False) -> Draft:
    query = select(Draft).where(Draft.id == draft_id)
    draft = session.scalar(query.with_for_update() if lock else query)
    if draft is None:
        raise NotFound("草稿不存在（可能已部署或被删除）")
    return draft


def _same_process(session: Session, source_id: int, target_id: int) -> tuple[ProcessVersion, ProcessVersion]:
    source, target = _version(session, source_id), _version(session, target_id)
    if source.process_id != target.process_id:
        raise InvalidData("只能在同一流程的版本之间迁移案件")
    if source.id == target.id:
        raise InvalidData("源版本与目标版本相同")
    return source, target


def _unfinished_on(version_id: int) -> Select[Any]:
    return select(Case).where(Case.version_id == version_id, Case.status.in_(UNFINISHED)).order_by(Case.id)


def _running(session: Session) -> dict[int, int]:
    """Version id -> how many cases on it are not finished."""
    rows = session.execute(
        select(Case.version_id, func.count()).where(Case.status.in_(UNFINISHED)).group_by(Case.version_id)
    )
    return {version_id: count for version_id, count in rows}
