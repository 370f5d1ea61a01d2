"""Flask's configuration from the process's Settings, and the secret key: from config, from the settings
(FANGTIAO_SECRET_KEY), or kept in the instance folder (generated once) — never a constant in the code,
which would let anyone forge sessions."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from orchestration.settings import Settings

SECRET_FILE = "secret_key"


def defaults(settings: Settings) -> dict[str, Any]:
    return {
        "SESSION_COOKIE_NAME": "fangtiao_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # the cookie's own expiry; the session's absolute end is its row's (services/users.py), which a
        # refreshed cookie does not extend
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=settings.session_hours),
        "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,  # several attachments of up to 10 MB each
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session; a long form is no failure
        "TASKS_PER_PAGE": 20,
    }


def secret_key(app: Flask, settings: Settings) -> str:
    """The configured key, else the settings' (FANGTIAO_SECRET_KEY), else the instance folder's file
    (created 0600)."""
    configured = app.config.get("SECRET_KEY") or settings.secret_key
    if configured:
        return str(configured)
    path = Path(app.instance_path) / SECRET_FILE
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    if not path.parent.exists():
        # the instance folder also holds the embedded database: private to the server's user
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)
    key = secrets.token_hex(32)
    # O_EXCL: two workers starting together must not overwrite each other's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key
