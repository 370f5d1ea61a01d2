"""The navigation bar's figures (open and overdue tasks, unread notifications), for every page."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_login import current_user

from orchestration.domain.access import CASE_ROLES, LEADER_ROLES, may_register
from orchestration.vocabulary import Role
from webapp.context import services, viewer


def register(app: Flask) -> None:
    @app.context_processor
    def navigation() -> dict[str, Any]:
        if not current_user or not current_user.is_authenticated:
            return {"nav": None}
        v = viewer()
        open_count, overdue = services().tasks.counts(v)
        unread = services().notifications.unread(v)
        return {
            "nav": {
                "viewer": v,
                "tasks": open_count,
                "overdue": overdue,
                "unread": unread,
                "can_register": may_register(v),
                "is_leader": v.role in LEADER_ROLES,
                "sees_cases": v.role in CASE_ROLES,
                "is_admin": v.role == Role.ADMIN,
                "sees_procedure": v.role in (Role.POLICY_OFFICER, Role.ADMIN),
            }
        }
