"""Case search, the case page (summary, parties, diagram, deadlines, timeline, attachments, documents,
risk report), revealing personal information, attachment downloads and printable documents."""

from __future__ import annotations

import io
from typing import Any

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from orchestration.errors import Conflict, InvalidData
from webapp.cases import bp, summary, timeline
from webapp.context import services, viewer
from webapp.diagram import render_svg
from webapp.documents import render_document
from webapp.forms_ui import field_views, submission

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
    return (
        render_template(
            "cases/show.html",
            case=case,
            summary=info,
            deadlines=page.deadlines,
            clock=page.clock,
            timeline=timeline.build(
                page.history, page.step_titles, info.known, info.attachment_names, info.revealed
            ),
            diagram=render_svg(*page.diagram, open_names, page.passed_steps),
            attachments=page.attachments,
            documents=page.documents,
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


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int) -> Response:
    """Always a download, never rendered inline: an uploaded HTML or SVG file must not run in our origin.
    send_file writes a Chinese file name as RFC 5987 filename*=UTF-8'' (headers must stay latin-1)."""
    file = services().cases.attachment(viewer(), attachment_id)
    return send_file(
        io.BytesIO(file.content),
        mimetype=file.content_type or "application/octet-stream",
        as_attachment=True,
        download_name=file.filename,
        max_age=0,
    )


@bp.get("/documents/<int:document_id>")
@login_required
def document(document_id: int) -> Response:
    """A printable document; masked unless a handler asks for the full text (?full=1), which is audited."""
    shown = services().cases.document(viewer(), document_id, full=request.args.get("full") == "1")
    return Response(render_document(shown), mimetype="text/html")
