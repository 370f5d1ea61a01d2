"""Printable A4 pages for the documents the procedure creates (移送函, 调解协议书, 终止告知书 …).

:func:`render_document` needs no Flask app context: it has its own Jinja2 environment with
autoescaping on, and inlines its print stylesheet, so a page saved or opened from a file prints
the same as one served by the app.  Codes stored in the content (``respondent_type``,
``visit_method`` …) are shown with the Chinese labels of ``forms/*.json``.  Names of
organisations and uploaded files are looked up through the case's session when it has one;
without it the page still renders, with the stored codes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import has_request_context, url_for
from jinja2 import ChainableUndefined, Environment, FileSystemLoader, Undefined
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session
from werkzeug.routing import BuildError

from orchestration.domain.forms import FormRegistry
from orchestration.settings import PROJECT_ROOT
from orchestration.store.models import Attachment, Case, Document, Organisation

SHANGHAI = ZoneInfo("Asia/Shanghai")
HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = HERE / "templates" / "documents"
STYLESHEET = HERE / "static" / "documents" / "documents.css"
PRINT_SCRIPT = "documents/print.js"  # under the app's static folder
FORMS_DIR = PROJECT_ROOT / "forms"

KINDS = (
    "referral_letter",
    "acceptance_receipt",
    "return_letter",
    "agreement",
    "oral_agreement_record",
    "termination_notice",
    "feedback_receipt",
    "follow_up_record",
)

# 人民调解法第二十六条 names arbitration, administrative and judicial routes; the policy (六(三)) adds 信访.
ROUTES = {
    "仲裁": "依法向仲裁机构申请仲裁",
    "行政": "依法请求有关行政机关处理",
    "司法": "依法向人民法院提起诉讼",
    "信访": "依照《信访工作条例》向信访部门反映，由信访部门按信访程序办理",
}
DEFAULT_ROUTES = ("仲裁", "行政", "司法", "信访")
ORGANISATION_TYPES = ("legal_person", "organisation", "administrative_organ")

# GB 11643: 17 digits and a check character; the 17th digit is odd for men, even for women.
_ID_PATTERN = re.compile(r"^\d{17}[\dXx]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def sex_from_id(id_number: Any) -> str | None:
    """男/女 from a valid 18-digit resident ID number; None when it is missing or not valid."""
    if not isinstance(id_number, str) or not _ID_PATTERN.match(id_number.strip()):
        return None
    digits = id_number.strip().upper()
    check = _ID_CHECK[sum(int(d) * w for d, w in zip(digits[:17], _ID_WEIGHTS, strict=True)) % 11]
    if check != digits[17]:
        return None
    return "男" if int(digits[16]) % 2 else "女"


def _to_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        # Stored datetimes are aware (UTC); a naive one is taken as already local.
        return (value.astimezone(SHANGHAI) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            if "T" in text or " " in text:
                return _to_date(datetime.fromisoformat(text))
            return date.fromisoformat(text)
        except ValueError:
            return None
    return None


def cn_date(value: Any, blank: bool = True) -> Markup:
    """2026年11月28日 in Asia/Shanghai; an empty ``年 月 日`` to fill in by hand when there is no date."""
    day = _to_date(value)
    if day is not None:
        # One unit: a date broken over two lines ("12月28 / 日") reads badly on a legal document.
        return Markup(f'<span class="date">{day.year}年{day.month}月{day.day}日</span>')
    if isinstance(value, str) and value.strip():
        return escape(value)
    return Markup('<span class="date-blank">年　　月　　日</span>') if blank else Markup("")


def show(value: Any) -> Markup:
    """Any content value as escaped HTML: line breaks kept, lists joined, empty as a fill-in line."""
    if value is None or isinstance(value, Undefined) or value == "" or value == []:
        return Markup('<span class="blank"></span>')
    if isinstance(value, bool):
        return Markup("是" if value else "否")
    if isinstance(value, list | tuple):
        return Markup("、").join(show(item) for item in value)
    if isinstance(value, Mapping):
        return Markup("；").join(Markup("{}：{}").format(k, show(v)) for k, v in value.items())
    return Markup("<br>").join(escape(line) for line in str(value).splitlines() or [""])


def paragraphs(value: Any) -> Markup:
    """Multi-line text as indented paragraphs (公文 style), each line escaped."""
    if value is None or isinstance(value, Undefined) or not str(value).strip():
        return Markup('<p class="fill-lines"></p>')
    lines = [line.strip() for line in str(value).splitlines() if line.strip()]
    return Markup("").join(Markup('<p class="indent">{}</p>').format(line) for line in lines)


@dataclass(frozen=True)
class _FormLabels:
    options: dict[str, dict[str, str]]  # field -> code -> label
    titles: dict[str, str]  # field -> label


@lru_cache(maxsize=1)
def _form_labels() -> _FormLabels:
    options: dict[str, dict[str, str]] = {}
    titles: dict[str, str] = {}
    registry = FormRegistry(FORMS_DIR)
    for form_name in registry.names():
        for form_field in registry.get(form_name).fields:
            titles.setdefault(form_field.name, form_field.label)
            if form_field.options:
                options.setdefault(form_field.name, {}).update(dict(form_field.options))
    return _FormLabels(options, titles)


def code_label(value: Any, field_name: str) -> Any:
    """The Chinese label of an enum code of the given form field, or the value unchanged."""
    if isinstance(value, str):
        return _form_labels().options.get(field_name, {}).get(value, value)
    return value


# Keys the handlers add to a document's content that no form asks for.
CONTENT_TITLES = {
    "case_no": "案件编号",
    "summary": "纠纷基本情况",
    "request": "移送事项及工作要求",
    "to": "接收单位",
    "by": "受理单位",
    "from": "承办调解员",
    "mediator": "人民调解员",
    "reason": "原因",
    "terms": "协议内容、履行方式和期限",
    "effective_on": "协议生效日期",
    "judicial_confirmation_deadline": "申请司法确认期限",
    "other_routes": "其他解决途径",
    "accepted_at": "受理时间",
    "approved_comments": "审签意见",
}


def field_title(field_name: str) -> str:
    return CONTENT_TITLES.get(field_name) or _form_labels().titles.get(field_name, field_name)


class _Lookup:
    """Names of organisations and attachments through the case's session, if it has one."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.session: Session | None = object_session(case)

    def org_by_id(self, org_id: int | None) -> str | None:
        if self.session is None or org_id is None:
            return None
        org = self.session.get(Organisation, org_id)
        return org.name if org is not None else None

    def org_by_code(self, code: Any) -> str | None:
        # Without a session there is no name to show; the page prints a line to fill in instead of a code.
        if not isinstance(code, str) or not code or self.session is None:
            return None
        name = self.session.scalar(select(Organisation.name).where(Organisation.code == code))
        return name or code

    def files(self, values: Any) -> list[str]:
        """Attachment ids as file names; other entries (already names) as they are."""
        if isinstance(values, list | tuple):
            items = [str(v) for v in values]
        else:
            items = [str(values)] if values else []
        ids = [int(v) for v in items if v.isdigit()]
        names: dict[str, str] = {}
        if ids and self.session is not None:
            # Only the columns needed: a stored file can be megabytes. Restricted to this case's files.
            rows = self.session.execute(
                select(Attachment.id, Attachment.filename).where(
                    Attachment.id.in_(ids), Attachment.case_id == self.case.id
                )
            )
            names = {str(row.id): row.filename for row in rows}
        return [names.get(v, f"附件{v}" if v.isdigit() else v) for v in items]


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # Content written by older versions may lack keys; they print as fill-in blanks, not errors.
        undefined=ChainableUndefined,
    )
    env.filters.update(
        cn_date=cn_date, show=show, paragraphs=paragraphs, label=code_label, field_title=field_title
    )
    env.globals.update(sex_from_id=sex_from_id, routes=ROUTES, organisation_types=ORGANISATION_TYPES)
    return env


