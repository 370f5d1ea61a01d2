"""Notification list and marking read."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from webapp.context import services, viewer
from webapp.notifications import bp


@bp.get("/notifications")
@login_required
def inbox() -> str:
    unread_only = request.args.get("unread") == "1"
    raw_page = request.args.get("page", "")
    page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() and len(raw_page) < 10 else 1
    found = services().notifications.inbox(viewer(), unread_only, page)
    return render_template(
        "notifications/inbox.html", page=found.page, numbers=found.case_numbers, unread_only=unread_only
    )


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int) -> Response:
    if not services().notifications.mark_read(viewer(), [notification_id]):
        flash("该通知已读或不存在", "info")
    return redirect(url_for("notifications.inbox"))


@bp.post("/notifications/read-all")
@login_required
def mark_all_read() -> Response:
    changed = services().notifications.mark_read(viewer())
    flash(f"已将 {changed} 条通知标为已读", "success")
    return redirect(url_for("notifications.inbox"))
