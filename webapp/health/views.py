"""The health check a load balancer or a monitor asks: 200 while the database answers, else 503 with the
reason in Chinese. It shows no personal data, so it needs no login."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from webapp.context import services
from webapp.health import bp


@bp.get("/healthz")
def healthz() -> tuple[Any, int, dict[str, str]]:
    report = services().health.check()
    body: dict[str, Any] = {
        "database": "ok" if report.error is None else "unavailable",
        "freshest_heartbeat_age_seconds": report.freshest_age,
        "workers": [
            {
                "id": w.id,
                "host": w.host,
                "pid": w.pid,
                "started_at": w.started_at.isoformat(),
                "last_beat": w.last_beat.isoformat(),
                "age_seconds": w.age_seconds,
                "last_error": w.last_error,
                "last_error_at": w.last_error_at.isoformat() if w.last_error_at else None,
            }
            for w in report.workers
        ],
    }
    headers = {"Cache-Control": "no-store"}
    if report.error is not None:
        return jsonify({"error": report.error, **body}), 503, headers
    return jsonify({"status": "ok", **body}), 200, headers
