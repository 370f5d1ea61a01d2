"""What views share: the runtime, short database sessions, the signed-in user, the clock.

Views open a session only for reading and close it before calling the runtime: on SQLite every
transaction takes the write lock (BEGIN IMMEDIATE), so a session left open across a runtime call would
wait on itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import cast

from flask import abort, current_app
from flask_login import UserMixin, current_user
from sqlalchemy.orm import Session

from orchestration.domain.access import Viewer
from orchestration.domain.calendar import WorkingCalendar
from orchestration.engine.runtime import Actor, Runtime
from orchestration.store.models import User

RUNTIME_KEY = "fangtiao_runtime"


class SignedInUser(UserMixin):
    """The Flask-Login user: a detached snapshot of the user row, valid for one request."""

    def __init__(self, user: User) -> None:
        self.viewer = Viewer.of(user)
        self.active = user.active
        self.token = session_token(user)

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return f"{self.viewer.user_id}.{self.token}"


def session_token(user: User) -> str:
    """Part of the session id derived from the password hash: changing a password ends old sessions."""
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:16]


def runtime() -> Runtime:
    return cast(Runtime, current_app.extensions[RUNTIME_KEY])


@contextmanager
def db() -> Iterator[Session]:
    """A short read session; anything written in it must be committed by the caller inside the block."""
    with runtime().sessions() as session:
        yield session


def now() -> datetime:
    return runtime().clock.now()


def calendar(session: Session) -> WorkingCalendar:
    return runtime().calendar(session)


def viewer() -> Viewer:
    user = current_user
    if not getattr(user, "is_authenticated", False):
        abort(401)
    return cast(SignedInUser, user).viewer


def actor() -> Actor:
    v = viewer()
    return Actor(v.username, v.role, v.org_id, v.user_id)
