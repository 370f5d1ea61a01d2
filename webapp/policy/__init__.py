"""流程管理 for policy officers (流程管理员) under /policy: the procedures and their versions, drafts
edited in the browser (bpmn-js Modeler, the scope rules' table, the forms with a live preview), the
checks, scenarios against a draft, deployment and migration of running cases. Administrators may read;
every change is the policy officers' (and each service call checks the role again)."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user
from werkzeug.wrappers import Response

from orchestration.vocabulary import Role
from webapp.context import viewer
from webapp.extensions import login_manager

bp = Blueprint("policy", __name__, url_prefix="/policy", template_folder="templates")

READERS = (Role.POLICY_OFFICER, Role.ADMIN)


@bp.before_request
def policy_officers_only() -> Response | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if viewer().role not in READERS:
        abort(403)
    return None


from webapp.policy import views  # noqa: E402,F401  (registers the routes on bp)
