"""Case search, the case page (summary, parties, diagram, deadlines, timeline, attachments, documents,
risk report), revealing personal information, attachment downloads and printable documents."""

from __future__ import annotations

import io
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from orchestration.domain.calendar import SHANGHAI
from orchestration.domain.forms import FormDefinition, FormValidationError, validate
from orchestration.domain.text_input import clean_filename
from orchestration.errors import Conflict, InvalidData
from orchestration.services.documents import DocumentView
from orchestration.vocabulary import DueState
from webapp.cases import bp, summary, timeline
from webapp.context import services, viewer
from webapp.documents import field_title, render_document
from webapp.dossier import dossier_pdf
from webapp.forms_ui import FieldView, field_views, submission
from webapp.security import cross_site

Page = str | tuple[str, int] | Response


def _page_arg() -> int:
    raw = request.args.get("page", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 1


@bp.get("/cases")
@login_required
def search() -> Page:
    text = request.args.get("q", "").strip()
    status = request.args.get("status") or None
    page = services().cases.search(viewer(), text, status, _page_arg())
    return render_template("cases/search.html", page=page, q=text, status=status)


def _render_case(
    case_no: str,
    reveal: bool = False,
    risk_values: dict[str, Any] | None = None,
    risk_errors: dict[str, str] | None = None,
    risk_message: str | None = None,
    status: int = 200,
) -> Page:
    v = viewer()
    page = services().cases.page(v, case_no, reveal)
    info = summary.build(page.summary, page.forms)
    case = info.case
    risk = None
    if page.risk_form is not None:
        form = page.risk_form
        values = risk_values if risk_values is not None else dict(form.values)
        risk = (form.form, field_views(form.form, values, risk_errors or {}, form.options))
    open_names = {t.task_name for t in info.open_tasks}
    overdue = {t.task_name for t in info.open_tasks if page.task_states.get(t.id) == DueState.OVERDUE}
    entries = timeline.build(
        page.history, page.step_titles, info.known, info.attachment_names, info.disclosure
    )
    return (
        render_template(
            "cases/show.html",
            case=case,
            summary=info,
            deadlines=page.deadlines,
            clock=page.clock,
            may_extend=page.may_extend,
            extension_refusal=page.extension_refusal,
            timeline=entries,
            diagram={
                "current": sorted(open_names),
                "done": sorted(page.passed_steps),
                "overdue": sorted(overdue),
                "steps": timeline.by_step(page.history, entries, page.step_titles),
            },
            attachments=page.attachments,
            documents=page.documents,
            # document id -> the number of the document that corrects it
            superseded={d.supersedes_id: d.number for d in page.documents if d.supersedes_id},
            open_states=page.task_states,
            claimers=page.claimers,
            risk=risk,
            risk_message=risk_message,
            now=page.now,
            viewer=v,
            handles=info.can_reveal,
        ),
        status,
    )


@bp.get("/cases/<case_no>")
@login_required
def show(case_no: str) -> Page:
    return _render_case(case_no)


@bp.get("/cases/<case_no>/diagram.bpmn")
@login_required
def diagram(case_no: str) -> Response:
    """The BPMN XML of the version the case runs on, for the diagram viewer (whoever sees the case)."""
    return Response(services().cases.diagram(viewer(), case_no), mimetype="application/xml")


@bp.post("/cases/<case_no>/reveal")
@login_required
def reveal(case_no: str) -> Page:
    """Shows the parties' full particulars once; a POST so that each full view is a deliberate act."""
    return _render_case(case_no, reveal=True)


@bp.post("/cases/<case_no>/risk")
@login_required
def report_risk(case_no: str) -> Page:
    cases = services().cases
    form = services().forms.get(cases.RISK_FORM)
    data, _ = submission(request.form).interpret(form)
    try:
        cases.report_risk(viewer(), case_no, data)
    except InvalidData as exc:
        return _render_case(
            case_no, risk_values=data, risk_errors=exc.errors, risk_message=exc.message, status=422
        )
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("cases.show", case_no=case_no))
    flash("风险已报告，信访部门已收到通报。调解继续进行。", "success")
    return redirect(url_for("cases.show", case_no=case_no))


@bp.post("/cases/<case_no>/extend-petition")
@login_required
def extend_petition(case_no: str) -> Response:
    """The petition office leader's approval of the one 30-day extension; the service decides whether it
    may be given (a refusal is a Chinese sentence shown on the case page)."""
    try:
        extension = services().petitions.extend(viewer(), case_no, request.form.get("reason", ""))
    except InvalidData as exc:
        flash(exc.errors.get("extension_reason") or exc.message, "error")
        return redirect(url_for("cases.show", case_no=case_no))
    flash(
        f"已批准延长信访办理期限30日，新的办理期限为{extension.new_deadline.astimezone(SHANGHAI):%Y年%m月%d日}；"
        f"延期告知书 {extension.document} 已生成，请送达信访人。",
        "success",
    )
    return redirect(url_for("cases.show", case_no=case_no))