@lru_cache(maxsize=1)
def stylesheet() -> Markup:
    """The print stylesheet, inlined so the page needs no static route and no network."""
    return Markup(STYLESHEET.read_text(encoding="utf-8"))


def template_name(kind: str) -> str:
    return f"{kind}.html" if kind in KINDS else "generic.html"


def render_document(document: Document, case: Case) -> str:
    """The document as a complete HTML page, A4 when printed."""
    content: dict[str, Any] = dict(document.content or {})
    lookup = _Lookup(case)
    petition_office = lookup.org_by_id(case.petition_office_id)
    mediation_org = (
        lookup.org_by_code(content.get("mediation_org"))
        or content.get("by")
        or lookup.org_by_id(case.mediation_org_id)
    )
    context = {
        "document": document,
        "case": case,
        "content": content,
        "kind": document.kind,
        "title": document.title,
        "number": document.number,
        "created_at": document.created_at,
        "case_no": content.get("case_no") or case.case_no,
        "case_title": case.title,
        "matter": content.get("matter") or case.title,
        "petition_office": petition_office,
        "mediation_org": mediation_org,
        "files": lookup.files,
        "org_name": lookup.org_by_code,
        "css": stylesheet(),
        "print_script": _static_url(PRINT_SCRIPT),
        "generic_rows": _generic_rows(content),
    }
    return _environment().get_template(template_name(document.kind)).render(context)


def _static_url(filename: str) -> str:
    """The URL of a static file: through the app when there is one (it may be mounted under a prefix)."""
    if has_request_context():
        try:
            return url_for("static", filename=filename)
        except BuildError:
            pass
    return f"/static/{filename}"


def _generic_rows(content: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    return [(key, field_title(key), code_label(value, key)) for key, value in content.items()]
