"""What administrators keep about people and organisations: users (create, edit, deactivate, reactivate,
reset a password), and the tree of regions (city → counties → townships) with the organisations in
each, their document-number prefix and seal name.

An administrator keeps what lies in their own region and below, as they see its cases. Every change is
one transaction with its audit event; a refusal writes nothing. Deactivating a user, or moving them to
another role or organisation, gives the tasks they had claimed back to the pool of the task's role in
its organisation, each release audited on its case; a deactivated user's sessions end, and so do those of
a user whose password is reset or whose sessions an administrator ends (their rows are deleted, see
services/users.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from orchestration.domain.access import Viewer, region_subtree
from orchestration.domain.assignment import ROLE_NAMES
from orchestration.domain.organisations import CHILD_LEVEL, KIND_NAMES, LEVEL_NAMES, ROLE_KINDS, side_kinds
from orchestration.errors import Conflict, Forbidden, InvalidData, NotFound
from orchestration.read.queries import Page, clamp_page
from orchestration.services.base import Service, require_admin
from orchestration.services.users import end_sessions, password_problem
from orchestration.store import audit
from orchestration.store.models import Case, Notification, OpenTask, Organisation, Region, User
from orchestration.vocabulary import AuditAction, Role

USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{1,63}")
ORG_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,63}")
REGION_CODE = re.compile(r"\d{6,12}")
DOCUMENT_PREFIX = re.compile(r"[\w\u4e00-\u9fff]{1,16}")
# Roles a person may hold (the system's own role is nobody's).
ROLES = tuple(role for role in Role if role != Role.SYSTEM)
INVALID = "提交的内容有误，请按提示修改"


@dataclass(frozen=True)
class UserRow:
    username: str
    display_name: str
    role: str
    org_code: str | None
    org_name: str
    active: bool
    must_change_password: bool
    claimed_tasks: int = 0


@dataclass(frozen=True)
class OrganisationRow:
    code: str
    name: str
    kind: str
    region_code: str
    region_name: str
    document_prefix: str | None
    seal_name: str | None
    court_name: str | None
    users: int


@dataclass(frozen=True)
class OrganisationSettings:
    code: str
    name: str
    kind: str
    document_prefix: str | None
    seal_name: str | None
    court_name: str | None


@dataclass(frozen=True)
class RegionNode:
    code: str
    name: str
    level: str
    parent_code: str | None
    organisations: list[OrganisationRow] = field(default_factory=list)
    children: list[RegionNode] = field(default_factory=list)


@dataclass(frozen=True)
class UserFilter:
    text: str | None = None  # part of the user name or the display name
    org_code: str | None = None
    active: bool | None = None  # None: both
    page: int = 1


def _reason(reason: str | None, required: bool) -> str:
    cleaned = (reason or "").strip()
    if required and not cleaned:
        raise InvalidData(INVALID, {"reason": "请填写原因"})
    if len(cleaned) > 500:
        raise InvalidData(INVALID, {"reason": "原因不能超过500个字符"})
    return cleaned


def _text(errors: dict[str, str], name: str, value: str | None, label: str, limit: int) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        errors[name] = f"请填写{label}"
    elif len(cleaned) > limit:
        errors[name] = f"{label}不能超过{limit}个字符"
    return cleaned


def _optional(errors: dict[str, str], name: str, value: str | None, label: str, limit: int) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > limit:
        errors[name] = f"{label}不能超过{limit}个字符"
    return cleaned or None


def _changes(row: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Sets the values on the row; returns {field: [old, new]} of those that changed."""
    changed = {}
    for name, value in values.items():
        old = getattr(row, name)
        if old != value:
            changed[name] = [old, value]
            setattr(row, name, value)
    return changed


