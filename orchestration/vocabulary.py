"""The fixed words of the system: roles, case statuses and audit actions.

They are stored as plain strings (a `StrEnum` member equals its value), so rows written before a member
existed still read back, and templates and JSON see the same text as the database."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PETITION_CLERK = "petition_clerk"
    PETITION_LEADER = "petition_leader"
    MEDIATOR = "mediator"
    JUSTICE_OFFICER = "justice_officer"
    POLICY_OFFICER = "policy_officer"
    ADMIN = "admin"
    SYSTEM = "system"  # timers and the worker; no user holds it


class CaseStatus(StrEnum):
    RUNNING = "running"
    SUSPENDED = "suspended"  # an administrator paused it; its timers wait
    COMPLETED = "completed"
    TERMINATED = "terminated"  # an administrator ended it before its end; nothing of it runs again


class AuditAction(StrEnum):
    START = "start"
    COMPLETE = "complete"
    RISK_REPORT = "risk_report"
    TIMER = "timer"
    ERROR = "error"
    RECOMPUTE = "recompute"
    DEPLOY = "deploy"
    SUSPEND = "suspend"
    RESUME = "resume"
    RETRY = "retry"
    CLAIM = "claim"
    RELEASE = "release"
    REASSIGN = "reassign"
    CALENDAR = "calendar"
    VIEW_PII = "view_pii"
    DOWNLOAD = "download"
    ANONYMISE = "anonymise"  # the retention period is over: the case's personal data anonymised
    PURGE = "purge"  # the retention period is over: the case deleted (the event keeps its number only)
    CORRECT_DOCUMENT = "correct_document"
    EXTEND_PETITION = "extend_petition"  # the petition's handling limit extended by 30 days
    MIGRATE = "migrate"  # a running case moved to another version of its process
    ORGANISATION = "organisation"  # an organisation's name or document settings changed
    # administrators keeping people and organisations; a user changing their own password
    USER_CREATE = "user_create"
    USER_UPDATE = "user_update"
    USER_DEACTIVATE = "user_deactivate"
    USER_REACTIVATE = "user_reactivate"
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGE = "password_change"
    LOGIN_FAILURE = "login_failure"  # a wrong password, an unknown name, or a login while locked out
    SESSIONS_END = "sessions_end"  # an administrator ended all sessions of a user
    ORGANISATION_CREATE = "organisation_create"
    ORGANISATION_DELETE = "organisation_delete"
    REGION_CREATE = "region_create"
    REGION_UPDATE = "region_update"
    REGION_DELETE = "region_delete"
    # administrators' integration tokens for /api/v1
    TOKEN_CREATE = "token_create"
    TOKEN_REVOKE = "token_revoke"
    # administrators repairing instances (each with the reason they gave)
    TERMINATE = "terminate"
    FIRE_TIMER = "fire_timer"  # a pending timer fired before its due time
    RESET = "reset"  # the case moved back to an earlier completed step
    WITHDRAW_DOCUMENT = "withdraw_document"  # a document issued after the step a reset went back to


class DueState(StrEnum):
    """How near a deadline is: 超期 past, 临期 within one working day, 正常 otherwise; 已结束 when the
    step it limits is over."""

    OVERDUE = "overdue"
    NEAR = "near"
    NORMAL = "normal"
    DONE = "done"
