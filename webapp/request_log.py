"""A request id for every request: in each log line written while it runs (through orchestration.logs),
in the `X-Request-Id` response header, and in one closing line with the status and the time taken — so a
user's complaint ("it failed at 10:02") leads to the lines of that request."""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, g, request
from werkzeug.wrappers import Response

from orchestration import logs

HEADER = "X-Request-Id"
log = logging.getLogger("fangtiao.web")


def register(app: Flask) -> None:
    """Registered before the other hooks, so the id is set before any of them can fail."""

    @app.before_request
    def begin() -> None:
        g.request_id_token = logs.request_id.set(uuid.uuid4().hex[:16])
        g.request_started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        rid = logs.request_id.get()
        if rid is not None:
            response.headers[HEADER] = rid
        # load balancers ask for /healthz every few seconds; a line each would bury the rest
        if "request_started" in g and request.blueprint != "health":
            extra = {"ms": logs.elapsed_ms(g.request_started)}
            log.info("%s %s %s", request.method, request.path, response.status_code, extra=extra)
        return response

    @app.teardown_request
    def forget(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            logs.request_id.reset(token)
