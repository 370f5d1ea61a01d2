"""The administrators' console under /admin: the dashboard, people and organisations, the holiday
calendar, the audit log and the system's health. Only administrators reach any of it: the blueprint
refuses everyone else before a view runs, and each service call checks the role again."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user
from werkzeug.wrappers import Response

from orchestration.vocabulary import Role
from webapp.context import viewer
from webapp.extensions import login_manager

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

# The console's sections, in the order of its navigation: (endpoint, label). A new section adds its
# entry here.
SECTIONS: list[tuple[str, str]] = [
    ("admin.home", "概览"),
    ("admin.instances", "案件实例"),
    ("admin.users", "人员"),
    ("admin.organisations", "机构与区域"),
    ("admin.calendar", "节假日日历"),
    ("admin.audit", "审计日志"),
    ("admin.health", "系统状态"),
    ("admin.tokens", "接口令牌"),
]


@bp.before_request
def administrators_only() -> Response | None:
    """For every view of the console: a visitor is sent to log in, anyone but an administrator refused."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if viewer().role != Role.ADMIN:
        abort(403)
    return None


@bp.context_processor
def sections() -> dict[str, object]:
    return {"admin_sections": SECTIONS}


from webapp.admin import audit, calendar, instances, people, tokens, views  # noqa: E402,F401  (registers the routes on bp)
