"""Printable A4 pages for the documents the procedure creates (移送函, 调解协议书, 终止告知书 …).

:func:`render_document` needs no Flask app context: it has its own Jinja2 environment with
autoescaping on, and inlines its print stylesheet, so a page saved or opened from a file prints
the same as one served by the app.  Codes stored in the content (``respondent_type``,
``visit_method`` …) are shown with the Chinese labels of ``forms/*.json``.  Everything else a
page prints — the issuing body, its seal and court, the organisations and file names — comes from
the snapshot the document froze when it was issued, never from the case as it is now.
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
from werkzeug.routing import BuildError

from orchestration.domain.forms import FormRegistry
from orchestration.services.documents import ActView, Document, DocumentView

SHANGHAI = ZoneInfo("Asia/Shanghai")
HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = HERE / "templates" / "documents"
STYLESHEET = HERE / "static" / "documents" / "documents.css"
PRINT_SCRIPT = "documents/print.js"  # under the app's static folder

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


def birth_from_id(id_number: Any) -> str | None:
    """The birth date (YYYY-MM-DD) a valid resident ID number carries; None otherwise."""
    if sex_from_id(id_number) is None:
        return None
    digits = str(id_number).strip()
    try:
        return date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14])).isoformat()
    except ValueError:
        return None


def parties_of(content: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The parties a document lists: its ``parties``, or for content written before parties were a list,
    the petitioner and the respondent of its ``petitioner_*``/``respondent_*`` keys."""
    listed = content.get("parties")
    if isinstance(listed, list | tuple) and listed:
        return [p for p in listed if isinstance(p, Mapping)]
    respondent_kind = "organisation" if content.get("respondent_type") in ORGANISATION_TYPES else "citizen"
    return [
        {
            "role": "petitioner",
            "kind": "citizen",
            "name": content.get("petitioner_name"),
            "sex": content.get("petitioner_sex"),
            "id_number": content.get("petitioner_id_number"),
            "phone": content.get("petitioner_phone"),
            "address": content.get("petitioner_address"),
        },
        {
            "role": "respondent",
            "kind": respondent_kind,
            "name": content.get("respondent_name"),
            "sex": content.get("respondent_sex"),
            "id_number": content.get("respondent_id_number"),
            "phone": content.get("respondent_phone"),
            "address": content.get("respondent_address"),
            "representative": content.get("respondent_representative"),
        },
    ]


def party_labels(people: Any) -> list[tuple[Mapping[str, Any], str]]:
    """Each party with its label: 甲方 for petitioners, 乙方 for the other side, numbered when several."""
    people = [p for p in (people or []) if isinstance(p, Mapping)]
    counts = {side: sum(1 for p in people if _side(p) == side) for side in ("甲方", "乙方")}
    seen = dict.fromkeys(counts, 0)
    labelled = []
    for person in people:
        side = _side(person)
        seen[side] += 1
        labelled.append((person, f"{side}{seen[side]}" if counts[side] > 1 else side))
    return labelled


def _side(person: Mapping[str, Any]) -> str:
    return "甲方" if person.get("role") == "petitioner" else "乙方"


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


@lru_cache(maxsize=4)
def _form_labels(registry: FormRegistry) -> _FormLabels:
    options: dict[str, dict[str, str]] = {}
    titles: dict[str, str] = {}
    for form_name in registry.names():
        for form_field in registry.get(form_name).fields:
            titles.setdefault(form_field.name, form_field.label)
            if form_field.options:
                options.setdefault(form_field.name, {}).update(dict(form_field.options))
    return _FormLabels(options, titles)


def _code_label(labels: _FormLabels, value: Any, field_name: str) -> Any:
    """The Chinese label of an enum code of the given form field, or the value unchanged."""
    if isinstance(value, str):
        return labels.options.get(field_name, {}).get(value, value)
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
    "facts": "纠纷的主要事实",
    "disputed_matters": "争议事项",
    "responsibilities": "各方当事人的责任",
    "terms": "协议内容",
    "performance_manner": "履行方式",
    "performance_deadline": "履行期限",
    "effective_on": "协议生效日期",
    "accepted_on": "受理日期",
    "approved_by": "审签人",
    "approved_on": "审签日期",
    "terminated_on": "终止调解日期",
    "given_on": "告知日期",
    "method": "告知方式",
    "judicial_confirmation_deadline": "申请司法确认期限",
    "other_routes": "其他解决途径",
    "accepted_at": "受理时间",
    "approved_comments": "审签意见",
}


def _field_title(labels: _FormLabels, field_name: str) -> str:
    return CONTENT_TITLES.get(field_name) or labels.titles.get(field_name, field_name)


def field_title(field_name: str, forms: FormRegistry | None = None) -> str:
    """What a content key is called on a form (or on documents), for the correction form."""
    return CONTENT_TITLES.get(field_name) or (
        _form_labels(forms).titles.get(field_name, field_name) if forms is not None else field_name
    )


