"""Persistence models: organisations, users, deployed versions, cases and what is derived from their state."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from orchestration.vocabulary import CaseStatus


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; SQLite would otherwise hand back naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("datetime must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Region(Base):
    """An administrative area: city (市) → county/district (县/区) → township/street (乡镇/街道)."""

    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))  # city | county | township
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # petition_office, mediation_committee, guidance_centre, trade_mediation, justice_bureau, justice_office
    kind: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    region: Mapped[Region] = relationship(lazy="joined")
    # Administrators' settings for the documents it issues: the prefix of its numbers ("城八" in
    # (2026)城八人调字第3号), the name its seal bears when that is not its own name (a 工作室 seals with
    # its committee's seal), the basic people's court where it sits (司法确认, 民事诉讼法第二百零五条).
    document_prefix: Mapped[str | None] = mapped_column(String(32))
    seal_name: Mapped[str | None] = mapped_column(String(200))
    court_name: Mapped[str | None] = mapped_column(String(200))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256), default="")
    # a vocabulary.Role
    role: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # set by an administrator's password reset: the user must choose a new password before anything else
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    org: Mapped[Organisation | None] = relationship(lazy="joined")


class UserSession(Base):
    """A signed-in session: the cookie carries only a random token, this row its SHA-256. Ending a session
    (logout, a password change or reset, deactivation, an administrator's "end all sessions") deletes the
    row; `expires_at` is fixed at login, so using the session never extends it."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    address: Mapped[str | None] = mapped_column(String(64))


class LoginFailure(Base):
    """A failed login, counted per name typed (whether or not such a user exists) and per address to
    throttle guessing; rows older than the lockout window are no longer counted and are deleted."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class TaskSubmission(Base):
    """A task completion's idempotency key (one per drawing of the task form), stored with the step: a
    retried POST with the same key (a double click, a reload, a retry after a lost answer) is told the
    step already happened instead of being refused as a conflict or done twice."""

    __tablename__ = "task_submissions"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    task_title: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class ProcessVersion(Base):
    """One deployment of a process's files (BPMN, DMN, forms, scenarios); cases stay pinned to the version
    they started on until migrated."""

    __tablename__ = "process_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … per process
    # not unique: deploying the files of an older version again makes a new version (a return to it)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    files: Mapped[dict[str, Any]] = mapped_column(JSON)  # file name -> text (see domain/procedure.py)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("process_id", "number", name="uq_process_versions_process_id_number"),)


class Draft(Base):
    """A policy officer's working copy of a version's files; it never touches running cases. Each save
    bumps the revision, and a save based on an older revision is refused."""

    __tablename__ = "drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    owner: Mapped[str] = mapped_column(String(64))  # username
    based_on_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    # the latest version when the draft was made: once another is deployed, deploying the draft would lose it
    current_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    revision: Mapped[int] = mapped_column(Integer)
    files: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


class Case(Base):
    """A petition case and its process instance (one instance per case)."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.RUNNING, index=True)  # a CaseStatus
    outcome: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(Text)  # instance state only; the spec lives with the version
    revision: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(500))
    # digest of the normalised party names: finds earlier mediations without storing names twice
    parties_key: Mapped[str] = mapped_column(String(64), index=True)
    # digests of the parties' ID numbers when given: the same person under a name typed differently
    petitioner_id_key: Mapped[str | None] = mapped_column(String(64), index=True)
    respondent_id_key: Mapped[str | None] = mapped_column(String(64), index=True)
    locality_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    petition_office_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    mediation_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    justice_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    last_error: Mapped[str | None] = mapped_column(Text)
    # whether a user task is open, kept with the open-task rows: the administrators' list counts the
    # cases waiting on a timer alone from an index instead of looking for tasks case by case
    task_open: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the petition's own handling limit (信访工作条例 art 34), None while mediation pauses it;
    # kept on the row so the worker finds cases near or past it without recomputing every clock
    petition_deadline: Mapped[datetime | None] = mapped_column(index=True)
    petition_warning: Mapped[int] = mapped_column(Integer, default=0)  # 0 none, 1 near sent, 2 overdue sent
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    # the administrators' instance list sorts by these and pages on (value, id) from where it left off
    __table_args__ = (
        Index("ix_cases_updated_at_id", "updated_at", "id"),
        Index("ix_cases_created_at_id", "created_at", "id"),
        Index("ix_cases_status_updated_at_id", "status", "updated_at", "id"),
        Index("ix_cases_status_created_at_id", "status", "created_at", "id"),
        Index("ix_cases_locality_status_times", "locality_code", "status", "updated_at", "created_at", "id"),
        Index("ix_cases_version_status", "version_id", "status"),
        Index("ix_cases_status_task_open", "status", "task_open", "id"),
    )


