"""The console's home, with the warnings an administrator should act on, and the health panel."""

from __future__ import annotations

from flask import render_template

from orchestration.services.health import STALE_AFTER_SECONDS
from webapp.admin import bp
from webapp.context import services, viewer

# A due timer this late means the workers are not keeping up (they poll every half second).
LATE_AFTER_SECONDS = 60.0


@bp.get("")
def home() -> str:
    panel = services().health.panel(viewer())
    return render_template(
        "admin/home.html",
        panel=panel,
        notice_year=services().calendar.notice_due(),
        late_after=LATE_AFTER_SECONDS,
    )


@bp.get("/health")
def health() -> str:
    return render_template(
        "admin/health.html",
        panel=services().health.panel(viewer()),
        late_after=LATE_AFTER_SECONDS,
        stale_after=STALE_AFTER_SECONDS,
    )
