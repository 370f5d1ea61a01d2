"""Signing in: checking a password and turning a session back into the signed-in user.

The session id carries a digest of the password hash, so a changed password or a deactivated user
ends existing sessions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from orchestration.domain.access import Viewer
from orchestration.services.base import Service
from orchestration.store.models import Organisation, Region, User


@dataclass(frozen=True)
class SignedIn:
    viewer: Viewer
    session_id: str  # "<user id>.<token>": what the session cookie carries


def _token(user_id: int, password_hash: str) -> str:
    return hashlib.sha256(f"{user_id}:{password_hash}".encode()).hexdigest()[:16]


def _signed_in(user: User) -> SignedIn:
    return SignedIn(Viewer.of(user), f"{user.id}.{_token(user.id, user.password_hash)}")


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
        if row is None or _token(int(raw_id), row[0]) != token:
            return None
        _, username, display_name, role, org_id, org_name, kind, region, level = row
        viewer = Viewer(
            int(raw_id), username, display_name, role, org_id, org_name or "", kind, region, level
        )
        return SignedIn(viewer, session_id)

    def viewer(self, username: str) -> Viewer | None:
        """An active user by name (the command line acts as a named user)."""
        with self.reading() as session:
            user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
            return Viewer.of(user) if user is not None else None
