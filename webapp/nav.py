"""The navigation bar's figures (open and overdue tasks, unread notifications), for every page."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_login import current_user

from orchestration.domain.access import CASE_ROLES, LEADER_ROLES, may_register
from orchestration.read import queries
from webapp.context import db, now, viewer


def register(app: Flask) -> None:
    @app.context_processor
    def navigation() -> dict[str, Any]:
        if not current_user or not current_user.is_authenticated:
            return {"nav": None}
        v = viewer()
        with db() as session:
            open_count, overdue = queries.task_counts(session, v, now())
            unread = queries.unread_count(session, v)
        return {
            "nav": {
                "viewer": v,
                "tasks": open_count,
                "overdue": overdue,
                "unread": unread,
                "can_register": may_register(v),
                "is_leader": v.role in LEADER_ROLES,
                "sees_cases": v.role in CASE_ROLES,
            }
        }
