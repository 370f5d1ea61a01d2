"""Who acts on a user task: the lane names the role, the case names the organisation."""

from __future__ import annotations

from orchestration.store.models import Case

# lane name in the BPMN -> (role, the case column holding the acting organisation)
LANE_ROLES: dict[str, tuple[str, str]] = {
    "信访部门经办人": ("petition_clerk", "petition_office_id"),
    "信访部门分管领导": ("petition_leader", "petition_office_id"),
    "人民调解组织": ("mediator", "mediation_org_id"),
    "司法行政部门": ("justice_officer", "justice_org_id"),
}

ROLE_NAMES: dict[str, str] = {
    "petition_clerk": "信访部门经办人",
    "petition_leader": "信访部门分管领导",
    "mediator": "人民调解员",
    "justice_officer": "司法行政工作人员",
    "policy_officer": "流程管理员",
    "admin": "系统管理员",
}


def assignee(lane: str | None, case: Case) -> tuple[str, int | None]:
    role, column = LANE_ROLES[lane or ""]
    return role, getattr(case, column)
