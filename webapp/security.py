"""Response headers: no framing, no MIME sniffing, scripts only from this site, and no caching of pages
that carry personal information."""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user
from werkzeug.wrappers import Response

# Inline styles are allowed because the diagram SVG and the printable documents carry their own <style>.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def register(app: Flask) -> None:
    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # Cache-Control first: a response that sets its own (the health check) does not load the user,
        # which needs the database.
        if (
            "Cache-Control" not in response.headers
            and request.endpoint != "static"
            and current_user
            and current_user.is_authenticated
        ):
            response.headers["Cache-Control"] = "no-store"
        return response
