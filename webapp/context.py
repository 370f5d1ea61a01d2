"""What views share: the services, the signed-in user, the clock."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from flask import abort, current_app
from flask_login import UserMixin, current_user

from orchestration.domain.access import Viewer
from orchestration.services import Services
from orchestration.services.users import SignedIn

SERVICES_KEY = "fangtiao_services"


class SignedInUser(UserMixin):
    """The Flask-Login user: a detached snapshot of the user, valid for one request."""

    def __init__(self, signed_in: SignedIn) -> None:
        self.viewer = signed_in.viewer
        self.session_id = signed_in.session_id
        self.must_change_password = signed_in.must_change_password

    def get_id(self) -> str:
        return self.session_id


def services() -> Services:
    return cast(Services, current_app.extensions[SERVICES_KEY])


def now() -> datetime:
    return services().clock.now()


def viewer() -> Viewer:
    user = current_user
    if not getattr(user, "is_authenticated", False):
        abort(401)
    return cast(SignedInUser, user).viewer
