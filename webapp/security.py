"""Response headers: no framing, no MIME sniffing, scripts only from this site, and no caching of pages
that carry personal information."""

from __future__ import annotations

from urllib.parse import urlsplit

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


def same_site_path(target: str) -> bool:
    """Whether a redirect target stays on this site: a path, not a URL. Browsers drop tabs and line breaks
    from a URL and read a backslash as a slash, so "/\\t/evil.example/" or "/\\\\evil.example" would lead
    to another site; anything with those characters is refused rather than cleaned."""
    if not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ch.isspace() or not ch.isprintable() for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def cross_site() -> bool:
    """Whether the browser says the request comes from another site (Sec-Fetch-Site): a link elsewhere
    must not make a user's browser write our audit log."""
    return request.headers.get("Sec-Fetch-Site") == "cross-site"
