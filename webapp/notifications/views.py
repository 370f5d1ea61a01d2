"""Notification list and marking read."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from orchestration.read import queries
from orchestration.store.models import Case
from webapp.context import db, now, runtime, viewer
from webapp.notifications import bp


@bp.get("/notifications")
@login_required
def inbox() -> str:
    v = viewer()
    unread_only = request.args.get("unread") == "1"
    raw_page = request.args.get("page", "")
    with db() as session:
        page = queries.notifications(session, v, unread_only, int(raw_page) if raw_page.isdigit() else 1)
        case_ids = {n.case_id for n in page.items if n.case_id}
        rows = session.execute(select(Case.id, Case.case_no).where(Case.id.in_(case_ids)))
        numbers = {case_id: case_no for case_id, case_no in rows}
    return render_template("notifications/inbox.html", page=page, numbers=numbers, unread_only=unread_only)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int) -> Response:
    with runtime().transaction() as session:
        changed = queries.mark_read(session, viewer(), now(), [notification_id])
    if not changed:
        flash("该通知已读或不存在", "info")
    return redirect(url_for("notifications.inbox"))


@bp.post("/notifications/read-all")
@login_required
def mark_all_read() -> Response:
    with runtime().transaction() as session:
        changed = queries.mark_read(session, viewer(), now())
    flash(f"已将 {changed} 条通知标为已读", "success")
    return redirect(url_for("notifications.inbox"))
