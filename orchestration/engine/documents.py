"""Issuing documents: the number of the issuing body, the frozen snapshot and its digest, corrections that
supersede, and the later acts (receipt, signatures) recorded beside a document.

A document is written once. Everything it prints beyond its content — the issuing body's name and seal,
the other organisations it names, the case's number and matter, attachment file names — is copied into
its snapshot at issue time, so a transfer of the case to another organisation, or a renamed
organisation, never changes a document already issued.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.documents import ACTS, KINDS, Kind, party_list, referral_letter_content
from handlers.referral import letter_periods
from orchestration.domain.calendar import SHANGHAI
from orchestration.engine.script_engine import Timers
from orchestration.errors import InvalidData
from orchestration.store.models import Attachment, Case, Document, DocumentAct, Organisation, document_digest
from orchestration.store.numbering import next_value

# The case data's list of party objects (人民调解法第二十九条), a repeated group on the forms that ask for it.
PARTIES = "parties"


def registered_parties(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The parties of the case data, or the registered petitioner and respondent as the first rows."""
    return party_list(data)


def kind_of(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise InvalidData(f"未知的文书类型：{kind}") from None


def _side_ids(case: Case) -> dict[str, int | None]:
    return {
        "petition_office": case.petition_office_id,
        "mediation_org": case.mediation_org_id,
        "justice_org": case.justice_org_id,
    }


def number_for(session: Session, issuer: Organisation | None, spec: Kind, year: int) -> str:
    """(2026)城八人调字第3号: each issuing body counts each word per year on its own."""
    if issuer is None:
        prefix, key = "", f"doc:-:{spec.word}:{year}"
    else:
        # Until an administrator gives the body its prefix, its code keeps its numbers apart from others'.
        prefix = issuer.document_prefix or f"〔{issuer.code}〕"
        key = f"doc:{issuer.id}:{spec.word}:{year}"
    return f"({year}){prefix}{spec.word}字第{next_value(session, key)}号"


def snapshot_of(session: Session, case: Case, issuer: Organisation | None) -> dict[str, Any]:
    ids = _side_ids(case)
    wanted = {i for i in ids.values() if i is not None}
    rows = session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted)))
    names = {org_id: name for org_id, name in rows}
    files = session.execute(
        select(Attachment.id, Attachment.filename)
        .where(Attachment.case_id == case.id)
        .order_by(Attachment.id)
    )
    return {
        "issuer": None
        if issuer is None
        else {
            "code": issuer.code,
            "name": issuer.name,
            "kind": issuer.kind,
            "seal_name": issuer.seal_name or issuer.name,
            "court_name": issuer.court_name,
        },
        "organisations": {side: names.get(org_id) if org_id else None for side, org_id in ids.items()},
        "case": {"case_no": case.case_no, "title": case.title},
        "attachments": {str(file_id): filename for file_id, filename in files},
    }


def digest_of(document: Document, supersedes: str | None) -> str:
    return document_digest(
        document.kind,
        document.title,
        document.number,
        document.created_at,
        document.content,
        document.snapshot,
        supersedes,
    )


def issue(
    session: Session,
    case: Case,
    kind: str,
    content: Mapping[str, Any],
    now: datetime,
    actor: str,
    *,
    supersedes: Document | None = None,
    reason: str | None = None,
) -> Document:
    spec = kind_of(kind)
    issuer_id = _side_ids(case)[spec.issuer]
    issuer = session.get(Organisation, issuer_id) if issuer_id is not None else None
    document = Document(
        case_id=case.id,
        kind=kind,
        title=spec.title,
        number=number_for(session, issuer, spec, now.astimezone(SHANGHAI).year),
        created_at=now,
        # A JSON round trip: what is digested is exactly what the database hands back later.
        content=_json_copy(content),
        issuer_org_id=issuer_id,
        snapshot=snapshot_of(session, case, issuer),
        issued_by=actor,
        supersedes_id=supersedes.id if supersedes is not None else None,
        correction_reason=reason,
    )
    document.digest = digest_of(document, supersedes.number if supersedes is not None else None)
    session.add(document)
    session.flush()
    return document


def referral_draft(
    session: Session, case: Case, data: Mapping[str, Any], timers: Timers, now: datetime, actor: str
) -> Document:
    """The referral letter as `issue_referral` will issue it once approved: not stored, not numbered;
    `timers` are the case's, which count the periods it states as they will when it is issued."""
    spec = KINDS["referral_letter"]
    issuer = session.get(Organisation, case.petition_office_id) if case.petition_office_id else None
    code = data.get("mediation_org")
    to = session.scalar(select(Organisation.name).where(Organisation.code == code)) if code else None
    content = {
        "case_no": case.case_no,
        "matter": data.get("matter"),
        **referral_letter_content(data, to or "", None, None, letter_periods(timers.period, now.isoformat())),
    }
    return Document(
        case_id=case.id,
        kind="referral_letter",
        title=spec.title,
        number="",
        created_at=now,
        content=_json_copy(content),
        issuer_org_id=issuer.id if issuer is not None else None,
        snapshot=snapshot_of(session, case, issuer),
        digest="",
        issued_by=actor,
    )


def _json_copy(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(json.loads(json.dumps(dict(value), ensure_ascii=False)))


def superseded_ids(session: Session, case_id: int) -> set[int]:
    return set(
        session.scalars(
            select(Document.supersedes_id).where(
                Document.case_id == case_id, Document.supersedes_id.is_not(None)
            )
        )
    )


def withdrawn_ids(session: Session, case_id: int) -> set[int]:
    """Documents withdrawn when an administrator moved the case back before the step that issued them."""
    return set(
        session.scalars(
            select(DocumentAct.document_id)
            .join(Document, Document.id == DocumentAct.document_id)
            .where(Document.case_id == case_id, DocumentAct.act == "withdrawn")
        )
    )


def intact(session: Session, document: Document) -> bool:
    """Whether the stored document is still what was issued (its digest matches)."""
    supersedes = session.get(Document, document.supersedes_id) if document.supersedes_id else None
    return document.digest == digest_of(document, supersedes.number if supersedes is not None else None)


def record_acts(
    session: Session,
    case: Case,
    task_name: str,
    data: Mapping[str, Any],
    now: datetime,
    actor: str,
    actor_name: str,
) -> DocumentAct | None:
    """The act a completed task performs on a document of the case (`handlers.documents.ACTS`), if any."""
    act = ACTS.get(task_name)
    if act is None:
        return None
    replaced = superseded_ids(session, case.id) | withdrawn_ids(session, case.id)
    candidates = session.scalars(
        select(Document)
        .where(Document.case_id == case.id, Document.kind.in_(act.kinds))
        .order_by(Document.id.desc())
    )
    target = next((d for d in candidates if d.id not in replaced), None)
    if target is None:
        return None
    content = {key: data.get(key) for key in act.keys}
    mentioned = {str(v) for value in content.values() if isinstance(value, list) for v in value}
    # The names of the files it attaches, as they are now: the act is frozen like a document.
    content["files"] = [
        filename
        for file_id, filename in session.execute(
            select(Attachment.id, Attachment.filename)
            .where(Attachment.case_id == case.id)
            .order_by(Attachment.id)
        )
        if str(file_id) in mentioned
    ]
    row = DocumentAct(
        document_id=target.id,
        act=act.act,
        content=_json_copy(content),
        at=now,
        actor=actor,
        actor_name=actor_name,
    )
    session.add(row)
    return row