class PeopleService(Service):
    @contextmanager
    def _writing(self, viewer: Viewer) -> Iterator[tuple[Session, set[str]]]:
        """A write transaction for an administrator, with the regions they keep."""
        require_admin(viewer)
        with self.runtime.transaction() as session:
            yield session, self._scope(session, viewer)

    @contextmanager
    def _read(self, viewer: Viewer) -> Iterator[tuple[Session, set[str]]]:
        require_admin(viewer)
        with self.reading() as session:
            yield session, self._scope(session, viewer)

    @staticmethod
    def _scope(session: Session, viewer: Viewer) -> set[str]:
        return region_subtree(session, viewer.region_code) if viewer.region_code else set()

    def _audit(self, session: Session, viewer: Viewer, action: AuditAction, **detail: Any) -> None:
        audit.record(session, self.now(), viewer.username, action, **detail)

    # ---- users ------------------------------------------------------------------------------

    def users(self, viewer: Viewer, filters: UserFilter) -> Page[UserRow]:
        page, per_page = clamp_page(filters.page)
        with self._read(viewer) as (session, scope):
            query = (
                select(User, Organisation)
                .join(Organisation, Organisation.id == User.org_id)
                .where(Organisation.region_code.in_(scope))
            )
            if filters.text and filters.text.strip():
                needle = filters.text.strip()
                query = query.where(
                    or_(
                        User.username.icontains(needle, autoescape=True),
                        User.display_name.icontains(needle, autoescape=True),
                    )
                )
            if filters.org_code:
                query = query.where(Organisation.code == filters.org_code)
            if filters.active is not None:
                query = query.where(User.active.is_(filters.active))
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.execute(
                query.order_by(Organisation.region_code, Organisation.code, User.username)
                .limit(per_page)
                .offset((page - 1) * per_page)
            )
            items = [_user_row(user, org) for user, org in rows]
        return Page(items, total, page, per_page)

    def user(self, viewer: Viewer, username: str) -> UserRow:
        with self._read(viewer) as (session, scope):
            user = self._user_in_scope(session, scope, username, for_update=False)
            return _user_row(user, user.org, _count(session, OpenTask, OpenTask.claimed_by == user.id))

    def organisation_choices(self, viewer: Viewer) -> list[tuple[str, str]]:
        """(code, name) of the organisations the administrator keeps, for a user's organisation."""
        with self._read(viewer) as (session, scope):
            rows = session.execute(
                select(Organisation.code, Organisation.name)
                .where(Organisation.region_code.in_(scope))
                .order_by(Organisation.region_code, Organisation.code)
            )
            return [(code, name) for code, name in rows]

    def create_user(
        self,
        viewer: Viewer,
        username: str,
        display_name: str,
        role: str,
        org_code: str,
        password: str,
        reason: str | None = None,
    ) -> None:
        """A new user, who must choose their own password at their first login."""
        note = _reason(reason, required=False)
        errors: dict[str, str] = {}
        username = (username or "").strip()
        if not USERNAME.fullmatch(username):
            errors["username"] = "用户名须为2至64位小写字母、数字或 _ . -，以字母或数字开头"
        problem = password_problem(password or "")
        if problem:
            errors["password"] = problem
        with self._writing(viewer) as (session, scope):
            values = self._user_values(session, scope, errors, display_name, role, org_code)
            if "username" not in errors and session.scalar(select(User.id).where(User.username == username)):
                errors["username"] = "该用户名已被使用"
            if errors:
                raise InvalidData(INVALID, errors)
            session.add(
                User(
                    username=username,
                    password_hash=generate_password_hash(password),
                    must_change_password=True,
                    active=True,
                    **values,
                )
            )
            _flush(session, "username", "该用户名已被使用")
            self._audit(
                session,
                viewer,
                AuditAction.USER_CREATE,
                user=username,
                display_name=values["display_name"],
                role=values["role"],
                organisation=org_code,
                reason=note,
            )

    def update_user(
        self,
        viewer: Viewer,
        username: str,
        display_name: str,
        role: str,
        org_code: str,
        reason: str | None = None,
    ) -> int:
        """Changes a user's name, role or organisation; returns how many claimed tasks went back to the
        pool (a new role or organisation is not the one they were claimed in)."""
        note = _reason(reason, required=False)
        errors: dict[str, str] = {}
        with self._writing(viewer) as (session, scope):
            user = self._user_in_scope(session, scope, username)
            values = self._user_values(session, scope, errors, display_name, role, org_code)
            if errors:
                raise InvalidData(INVALID, errors)
            if user.id == viewer.user_id and (values["role"] != user.role or values["org_id"] != user.org_id):
                raise Forbidden("不能更改自己的角色或所属机构，请由其他管理员办理")
            old_org = user.org.code if user.org else None
            changed = _changes(user, values)
            if not changed:
                return 0
            released = 0
            if "org_id" in changed:
                changed["organisation"] = [old_org, org_code]
                del changed["org_id"]
            if "role" in changed or "organisation" in changed:
                released = self._release_claims(session, viewer, user, note or "用户角色或所属机构变更")
            self._audit(
                session,
                viewer,
                AuditAction.USER_UPDATE,
                user=username,
                changes=changed,
                released_tasks=released,
                reason=note,
            )
            return released

    def deactivate_user(self, viewer: Viewer, username: str, reason: str) -> int:
        """The user can no longer sign in and their sessions end; returns how many tasks they had
        claimed went back to the pool."""
        note = _reason(reason, required=True)
        with self._writing(viewer) as (session, scope):
            user = self._user_in_scope(session, scope, username)
            if user.id == viewer.user_id:
                raise Forbidden("不能停用自己的账号")
            if not user.active:
                raise Conflict(f"用户 {username} 已停用")
            user.active = False
            end_sessions(session, user.id)
            released = self._release_claims(session, viewer, user, note)
            self._audit(
                session,
                viewer,
                AuditAction.USER_DEACTIVATE,
                user=username,
                released_tasks=released,
                reason=note,
            )
            return released

    def reactivate_user(self, viewer: Viewer, username: str, reason: str) -> None:
        note = _reason(reason, required=True)
        with self._writing(viewer) as (session, scope):
            user = self._user_in_scope(session, scope, username)
            if user.active:
                raise Conflict(f"用户 {username} 未停用")
            user.active = True
            self._audit(session, viewer, AuditAction.USER_REACTIVATE, user=username, reason=note)

    def reset_password(self, viewer: Viewer, username: str, password: str, reason: str) -> None:
        """A temporary password: the user's sessions end and they must choose a new one at the next login."""
        note = _reason(reason, required=True)
        problem = password_problem(password or "")
        if problem:
            raise InvalidData(INVALID, {"password": problem})
        with self._writing(viewer) as (session, scope):
            user = self._user_in_scope(session, scope, username)
            user.password_hash = generate_password_hash(password)
            user.must_change_password = True
            end_sessions(session, user.id)
            self._audit(session, viewer, AuditAction.PASSWORD_RESET, user=username, reason=note)

    def end_user_sessions(self, viewer: Viewer, username: str, reason: str) -> int:
        """Ends every session of the user now (a lost phone, a shared computer); returns how many."""
        note = _reason(reason, required=True)
        with self._writing(viewer) as (session, scope):
            user = self._user_in_scope(session, scope, username)
            ended = end_sessions(session, user.id)
            self._audit(session, viewer, AuditAction.SESSIONS_END, user=username, sessions=ended, reason=note)
            return ended

    def _user_in_scope(
        self, session: Session, scope: set[str], username: str, for_update: bool = True
    ) -> User:
        query = select(User).where(User.username == username)
        user = session.scalar(query.with_for_update(of=User) if for_update else query)
        if user is None:
            raise NotFound(f"用户不存在：{username}")
        if user.org is None or user.org.region_code not in scope:
            raise Forbidden(f"用户 {username} 不在您管理的区域内")
        return user

    def _user_values(
        self,
        session: Session,
        scope: set[str],
        errors: dict[str, str],
        display_name: str,
        role: str,
        org_code: str,
    ) -> dict[str, Any]:
        name = _text(errors, "display_name", display_name, "姓名", 100)
        if role not in ROLES:
            errors["role"] = "请选择角色"
        org = session.scalar(select(Organisation).where(Organisation.code == (org_code or "")))
        if org is None or org.region_code not in scope:
            errors["org_code"] = "请选择您管理区域内的机构"
        elif role in ROLE_KINDS and org.kind not in ROLE_KINDS[role]:
            kinds = "、".join(KIND_NAMES[k] for k in ROLE_KINDS[role])
            errors["org_code"] = f"{ROLE_NAMES[role]}只能属于{kinds}"
        return {"display_name": name, "role": role, "org_id": org.id if org else None}

    def _release_claims(self, session: Session, viewer: Viewer, user: User, reason: str) -> int:
        """Gives the user's claimed tasks back to their pool. The cases are locked before their tasks, in
        the order every step and claim locks them, so this never deadlocks with a completion."""
        case_ids = list(
            session.scalars(select(OpenTask.case_id).where(OpenTask.claimed_by == user.id).distinct())
        )
        if not case_ids:
            return 0
        list(
            session.scalars(select(Case.id).where(Case.id.in_(case_ids)).order_by(Case.id).with_for_update())
        )
        tasks = session.scalars(
            select(OpenTask)
            .where(OpenTask.claimed_by == user.id)
            .order_by(OpenTask.case_id, OpenTask.id)
            .with_for_update(of=OpenTask)
            .execution_options(populate_existing=True)
        ).all()
        for task in tasks:
            task.claimed_by = None
            audit.record(
                session,
                self.now(),
                viewer.username,
                AuditAction.RELEASE,
                task.case_id,
                task.task_name,
                task_id=task.id,
                title=task.title,
                previous=user.display_name,
                reason=reason,
            )
        return len(tasks)

    # ---- regions and organisations --------------------------------------------------------------

    def tree(self, viewer: Viewer) -> list[RegionNode]:
        """The administrator's region and everything below it, with the organisations of each region."""
        with self._read(viewer) as (session, scope):
            regions = list(
                session.scalars(select(Region).where(Region.code.in_(scope)).order_by(Region.code))
            )
            orgs = self._organisation_rows(session, Organisation.region_code.in_(scope))
        nodes = {r.code: RegionNode(r.code, r.name, r.level, r.parent_code) for r in regions}
        for row in orgs:
            nodes[row.region_code].organisations.append(row)
        roots: list[RegionNode] = []
        for node in nodes.values():
            parent = nodes.get(node.parent_code or "")
            (parent.children if parent is not None else roots).append(node)
        return roots

    def organisation(self, viewer: Viewer, code: str) -> OrganisationRow:
        with self._read(viewer) as (session, scope):
            rows = self._organisation_rows(session, Organisation.code == code)
            if not rows:
                raise NotFound(f"机构不存在：{code}")
            if rows[0].region_code not in scope:
                raise Forbidden(f"机构 {code} 不在您管理的区域内")
            return rows[0]

    def region(self, viewer: Viewer, code: str) -> RegionNode:
        with self._read(viewer) as (session, scope):
            region = self._region_in_scope(session, scope, code, for_update=False)
            return RegionNode(region.code, region.name, region.level, region.parent_code)

    @staticmethod
    def _organisation_rows(session: Session, where: Any) -> list[OrganisationRow]:
        users = select(func.count()).where(User.org_id == Organisation.id).scalar_subquery()
        rows = session.execute(
            select(Organisation, Region.name, users)
            .join(Region, Region.code == Organisation.region_code)
            .where(where)
            .order_by(Organisation.region_code, Organisation.code)
        )
        return [
            OrganisationRow(
                o.code,
                o.name,
                o.kind,
                o.region_code,
                region_name,
                o.document_prefix,
                o.seal_name,
                o.court_name,
                count,
            )
            for o, region_name, count in rows
        ]

    def create_organisation(
        self,
        viewer: Viewer,
        code: str,
        name: str,
        kind: str,
        region_code: str,
        document_prefix: str | None,
        seal_name: str | None,
        court_name: str | None,
        reason: str | None = None,
    ) -> None:
        note = _reason(reason, required=False)
        errors: dict[str, str] = {}
        code = (code or "").strip()
        if not ORG_CODE.fullmatch(code):
            errors["code"] = "机构代码须为2至64位字母、数字、_ 或 -"
        if kind not in KIND_NAMES:
            errors["kind"] = "请选择机构类型"
        with self._writing(viewer) as (session, scope):
            if region_code not in scope:
                errors["region_code"] = "请选择您管理范围内的区域"
            values = _organisation_values(
                session, errors, None, kind, name, document_prefix, seal_name, court_name
            )
            if "code" not in errors and session.scalar(
                select(Organisation.id).where(Organisation.code == code)
            ):
                errors["code"] = "该机构代码已被使用"
            if errors:
                raise InvalidData(INVALID, errors)
            session.add(Organisation(code=code, kind=kind, region_code=region_code, **values))
            _flush(session, "code", "该机构代码已被使用")
            self._audit(
                session,
                viewer,
                AuditAction.ORGANISATION_CREATE,
                organisation=code,
                kind=kind,
                region=region_code,
                reason=note,
                **values,
            )

    def update_organisation(
        self,
        viewer: Viewer,
        code: str,
        name: str,
        document_prefix: str | None,
        seal_name: str | None,
        court_name: str | None,
        reason: str | None = None,
    ) -> None:
        """Its name and what its documents print; its kind and region stay (its cases were assigned by
        them: a wrong one is removed and created again while nothing refers to it)."""
        note = _reason(reason, required=False)
        with self._writing(viewer) as (session, scope):
            org = self._organisation_in_scope(session, scope, code)
            self._update_organisation(
                session, viewer, org, name, document_prefix, seal_name, court_name, note
            )

    def organisations(self) -> list[OrganisationSettings]:
        """Every organisation's document settings (printed on every document it issues: no secret)."""
        with self.reading() as session:
            rows = session.scalars(select(Organisation).order_by(Organisation.code))
            return [_settings(o) for o in rows]

    def set_document_settings(
        self,
        viewer: Viewer,
        code: str,
        prefix: str | None = None,
        seal_name: str | None = None,
        court_name: str | None = None,
    ) -> OrganisationSettings:
        """An organisation's prefix of document numbers, the name its seal bears and the court where it
        sits; those not given stay (the command line sets them one by one)."""
        with self._writing(viewer) as (session, scope):
            org = self._organisation_in_scope(session, scope, code)
            self._update_organisation(
                session,
                viewer,
                org,
                org.name,
                org.document_prefix if prefix is None else prefix,
                org.seal_name if seal_name is None else seal_name,
                org.court_name if court_name is None else court_name,
                "",
            )
            return _settings(org)

    def _update_organisation(
        self,
        session: Session,
        viewer: Viewer,
        org: Organisation,
        name: str,
        document_prefix: str | None,
        seal_name: str | None,
        court_name: str | None,
        note: str,
    ) -> None:
        errors: dict[str, str] = {}
        values = _organisation_values(
            session, errors, org.id, org.kind, name, document_prefix, seal_name, court_name
        )
        if errors:
            raise InvalidData(INVALID, errors)
        changed = _changes(org, values)
        if changed:
            self._audit(
                session, viewer, AuditAction.ORGANISATION, organisation=org.code, changes=changed, reason=note
            )

    def delete_organisation(self, viewer: Viewer, code: str, reason: str) -> None:
        note = _reason(reason, required=True)
        with self._writing(viewer) as (session, scope):
            org = self._organisation_in_scope(session, scope, code)
            handled = or_(
                Case.petition_office_id == org.id,
                Case.mediation_org_id == org.id,
                Case.justice_org_id == org.id,
            )
            references = [
                ("用户", _count(session, User, User.org_id == org.id), "名"),
                ("案件", _count(session, Case, handled), "件"),
                ("待办任务", _count(session, OpenTask, OpenTask.org_id == org.id), "项"),
                ("通知", _count(session, Notification, Notification.org_id == org.id), "条"),
            ]
            _refuse_if_referred(f"机构“{org.name}”", references)
            self._audit(
                session,
                viewer,
                AuditAction.ORGANISATION_DELETE,
                organisation=code,
                name=org.name,
                reason=note,
            )
            session.delete(org)

    def create_region(
        self, viewer: Viewer, code: str, name: str, parent_code: str, reason: str | None = None
    ) -> None:
        """A county under a city or a township under a county (the level follows from the parent)."""
        note = _reason(reason, required=False)
        errors: dict[str, str] = {}
        code = (code or "").strip()
        if not REGION_CODE.fullmatch(code):
            errors["code"] = "区划代码须为6至12位数字"
        cleaned = _text(errors, "name", name, "名称", 100)
        with self._writing(viewer) as (session, scope):
            parent = session.get(Region, parent_code or "")
            level = CHILD_LEVEL.get(parent.level) if parent is not None else None
            if parent is None or parent.code not in scope:
                errors["parent_code"] = "请选择您管理范围内的上级区域"
            elif level is None:
                errors["parent_code"] = f"{LEVEL_NAMES[parent.level]}之下不能再设区域"
            if "code" not in errors and session.get(Region, code) is not None:
                errors["code"] = "该区划代码已被使用"
            if errors or parent is None or level is None:
                raise InvalidData(INVALID, errors)
            session.add(Region(code=code, name=cleaned, level=level, parent_code=parent.code))
            _flush(session, "code", "该区划代码已被使用")
            self._audit(
                session,
                viewer,
                AuditAction.REGION_CREATE,
                region=code,
                name=cleaned,
                level=level,
                parent=parent.code,
                reason=note,
            )

    def update_region(self, viewer: Viewer, code: str, name: str, reason: str | None = None) -> None:
        note = _reason(reason, required=False)
        errors: dict[str, str] = {}
        cleaned = _text(errors, "name", name, "名称", 100)
        with self._writing(viewer) as (session, scope):
            region = self._region_in_scope(session, scope, code)
            if errors:
                raise InvalidData(INVALID, errors)
            changed = _changes(region, {"name": cleaned})
            if changed:
                self._audit(
                    session, viewer, AuditAction.REGION_UPDATE, region=code, changes=changed, reason=note
                )

    def delete_region(self, viewer: Viewer, code: str, reason: str) -> None:
        note = _reason(reason, required=True)
        with self._writing(viewer) as (session, scope):
            region = self._region_in_scope(session, scope, code)
            if region.code == viewer.region_code:
                raise Forbidden("不能删除您自己所在的区域")
            references = [
                ("下级区域", _count(session, Region, Region.parent_code == code), "个"),
                ("机构", _count(session, Organisation, Organisation.region_code == code), "个"),
                ("案件", _count(session, Case, Case.locality_code == code), "件"),
            ]
            _refuse_if_referred(f"区域“{region.name}”", references)
            self._audit(
                session, viewer, AuditAction.REGION_DELETE, region=code, name=region.name, reason=note
            )
            session.delete(region)

    def _organisation_in_scope(self, session: Session, scope: set[str], code: str) -> Organisation:
        org = session.scalar(
            select(Organisation).where(Organisation.code == code).with_for_update(of=Organisation)
        )
        if org is None:
            raise NotFound(f"机构不存在：{code}")
        if org.region_code not in scope:
            raise Forbidden(f"机构 {code} 不在您管理的区域内")
        return org

    def _region_in_scope(
        self, session: Session, scope: set[str], code: str, for_update: bool = True
    ) -> Region:
        query = select(Region).where(Region.code == code)
        region = session.scalar(query.with_for_update() if for_update else query)
        if region is None:
            raise NotFound(f"区域不存在：{code}")
        if region.code not in scope:
            raise Forbidden(f"区域 {code} 不在您管理的范围内")
        return region