class _Snapshot:
    """What the document froze when it was issued: its issuer, the organisations it names, file names."""

    def __init__(self, document: Document) -> None:
        snapshot = document.snapshot or {}
        self.issuer: Mapping[str, Any] = snapshot.get("issuer") or {}
        self.organisations: Mapping[str, Any] = snapshot.get("organisations") or {}
        self.case: Mapping[str, Any] = snapshot.get("case") or {}
        self.attachments: Mapping[str, str] = snapshot.get("attachments") or {}

    def files(self, values: Any) -> list[str]:
        """Attachment ids as file names; other entries (already names) as they are."""
        if isinstance(values, list | tuple):
            items = [str(v) for v in values]
        else:
            items = [str(values)] if values else []
        return [self.attachments.get(v, f"附件{v}" if v.isdigit() else v) for v in items]


@lru_cache(maxsize=4)
def _environment(forms: FormRegistry) -> Environment:
    """One environment per form registry: its filters name codes and fields as those forms do."""
    labels = _form_labels(forms)
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # Content written by older versions may lack keys; they print as fill-in blanks, not errors.
        undefined=ChainableUndefined,
    )
    env.filters.update(
        cn_date=cn_date,
        show=show,
        paragraphs=paragraphs,
        label=lambda value, field_name: _code_label(labels, value, field_name),
        field_title=lambda field_name: _field_title(labels, field_name),
    )
    env.globals.update(
        sex_from_id=sex_from_id,
        birth_from_id=birth_from_id,
        parties_of=parties_of,
        party_labels=party_labels,
        routes=ROUTES,
        organisation_types=ORGANISATION_TYPES,
    )
    return env


@lru_cache(maxsize=1)
def stylesheet() -> Markup:
    """The print stylesheet, inlined so the page needs no static route and no network."""
    return Markup(STYLESHEET.read_text(encoding="utf-8"))


@lru_cache(maxsize=64)
def template_name(kind: str) -> str:
    """The kind's own format, or the generic listing of a document's content for a kind without one."""
    own = f"{kind}.html"
    return own if (TEMPLATE_DIR / own).is_file() and not own.startswith("_") else "generic.html"


def render_document(view: DocumentView, embedded: bool = False) -> str:
    """The document as a complete HTML page, A4 when printed; `embedded`: its sheet alone, to bind into
    the case file."""
    template = _environment(view.forms).get_template(template_name(view.document.kind))
    return template.render(context(view), embedded=embedded)


def context(view: DocumentView) -> dict[str, Any]:
    """What a document's template reads, all of it from the document as issued."""
    document = view.document
    content: dict[str, Any] = dict(document.content or {})
    frozen = _Snapshot(document)
    labels = _form_labels(view.forms)
    acts = {act.act: act for act in view.acts}  # the latest act of each kind
    return {
        "document": document,
        "content": content,
        "kind": document.kind,
        "title": document.title,
        "number": document.number,
        "created_at": document.created_at,
        "case_no": content.get("case_no") or frozen.case.get("case_no"),
        "matter": content.get("matter") or frozen.case.get("title"),
        "issuer": frozen.issuer,
        "issuer_name": frozen.issuer.get("name"),
        "seal_name": frozen.issuer.get("seal_name") or frozen.issuer.get("name"),
        "petition_office": frozen.organisations.get("petition_office"),
        "mediation_org": frozen.organisations.get("mediation_org"),
        "justice_org": frozen.organisations.get("justice_org"),
        "files": frozen.files,
        "receipt": _receipt(acts.get("received")),
        "signature": _signature(acts.get("signed")),
        "supersedes": view.supersedes,
        "superseded_by": view.superseded_by,
        # withdrawn when an administrator moved the case back before the step that issued it
        "withdrawn": acts["withdrawn"].content.get("reason") or "已撤回" if "withdrawn" in acts else None,
        "correction_reason": document.correction_reason,
        "intact": view.intact,
        "draft": view.draft,
        "digest": document.digest,
        "css": stylesheet(),
        "print_script": _static_url(PRINT_SCRIPT),
        "generic_rows": _generic_rows(labels, content),
    }


def _receipt(act: ActView | None) -> dict[str, Any]:
    """The recipient's receipt once they signed it; empty (blank lines to fill in) before."""
    if act is None:
        return {}
    return {
        **act.content,
        "received_by": act.content.get("received_by") or act.actor_name,
        "received_on": act.content.get("received_on") or act.at,
    }


def _signature(act: ActView | None) -> dict[str, Any] | None:
    if act is None:
        return None
    return {"files": act.content.get("files") or [], "at": act.at, "by": act.actor_name}


def _static_url(filename: str) -> str:
    """The URL of a static file: through the app when there is one (it may be mounted under a prefix)."""
    if has_request_context():
        try:
            return url_for("static", filename=filename)
        except BuildError:
            pass
    return f"/static/{filename}"


def _generic_rows(labels: _FormLabels, content: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    return [
        (
            key,
            _field_title(labels, key),
            labels.options.get(key, {}).get(value, value) if isinstance(value, str) else value,
        )
        for key, value in content.items()
    ]
