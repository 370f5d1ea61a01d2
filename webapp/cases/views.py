"""Case search, the case page (summary, parties, diagram, deadlines, timeline, attachments, documents,
risk report), revealing personal information, attachment downloads and printable documents."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required

from orchestration.domain.access import (
    CASE_ROLES,
    Viewer,
    can_view_case,
    handles_case,
    mask_pii,
    record_pii_view,
)
from orchestration.engine.runtime import RISK_FORM
from orchestration.errors import Conflict, Forbidden, InvalidData
from orchestration.read import queries
from orchestration.store.models import Attachment, AuditEvent, Case, Document
from webapp.cases import bp, summary, timeline
from webapp.context import actor, calendar, db, now, runtime, viewer
from webapp.forms_ui import collect, field_views, initial_values

Page = str | tuple[str, int] | Response
RISK_TASK = "mediate"  # risk reports are taken while this task is open (the signal's boundary event)


def _visible_case(session: Any, v: Viewer, case_no: str) -> Case:
    case = queries.case_by_number(session, case_no)
    if case is None:
        abort(404)
    if not can_view_case(session, v, case):
        abort(403)
    return case


@bp.get("/cases")
@login_required
def search() -> Page:
    v = viewer()
    if v.role not in CASE_ROLES:
        abort(403)
    text = request.args.get("q", "").strip()
    status = request.args.get("status") or None
    raw_page = request.args.get("page", "")
    with db() as session:
        page = queries.search_cases(session, v, text, status, int(raw_page) if raw_page.isdigit() else 1)
    return render_template("cases/search.html", page=page, q=text, status=status)


def _can_report_risk(v: Viewer, case: Case, open_names: set[str]) -> bool:
    return v.role == "mediator" and v.org_id == case.mediation_org_id and RISK_TASK in open_names


def _render_case(
    case_no: str,
    reveal: bool = False,
    risk_values: dict[str, Any] | None = None,
    risk_errors: dict[str, str] | None = None,
    risk_message: str | None = None,
    status: int = 200,
) -> Page:
    v = viewer()
    rt = runtime()
    moment = now()
    from webapp.diagram import render_svg

    if reveal:
        # The audit event is written before the page is built: a view that fails half-way still counts.
        with rt.transaction() as session:
            case = _visible_case(session, v, case_no)
            if not handles_case(v, case):
                abort(403)
            record_pii_view(session, v, case, moment, "case")
    with db() as session:
        case = _visible_case(session, v, case_no)
        # Loading the instance state is the costly part of this page: once for the data, once for the steps.
        data = rt.case_data(session, case)
        info = summary.build(session, rt, case, v, reveal=reveal, raw=data)
        cal = calendar(session)
        deadlines, clock = queries.case_deadlines(session, case, data, cal, moment)
        titles = summary.step_titles(rt, session, case.version_id)
        history = timeline.build(session, case.id, titles, info.known, info.attachment_names, info.revealed)
        bpmn_xml, process_id = queries.process_files(session, case)
        active = {t.task_name for t in info.open_tasks}
        completed = queries.completed_steps(rt, session, case) - active
        diagram = render_svg(bpmn_xml, process_id, active, completed)
        attachments = summary.attachments_of(session, case.id)
        documents = summary.documents_of(session, case.id)
        open_states = {t.id: queries.due_state(t.due_at, moment, cal) for t in info.open_tasks}
        claimers = queries.user_names(session, ids={t.claimed_by for t in info.open_tasks if t.claimed_by})
        risk_fields = None
        if _can_report_risk(v, case, active):
            form = rt.forms.get(RISK_FORM)
            options = rt.options(session)
            values = risk_values if risk_values is not None else initial_values(form, {}, options)
            risk_fields = (form, field_views(form, values, risk_errors or {}, options))
    return (
        render_template(
            "cases/show.html",
            case=case,
            summary=info,
            deadlines=deadlines,
            clock=clock,
            timeline=history,
            diagram=diagram,
            attachments=attachments,
            documents=documents,
            open_states=open_states,
            claimers=claimers,
            risk=risk_fields,
            risk_message=risk_message,
            now=moment,
            viewer=v,
            handles=handles_case(v, case),
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
    v = viewer()
    with db() as session:
        case = _visible_case(session, v, case_no)
        case_id = case.id
    form = runtime().forms.get(RISK_FORM)
    data, _ = collect(form, request.form)
    try:
        runtime().report_risk(case_id, data, actor())
    except InvalidData as exc:
        return _render_case(
            case_no, risk_values=data, risk_errors=exc.errors, risk_message=exc.message, status=422
        )
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("cases.show", case_no=case_no))
    except Forbidden:
        abort(403)
    flash("风险已报告，信访部门已收到通报。调解继续进行。", "success")
    return redirect(url_for("cases.show", case_no=case_no))


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int) -> Response:
    """Uploaded files often are identity proofs: only the handling organisations download them, and
    every download is in the audit log."""
    v = viewer()
    with runtime().transaction() as session:
        row = session.get(Attachment, attachment_id)
        if row is None or row.case_id is None:
            abort(404)
        case = session.get(Case, row.case_id)
        if case is None or not can_view_case(session, v, case):
            abort(404 if case is None else 403)
        if not handles_case(v, case):
            abort(403)
        session.add(
            AuditEvent(
                case_id=case.id,
                at=now(),
                actor=v.username,
                action="download",
                detail={"attachment": row.id, "filename": row.filename},
            )
        )
        content, filename, content_type = row.content, row.filename, row.content_type
    # Always a download, never rendered inline: an uploaded HTML or SVG file must not run in our origin.
    # send_file writes a Chinese file name as RFC 5987 filename*=UTF-8'' (headers must stay latin-1).
    return send_file(
        io.BytesIO(content),
        mimetype=content_type or "application/octet-stream",
        as_attachment=True,
        download_name=filename,
        max_age=0,
    )


@bp.get("/documents/<int:document_id>")
@login_required
def document(document_id: int) -> Response:
    """A printable document; masked unless a handler asks for the full text (?full=1), which is audited."""
    v = viewer()
    full = request.args.get("full") == "1"
    from webapp.documents import render_document

    # Only a full view writes (its audit event); a masked view reads without taking the write lock.
    opened = runtime().transaction() if full else db()
    with opened as session:
        row = session.get(Document, document_id)
        if row is None:
            abort(404)
        case = session.get(Case, row.case_id)
        if case is None or not can_view_case(session, v, case):
            abort(404 if case is None else 403)
        if full:
            if not handles_case(v, case):
                abort(403)
            record_pii_view(session, v, case, now(), f"document:{row.id}")
            shown = row
        else:
            # A detached copy with masked content: the stored document is never changed.
            shown = Document(
                id=row.id,
                case_id=row.case_id,
                kind=row.kind,
                title=row.title,
                number=row.number,
                created_at=row.created_at,
                content=mask_pii(row.content),
            )
        html = render_document(shown, case)
    return Response(html, mimetype="text/html")
