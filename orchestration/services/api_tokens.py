"""Integration tokens for /api/v1, and the stored responses that make a repeated call idempotent.

A token acts as one user account and is scoped to the organisation and role that account had when the
token was made; it expires, an administrator may revoke it, and only the SHA-256 of its secret is stored
(the secret is shown once, at creation). A secret has 256 random bits, so a plain hash suffices: there is
nothing to guess that a slow hash would protect.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from orchestration.domain.access import Viewer
from orchestration.engine.runtime import OpenTaskInfo, StepResult
from orchestration.errors import Conflict, InvalidData, NotFound
from orchestration.services.base import Service, require_admin
from orchestration.store import audit
from orchestration.store.models import ApiToken, Case, IdempotentRequest, OpenTask, Organisation, User
from orchestration.vocabulary import AuditAction, Role

__all__ = [
    "ApiCaller",
    "ApiTokenService",
    "Committed",
    "IdempotencyInProgress",
    "IdempotencyMismatch",
    "NewToken",
    "Reserved",
    "StoredResponse",
    "TokenInfo",
]

SECRET_PREFIX = "ftk_"
SHOWN_PREFIX = 12  # characters of the secret kept in the clear, to tell tokens apart in a list
DEFAULT_DAYS = 90
MAX_DAYS = 366
MAX_NAME = 100
# A client retries within minutes or hours; a day keeps the table small without surprising anyone.
KEEP_IDEMPOTENT_FOR = timedelta(hours=24)


class IdempotencyMismatch(InvalidData):
    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__("该幂等键（Idempotency-Key）已用于另一个不同的请求，请换用新的幂等键")


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"

    def __init__(self) -> None:
        super().__init__(
            "使用该幂等键（Idempotency-Key）的请求尚未完成；请稍后用同一幂等键重试，或到系统中核实结果"
        )


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    prefix: str
    username: str
    user_display_name: str
    role: str
    org_name: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    state: str  # active | expired | revoked


@dataclass(frozen=True)
class NewToken:
    info: TokenInfo
    secret: str  # shown once; never stored


@dataclass(frozen=True)
class ApiCaller:
    token_id: int
    viewer: Viewer


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str


@dataclass(frozen=True)
class Reserved:
    """The first call with its key: pass `request_id` to the step (so the step marks it in its own
    transaction), then finish or release it."""

    request_id: int


@dataclass(frozen=True)
class Committed:
    """The call's step committed but its answer was never stored (the answer failed after the commit):
    the step as the case stands now, to answer the retry with instead of running it again."""

    step: StepResult


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def _state(row: ApiToken, now: datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.expires_at <= now else "active"


class ApiTokenService(Service):
    # ---- administrators ----------------------------------------------------------------------

    def create(self, viewer: Viewer, username: str, name: str, days: int = DEFAULT_DAYS) -> NewToken:
        require_admin(viewer)
        name = name.strip()
        errors: dict[str, str] = {}
        if not name or len(name) > MAX_NAME or "\x00" in name:
            errors["name"] = f"请填写令牌名称（不超过{MAX_NAME}个字），例如“省信访信息系统”"
        if not 1 <= days <= MAX_DAYS:
            errors["days"] = f"有效期应为 1 至 {MAX_DAYS} 天"
        now = self.now()
        with self.runtime.transaction() as session:
            user = session.scalar(select(User).where(User.username == username.strip()))
            if user is None or not user.active:
                errors["username"] = "请填写一个在用的用户名：令牌以该用户的身份、机构和角色调用接口"
            elif user.role == Role.SYSTEM:
                errors["username"] = "系统账户不能持有接口令牌"
            if errors:
                raise InvalidData("提交的内容有误，请按提示修改", errors)
            assert user is not None
            secret = SECRET_PREFIX + secrets.token_urlsafe(32)
            row = ApiToken(
                name=name,
                prefix=secret[:SHOWN_PREFIX],
                secret_sha256=digest(secret),
                user_id=user.id,
                org_id=user.org_id,
                role=user.role,
                created_at=now,
                created_by=viewer.username,
                expires_at=now + timedelta(days=days),
            )
            session.add(row)
            session.flush()
            audit.record(
                session,
                now,
                viewer.username,
                AuditAction.TOKEN_CREATE,
                token=row.id,
                name=name,
                user=user.username,
                role=user.role,
                org_id=user.org_id,
                expires_at=row.expires_at.isoformat(),
            )
            return NewToken(self._info(session, row, now), secret)

    def tokens(self, viewer: Viewer) -> list[TokenInfo]:
        require_admin(viewer)
        now = self.now()
        with self.reading() as session:
            rows = session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).all()
            return [self._info(session, row, now) for row in rows]

    def revoke(self, viewer: Viewer, token_id: int) -> TokenInfo:
        require_admin(viewer)
        now = self.now()
        with self.runtime.transaction() as session:
            row = session.get(ApiToken, token_id, with_for_update=True)
            if row is None:
                raise NotFound("接口令牌不存在")
            if row.revoked_at is None:
                row.revoked_at = now
                row.revoked_by = viewer.username
                audit.record(
                    session, now, viewer.username, AuditAction.TOKEN_REVOKE, token=row.id, name=row.name
                )
            return self._info(session, row, now)

    def _info(self, session: Session, row: ApiToken, now: datetime) -> TokenInfo:
        user = session.get(User, row.user_id)
        org = session.get(Organisation, row.org_id) if row.org_id is not None else None
        return TokenInfo(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            username=user.username if user else "",
            user_display_name=user.display_name if user else "",
            role=row.role,
            org_name=org.name if org else "",
            created_at=row.created_at,
            created_by=row.created_by,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            revoked_by=row.revoked_by,
            state=_state(row, now),
        )

    # ---- callers ------------------------------------------------------------------------------

    def authenticate(self, secret: str) -> ApiCaller | None:
        """The caller a secret stands for, or None when it is unknown, revoked or expired, or its user is
        inactive or no longer has the token's organisation and role."""
        if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
            return None
        with self.reading() as session:
            row = session.scalar(select(ApiToken).where(ApiToken.secret_sha256 == digest(secret)))
            if row is None or _state(row, self.now()) != "active":
                return None
            user = session.get(User, row.user_id)
            if user is None or not user.active or user.role != row.role or user.org_id != row.org_id:
                return None
            return ApiCaller(row.id, Viewer.of(user))

    # ---- Idempotency-Key ---------------------------------------------------------------------

    def reserve(self, token_id: int, key: str, fingerprint: str) -> StoredResponse | Reserved | Committed:
        """`Reserved` when this call is the first with the key; else the response stored for it, or, when
        its step committed but its answer was lost, that step (`Committed`). The same key with another
        request is refused (422), and while the first call runs, so is a second one (409)."""
        now = self.now()
        try:
            with self.runtime.transaction() as session:
                session.execute(
                    delete(IdempotentRequest).where(IdempotentRequest.created_at < now - KEEP_IDEMPOTENT_FOR)
                )
                reserved = IdempotentRequest(
                    token_id=token_id, key=key, fingerprint=fingerprint, created_at=now
                )
                session.add(reserved)
                session.flush()
                request_id = reserved.id
            return Reserved(request_id)
        except IntegrityError:
            pass
        with self.reading() as session:
            row = session.scalar(
                select(IdempotentRequest).where(
                    IdempotentRequest.token_id == token_id, IdempotentRequest.key == key
                )
            )
            if row is not None and row.fingerprint != fingerprint:
                raise IdempotencyMismatch()
            if row is not None and row.status is not None and row.body is not None:
                return StoredResponse(row.status, row.body)
            if row is None or row.case_id is None:
                raise IdempotencyInProgress()
            return Committed(_as_now(session, row.case_id))

    def finish(self, token_id: int, key: str, status: int, body: str) -> None:
        with self.runtime.transaction() as session:
            row = session.scalar(
                select(IdempotentRequest).where(
                    IdempotentRequest.token_id == token_id, IdempotentRequest.key == key
                )
            )
            if row is not None:
                row.status = status
                row.body = body

    def release(self, token_id: int, key: str) -> None:
        """The call failed (a server error): unless its step committed, nothing was stored and the key
        may be used again; a committed step keeps the key, so a retry is answered as done."""
        with self.runtime.transaction() as session:
            session.execute(
                delete(IdempotentRequest).where(
                    IdempotentRequest.token_id == token_id,
                    IdempotentRequest.key == key,
                    IdempotentRequest.status.is_(None),
                    IdempotentRequest.case_id.is_(None),
                )
            )


def _as_now(session: Session, case_id: int) -> StepResult:
    case = session.get(Case, case_id)
    if case is None:  # the case was deleted since (the row would have gone with it): be safe anyway
        raise IdempotencyInProgress()
    tasks = session.scalars(select(OpenTask).where(OpenTask.case_id == case_id).order_by(OpenTask.created_at))
    return StepResult(
        case.id,
        case.case_no,
        case.status,
        case.revision,
        [OpenTaskInfo(t.id, t.task_name, t.title, t.role, t.org_id, t.due_at) for t in tasks],
        repeated=True,
    )