class Counter(Base):
    """Gap-free sequences (case numbers, document numbers per year), incremented under the row lock."""

    __tablename__ = "counters"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class OpenTask(Base):
    """A ready user task and who may act on it; rewritten with the state in the same transaction."""

    __tablename__ = "open_tasks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task uuid
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    task_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    form_name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    due_at: Mapped[datetime | None]
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    case: Mapped[Case] = relationship(lazy="joined")
    __table_args__ = (Index("ix_open_tasks_org_role_due", "org_id", "role", "due_at"),)


class Timer(Base):
    """A waiting timer event of an instance, indexed by due time for the timer worker."""

    __tablename__ = "timers"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(index=True)
    # failed firings so far; after each failure due_at moves on by the backoff
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("case_id", "task_id"),)


class AuditEvent(Base):
    """Append-only: who did what, when, with which data."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    task_name: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Document(Base):
    """A document as issued: its content and a snapshot of everything else it prints (issuer, the
    organisations it names, file names), frozen with a digest; never updated. A correction is a new
    document that supersedes it."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    issuer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # SHA-256 of the canonical JSON of what the document prints (see orchestration.engine.documents)
    digest: Mapped[str] = mapped_column(String(64), default="")
    issued_by: Mapped[str] = mapped_column(String(64), default="")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    correction_reason: Mapped[str | None] = mapped_column(Text)


def document_digest(
    kind: str,
    title: str,
    number: str,
    created_at: datetime,
    content: Any,
    snapshot: Any,
    supersedes: str | None,
) -> str:
    """SHA-256 over the canonical JSON of everything a document prints; fixed once documents carry it."""
    canonical = json.dumps(
        {
            "kind": kind,
            "title": title,
            "number": number,
            "issued_at": created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "content": content,
            "snapshot": snapshot,
            "supersedes": supersedes,
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class DocumentAct(Base):
    """A later act written on an issued document (the recipient's receipt, the parties' signatures),
    kept beside it so that the document itself never changes."""

    __tablename__ = "document_acts"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    act: Mapped[str] = mapped_column(String(16))  # received | signed
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(100), default="")


class Notification(Base):
    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    # the latest notifications of an organisation first (the unread badge, the list)
    __table_args__ = (Index("ix_notifications_org_latest", "org_id", "id"),)


class NotificationRead(Base):
    """A notification goes to everyone of a role in an organisation; each of them reads it for themselves."""

    __tablename__ = "notification_reads"
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    read_at: Mapped[datetime]


class ClockEvent(Base):
    """The petition clock of a case: start at registration, pause during mediation, resume after failure."""

    __tablename__ = "clock_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # start | pause | resume | extend | conclude
    at: Mapped[datetime]
    # The case revision the step recording it committed (an extension, which is no step: the revision it
    # followed), so that a reset undoes what the steps undone recorded. None before migration 0012.
    revision: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CalendarDay(Base):
    """An administrator's entry for one day; wins over the libraries' schedule."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")


class OfficialYear(Base):
    """A year whose complete official schedule an administrator has loaded (no longer an estimate)."""

    __tablename__ = "official_years"
    year: Mapped[int] = mapped_column(primary_key=True)
    loaded_at: Mapped[datetime]


class Attachment(Base):
    """An uploaded file (consent document, copies of legal documents, materials), kept in the database."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]


class Incident(Base):
    """A timer or service step that failed past its retries; an admin retries or resolves it."""

    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # timer | service
    message: Mapped[str] = mapped_column(Text)
    # the step whose handler failed, its traceback (shown to administrators only) and the attempts made
    task_name: Mapped[str | None] = mapped_column(String(100))
    traceback: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))


class WorkerHeartbeat(Base):
    """A timer worker's sign of life, rewritten every few seconds; /healthz reads how fresh the latest is.
    Times are real time (not a case clock), since they say when the process last worked."""

    __tablename__ = "worker_heartbeats"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    last_beat: Mapped[datetime]
    # the last error the worker survived (a summary: never SQL parameters, which may hold case data)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]


class ApiToken(Base):
    """A token an integration (a province's petition system, a mediation platform) calls /api/v1 with. It
    acts as one user account and is scoped to that account's organisation and role at creation: if the
    account moves or changes role, the token stops working. Only the SHA-256 of the secret is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # the first characters of the secret, so that an administrator can tell tokens apart in a list
    prefix: Mapped[str] = mapped_column(String(16))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(64))


class IdempotentRequest(Base):
    """A state-changing API call made with an Idempotency-Key: the request's fingerprint and the response
    given, replayed when the same token sends the same key again. `status` is NULL while the first call
    runs (or when its answer was lost after its step committed: then `case_id` is set)."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotent_requests_token_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    # Set by the step the call made, in the step's own transaction: a call whose step committed is
    # answered as done on a retry even if its answer was lost (status still NULL), never run again.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