def _organisation_values(
    session: Session,
    errors: dict[str, str],
    org_id: int | None,
    kind: str,
    name: str,
    document_prefix: str | None,
    seal_name: str | None,
    court_name: str | None,
) -> dict[str, Any]:
    values = {
        "name": _text(errors, "name", name, "机构名称", 200),
        "document_prefix": (document_prefix or "").strip() or None,
        "seal_name": _optional(errors, "seal_name", seal_name, "印章名称", 200),
        "court_name": _optional(errors, "court_name", court_name, "所在地基层人民法院", 200),
    }
    prefix = values["document_prefix"]
    if prefix is not None:
        if not DOCUMENT_PREFIX.fullmatch(prefix):
            errors["document_prefix"] = "文号前缀应为1至16个汉字、字母或数字（如“城八”）"
        else:
            # two bodies issuing the same kinds of document with one prefix would repeat numbers
            clash = session.scalar(
                select(Organisation.name).where(
                    Organisation.document_prefix == prefix,
                    Organisation.id != (org_id or 0),
                    Organisation.kind.in_(side_kinds(kind)),
                )
            )
            if clash is not None:
                errors["document_prefix"] = f"文号前缀“{prefix}”已由{clash}使用，同类文书的文号会重复"
    return values


def _settings(org: Organisation) -> OrganisationSettings:
    return OrganisationSettings(
        org.code, org.name, org.kind, org.document_prefix, org.seal_name, org.court_name
    )


def _user_row(user: User, org: Organisation | None, claimed: int = 0) -> UserRow:
    return UserRow(
        user.username,
        user.display_name,
        user.role,
        org.code if org else None,
        org.name if org else "",
        user.active,
        user.must_change_password,
        claimed,
    )


def _count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _refuse_if_referred(what: str, references: list[tuple[str, int, str]]) -> None:
    """Refuses to remove what rows still refer to: "机构“…”仍有用户 2 名、案件 5 件，不能删除"."""
    found = [f"{label} {count} {unit}" for label, count, unit in references if count]
    if found:
        raise Conflict(f"{what}仍有{'、'.join(found)}，不能删除")


def _flush(session: Session, field_name: str, message: str) -> None:
    """Writes the new row now: a name a concurrent transaction took meanwhile is a Chinese refusal too."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise InvalidData(INVALID, {field_name: message}) from exc
