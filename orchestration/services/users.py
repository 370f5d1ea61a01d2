"""Signing in: checking a password (throttled per name typed and per address), turning a session back
into the signed-in user, ending sessions, and a user changing their own password (which an
administrator's reset makes them do before anything else).

Sessions live on the server (models.UserSession): the cookie carries a random token and the table only
its SHA-256, so a copied cookie is worth nothing once the session ends. A session ends at logout, when
the password changes or is reset, when the user is deactivated or an administrator ends all their
sessions (the rows are deleted), and `session_hours` after the login whatever happens in between."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from orchestration.domain.access import Viewer
from orchestration.engine.clock import SHANGHAI
from orchestration.engine.runtime import Runtime
from orchestration.errors import InvalidData, TooManyAttempts
from orchestration.services.base import Service
from orchestration.settings import Settings
from orchestration.store import audit
from orchestration.store.models import LoginFailure, Organisation, Region, User, UserSession
from orchestration.vocabulary import AuditAction

MIN_PASSWORD_LENGTH = 8
# Longer than any user name (models.User.username); a longer name typed is refused before any lookup.
MAX_USERNAME_LENGTH = 64
MAX_ADDRESS_LENGTH = 64


@dataclass(frozen=True)
class LoginPolicy:
    """How long a session lives and when failed logins lock (see Settings)."""

    session_hours: int = 8
    max_failures: int = 5
    max_failures_per_address: int = 20
    lockout_minutes: int = 15

    @classmethod
    def of(cls, settings: Settings) -> LoginPolicy:
        return cls(
            settings.session_hours,
            settings.login_max_failures,
            settings.login_max_failures_per_address,
            settings.login_lockout_minutes,
        )


@dataclass(frozen=True)
class SignedIn:
    viewer: Viewer
    session_id: str  # the random token the session cookie carries
    must_change_password: bool = False
    expires_at: datetime | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(session: Session, user: User, now: datetime, hours: int, address: str | None) -> SignedIn:
    """A new session row for the user; the token is returned once and never stored."""
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=hours)
    session.add(
        UserSession(
            token_hash=_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=expires,
            address=(address or "")[:MAX_ADDRESS_LENGTH] or None,
        )
    )
    return SignedIn(Viewer.of(user), token, user.must_change_password, expires)


def end_sessions(session: Session, user_id: int) -> int:
    """Ends every session of the user; how many there were."""
    result = session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


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
    def __init__(self, runtime: Runtime, policy: LoginPolicy | None = None) -> None:
        super().__init__(runtime)
        self.policy = policy or LoginPolicy()

    def authenticate(self, username: str, password: str, address: str = "") -> SignedIn | None:
        """The new session when the password is right; None when it is not (the failure counted and
        audited). Raises TooManyAttempts while the name or the address is locked, InvalidData for a name
        no user can have (control characters, NUL, too long). Whether the user exists changes neither the
        answer nor its timing: the password is checked against a dummy hash, failures are counted per
        name typed."""
        if len(username) > MAX_USERNAME_LENGTH or not username.isprintable():
            raise InvalidData("用户名含有无效字符或过长", {"username": "用户名含有无效字符或过长"})
        address = address[:MAX_ADDRESS_LENGTH] if address.isprintable() else ""
        now = self.now()
        with self.runtime.transaction() as session:
            locked_until = self._locked_until(session, username, address, now)
            if locked_until is not None:
                audit.record(
                    session, now, username or "-", AuditAction.LOGIN_FAILURE, address=address, reason="locked"
                )
        if locked_until is not None:
            # raised after the commit: the refused attempt stays in the audit log
            local = locked_until.astimezone(SHANGHAI)
            raise TooManyAttempts(
                f"登录失败次数过多，已暂时锁定，请于 {local.month}月{local.day}日 {local:%H:%M} 后再试"
            )
        with self.runtime.transaction() as session:
            user = session.scalar(select(User).where(User.username == username)) if username else None
            hashed = user.password_hash if user is not None and user.password_hash else _dummy_hash()
            if check_password_hash(hashed, password) and user is not None and user.active:
                # expired sessions of anyone go now: a login is rare enough to carry the cleaning
                session.execute(delete(UserSession).where(UserSession.expires_at <= now))
                session.execute(delete(LoginFailure).where(LoginFailure.username == username))
                return start_session(session, user, now, self.policy.session_hours, address)
            session.add(LoginFailure(username=username, address=address, at=now))
            audit.record(
                session,
                now,
                username or "-",
                AuditAction.LOGIN_FAILURE,
                address=address,
                reason="wrong_password" if user is not None and user.active else "unknown_or_inactive",
            )
        return None

    def _locked_until(self, session: Session, username: str, address: str, now: datetime) -> datetime | None:
        window = timedelta(minutes=self.policy.lockout_minutes)
        session.execute(delete(LoginFailure).where(LoginFailure.at <= now - window))
        until: datetime | None = None
        for column, value, limit in (
            (LoginFailure.username, username, self.policy.max_failures),
            (LoginFailure.address, address, self.policy.max_failures_per_address),
        ):
            if not value:
                continue
            times = session.scalars(
                select(LoginFailure.at)
                .where(column == value, LoginFailure.at > now - window)
                .order_by(LoginFailure.at.desc())
                .limit(limit)
            ).all()
            if len(times) >= limit:
                # locked until the oldest of the last `limit` failures leaves the window
                candidate = times[-1] + window
                until = candidate if until is None or candidate > until else until
        return until

    def end_session(self, session_id: str) -> None:
        """Logout: the session's row goes, so its cookie is worth nothing even if copied."""
        with self.runtime.transaction() as session:
            session.execute(delete(UserSession).where(UserSession.token_hash == _hash(session_id)))

    def load(self, session_id: str) -> SignedIn | None:
        """The user a session belongs to, if the session has not ended or expired and the user is active."""
        if not session_id or len(session_id) > 100:
            return None
        # Every request asks this: plain columns in one statement, no ORM objects to build.
        query = (
            select(
                User.id,
                UserSession.expires_at,
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
            .join(User, User.id == UserSession.user_id)
            .outerjoin(Organisation, Organisation.id == User.org_id)
            .outerjoin(Region, Region.code == Organisation.region_code)
            .where(
                UserSession.token_hash == _hash(session_id),
                UserSession.expires_at > self.now(),
                User.active.is_(True),
            )
        )
        with self.reading() as session:
            row = session.execute(query).first()
        if row is None:
            return None
        user_id, expires, must_change, username, display_name, role, org_id, org_name, kind, region, level = (
            row
        )
        viewer = Viewer(user_id, username, display_name, role, org_id, org_name or "", kind, region, level)
        return SignedIn(viewer, session_id, must_change, expires)

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
            end_sessions(session, user.id)
            audit.record(session, self.now(), user.username, AuditAction.PASSWORD_CHANGE, user=user.username)
            return start_session(session, user, self.now(), self.policy.session_hours, None)