def _from_elsewhere() -> Response:
    """The two reads that write the audit log stay links (GET), so that a download or a printable full
    document opens as any file does; a link on another site must not write that log in a signed-in
    user's name, so such a request is refused and nothing is recorded."""
    message = "请从访调通的案件页面打开此链接（来自其他网站的链接不能查看完整信息或下载附件）"
    return Response(render_template("errors/error.html", status=403, message=message), status=403)


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int) -> Response:
    """Always a download, never rendered inline: an uploaded HTML or SVG file must not run in our origin.
    send_file writes a Chinese file name as RFC 5987 filename*=UTF-8'' (headers must stay latin-1)."""
    if cross_site():
        return _from_elsewhere()
    file = services().cases.attachment(viewer(), attachment_id)
    response = send_file(
        io.BytesIO(file.content),
        mimetype=file.content_type or "application/octet-stream",
        as_attachment=True,
        # cleaned again: a name stored before uploads were cleaned may hold a line break
        download_name=clean_filename(file.filename) or "attachment",
        max_age=0,
    )
    # a personal document must not stay in a browser's or a proxy's cache
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/documents/<int:document_id>")
@login_required
def document(document_id: int) -> Response:
    """A printable document; masked unless a handler asks for the full text (?full=1), which is audited."""
    if request.args.get("full") == "1" and cross_site():
        return _from_elsewhere()
    shown = services().documents.document(viewer(), document_id, full=request.args.get("full") == "1")
    return Response(render_document(shown), mimetype="text/html")


@bp.get("/privacy-notices/<version>")
@login_required
def privacy_notice(version: str) -> Page:
    """A version of the privacy notice as parties were given it, to print and hand over."""
    notice = services().notices.get(version)
    if notice is None:
        abort(404)
    return render_template("cases/privacy_notice.html", notice=notice)


@bp.get("/cases/<case_no>/dossier.pdf")
@login_required
def dossier(case_no: str) -> Response:
    """The case file (卷宗) as one PDF for the archive; compiling it is audited as a full view."""
    pdf = dossier_pdf(services().documents.dossier(viewer(), case_no))
    return send_file(
        io.BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"卷宗-{case_no}.pdf",
        max_age=0,
    )


# ---- correcting a document ----------------------------------------------------------------------

# Keys every document carries that a correction does not change: they name the case, not the document.
FIXED_KEYS = frozenset({"case_no", "matter"})
PARTIES = "parties"


def _parties_field() -> FormDefinition | None:
    """The forms' repeated group of parties, to correct a document's list of parties with."""
    forms = services().forms
    for name in forms.names():
        for form_field in forms.get(name).fields:
            if form_field.name == PARTIES and form_field.widget == "group":
                return FormDefinition(name="correction", title="更正", description=None, fields=(form_field,))
    return None


def _editable(view: DocumentView) -> list[str]:
    content = view.document.content
    return [k for k, v in content.items() if k not in FIXED_KEYS and (isinstance(v, str) or v is None)]


def _render_correction(
    view: DocumentView,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Page:
    content = view.document.content
    values = values if values is not None else dict(content)
    errors = errors or {}
    group = _parties_field() if isinstance(content.get(PARTIES), list) else None
    parties: FieldView | None = None
    if group is not None:
        parties = field_views(group, values, errors, {})[0]
    forms = services().forms
    texts = [
        (key, field_title(key, forms), values.get(key) or "", (errors or {}).get(key))
        for key in _editable(view)
    ]
    return (
        render_template(
            "cases/correct.html",
            view=view,
            document=view.document,
            texts=texts,
            parties=parties,
            reason=values.get("correction_reason", ""),
            errors=errors,
            message=message,
        ),
        status,
    )


@bp.get("/documents/<int:document_id>/correct")
@login_required
def correct_form(document_id: int) -> Page:
    """The issuing body's form to correct a document: showing it is a full (audited) view."""
    return _render_correction(services().documents.document(viewer(), document_id, full=True))


@bp.post("/documents/<int:document_id>/correct")
@login_required
def correct(document_id: int) -> Page:
    documents = services().documents
    view = documents.document(viewer(), document_id, full=True)
    changes: dict[str, Any] = {}
    for key in _editable(view):
        sent = request.form.get(key, "").strip()
        if sent != (view.document.content.get(key) or ""):
            changes[key] = sent
    values: dict[str, Any] = {**view.document.content, **changes}
    values["correction_reason"] = request.form.get("correction_reason", "")
    group = _parties_field() if isinstance(view.document.content.get(PARTIES), list) else None
    if group is not None:
        data, _ = submission(request.form).interpret(group)
        values[PARTIES] = data.get(PARTIES, [])
        try:
            parties = validate(group, data).get(PARTIES, [])
        except FormValidationError as exc:
            return _render_correction(view, values, exc.errors, "提交的内容有误，请按提示修改", 422)
        if parties != view.document.content.get(PARTIES):
            changes[PARTIES] = parties
    try:
        new = documents.correct(viewer(), document_id, changes, values["correction_reason"])
    except InvalidData as exc:
        return _render_correction(view, values, exc.errors, exc.message, 422)
    flash(f"已出具更正后的文书{new.number}，原文书{view.document.number}保留并标注已被更正。", "success")
    return redirect(url_for("cases.document", document_id=new.id))
