"""Signing in: checking a password, turning a session back into the signed-in user, and a user changing
their own password (which an administrator's reset makes them do before anything else).

The session id carries a digest of the password hash and of the user's session generation, so a changed
password ends existing sessions, and so does deactivating a user (refused while inactive, and the
generation raised, so the sessions stay ended once the user is reactivated)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from orchestration.domain.access import Viewer
from orchestration.errors import InvalidData
from orchestration.services.base import Service
from orchestration.store import audit
from orchestration.store.models import Organisation, Region, User
from orchestration.vocabulary import AuditAction

MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class SignedIn:
    viewer: Viewer
    session_id: str  # "<user id>.<token>": what the session cookie carries
    must_change_password: bool = False


def _token(user_id: int, password_hash: str, generation: int) -> str:
    return hashlib.sha256(f"{user_id}:{generation}:{password_hash}".encode()).hexdigest()[:16]


def _signed_in(user: User) -> SignedIn:
    session_id = f"{user.id}.{_token(user.id, user.password_hash, user.session_generation)}"
    return SignedIn(Viewer.of(user), session_id, user.must_change_password)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, in Chinese; None when it is."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少需要{MIN_PASSWORD_LENGTH}个字符"
    if password.strip() != password:
        return "密码首尾不能是空格"
    if password.isdigit() or password.isalpha():
        return "密码不能只由数字或只由字母组成"
    return None


@cache
def _dummy_hash() -> str:
    # Checking a password against this when the user does not exist keeps the response time the same,
    # so timing does not reveal which user names exist.
    return generate_password_hash("not-a-password")


class UserService(Service):
    def authenticate(self, username: str, password: str) -> SignedIn | None:
        with self.reading() as session:
            user = session.scalar(select(User).where(User.username == username)) if username else None
            hashed = user.password_hash if user is not None and user.password_hash else _dummy_hash()
            if check_password_hash(hashed, password) and user is not None and user.active:
                return _signed_in(user)
        return None

    def load(self, session_id: str) -> SignedIn | None:
        """The user a session belongs to, if it is still valid (same password, still active)."""
        raw_id, _, token = session_id.partition(".")
        if not raw_id.isascii() or not raw_id.isdigit() or len(raw_id) > 18:
            return None
        # Every request asks this: plain columns in one statement, no ORM objects to build.
        query = (
            select(
                User.password_hash,
                User.session_generation,
                User.must_change_password,
                User.username,
                User.display_name,
                User.role,
                User.org_id,
                Organisation.name,
                Organisation.kind,
                Organisation.region_code,
                Region.level,
            )
            .outerjoin(Organisation, Organisation.id == User.org_id)
            .outerjoin(Region, Region.code == Organisation.region_code)
            .where(User.id == int(raw_id), User.active.is_(True))
        )
        with self.reading() as session:
            row = session.execute(query).first()
        if row is None or _token(int(raw_id), row[0], row[1]) != token:
            return None
        _, _, must_change, username, display_name, role, org_id, org_name, kind, region, level = row
        viewer = Viewer(
            int(raw_id), username, display_name, role, org_id, org_name or "", kind, region, level
        )
        return SignedIn(viewer, session_id, must_change)

    def viewer(self, username: str) -> Viewer | None:
        """An active user by name (the command line acts as a named user)."""
        with self.reading() as session:
            user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
            return Viewer.of(user) if user is not None else None

    def change_password(self, viewer: Viewer, current: str, new: str, repeated: str) -> SignedIn:
        """The user's own new password; ends their other sessions and lifts a reset's forced change.
        Returns the session to continue in (its id changes with the password)."""
        errors: dict[str, str] = {}
        problem = password_problem(new)
        if problem:
            errors["new_password"] = problem
        elif new == current:
            errors["new_password"] = "新密码不能与当前密码相同"
        elif new != repeated:
            errors["repeat_password"] = "两次输入的新密码不一致"
        with self.runtime.transaction() as session:
            user = session.get(User, viewer.user_id)
            if user is None or not user.active:
                raise InvalidData("用户不存在或已停用")
            if not check_password_hash(user.password_hash or _dummy_hash(), current):
                errors = {"current_password": "当前密码不正确", **errors}
            if errors:
                raise InvalidData("密码未修改，请按提示更正", errors)
            user.password_hash = generate_password_hash(new)
            user.must_change_password = False
            audit.record(session, self.now(), user.username, AuditAction.PASSWORD_CHANGE, user=user.username)
            return _signed_in(user)
