"""Who acts on a user task: the lane names the role, the case names the organisation."""

from __future__ import annotations

from orchestration.store.models import Case
from orchestration.vocabulary import Role

# lane name in the BPMN -> (role, the case column holding the acting organisation)
LANE_ROLES: dict[str, tuple[str, str]] = {
    "信访部门经办人": (Role.PETITION_CLERK, "petition_office_id"),
    "信访部门分管领导": (Role.PETITION_LEADER, "petition_office_id"),
    "人民调解组织": (Role.MEDIATOR, "mediation_org_id"),
    "司法行政部门": (Role.JUSTICE_OFFICER, "justice_org_id"),
}

ROLE_NAMES: dict[str, str] = {
    Role.PETITION_CLERK: "信访部门经办人",
    Role.PETITION_LEADER: "信访部门分管领导",
    Role.MEDIATOR: "人民调解员",
    Role.JUSTICE_OFFICER: "司法行政工作人员",
    Role.POLICY_OFFICER: "流程管理员",
    Role.ADMIN: "系统管理员",
}


def assignee(lane: str | None, case: Case) -> tuple[str, int | None]:
    role, column = LANE_ROLES[lane or ""]
    return role, getattr(case, column)
