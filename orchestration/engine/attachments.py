"""Uploaded files, stored with the case in the same transaction as the task they belong to."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestration.domain.forms import FormDefinition, Upload
from orchestration.domain.text_input import clean_filename
from orchestration.errors import InvalidData
from orchestration.store.models import Attachment

MAX_BYTES = 10 * 1024 * 1024


def check(uploads: Mapping[str, Sequence[Upload]]) -> None:
    errors = {}
    for field, files in uploads.items():
        for upload in files:
            if len(upload.content) > MAX_BYTES:
                errors[field] = f"文件“{upload.filename}”超过 {MAX_BYTES // (1024 * 1024)}MB"
            elif not clean_filename(upload.filename):
                errors[field] = "文件名不能为空"
    if errors:
        raise InvalidData("上传的文件有误", errors)


def store(
    session: Session, case_id: int, uploads: Mapping[str, Sequence[Upload]], actor: str, now: datetime
) -> dict[str, list[str]]:
    """Adds the files to the case; returns, per form field, the attachment ids to put in the data."""
    check(uploads)
    ids: dict[str, list[str]] = {}
    for field, files in uploads.items():
        rows = [
            Attachment(
                case_id=case_id,
                filename=clean_filename(upload.filename),
                content_type=_content_type(upload.content_type),
                size=len(upload.content),
                sha256=hashlib.sha256(upload.content).hexdigest(),
                content=upload.content,
                uploaded_by=actor,
                uploaded_at=now,
            )
            for upload in files
        ]
        session.add_all(rows)
        session.flush()
        ids[field] = [str(row.id) for row in rows]
    return ids


def _content_type(declared: str | None) -> str:
    """What the browser declared, if it looks like a media type that fits the column; the file is always
    sent back as a download whatever it says."""
    value = (declared or "").strip()
    if not value or len(value) > 100 or not value.isascii() or not value.isprintable() or "/" not in value:
        return "application/octet-stream"
    return value


def check_references(session: Session, case_id: int, form: FormDefinition, data: Mapping[str, Any]) -> None:
    """Every value of a file field must be the id of a file stored for this case (uploaded with this
    step or an earlier one): a required consent document is satisfied by an upload, not by any text."""
    errors: dict[str, str] = {}
    for form_field in form.fields:
        if form_field.widget != "file" or form_field.name not in data:
            continue
        values = data[form_field.name]
        values = values if isinstance(values, list) else [values]
        wanted = {
            int(v) for v in values if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) <= 9
        }
        found = (
            set(
                session.scalars(
                    select(Attachment.id).where(Attachment.case_id == case_id, Attachment.id.in_(wanted))
                )
            )
            if wanted
            else set()
        )
        if len(wanted) != len(values) or found != wanted:
            errors[form_field.name] = f"{form_field.label}只能是本案已上传的文件，请重新上传"
    if errors:
        raise InvalidData("上传的文件有误", errors)


def merge(data: Mapping[str, Any], ids: Mapping[str, list[str]]) -> dict[str, Any]:
    merged = dict(data)
    for field, new in ids.items():
        kept = merged.get(field) or []
        merged[field] = [*(kept if isinstance(kept, list) else [kept]), *new]
    return merged
