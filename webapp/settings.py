"""Configuration defaults and the secret key: from config, from the environment, or kept in the instance
folder (generated once) — never a constant in the code, which would let anyone forge sessions."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

SECRET_FILE = "secret_key"


def defaults() -> dict[str, Any]:
    return {
        "SESSION_COOKIE_NAME": "fangtiao_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Behind HTTPS set FANGTIAO_SECURE_COOKIES=1 (or SESSION_COOKIE_SECURE in config); the embedded
        # demo runs on plain http://127.0.0.1, where a Secure cookie would never be sent back.
        "SESSION_COOKIE_SECURE": os.environ.get("FANGTIAO_SECURE_COOKIES", "") in ("1", "true", "yes"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
        "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,  # several attachments of up to 10 MB each
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session; a long form is no failure
        "TASKS_PER_PAGE": 20,
    }


def secret_key(app: Flask) -> str:
    """The configured key, else FANGTIAO_SECRET_KEY, else the instance folder's file (created 0600)."""
    configured = app.config.get("SECRET_KEY")
    if configured:
        return str(configured)
    from_env = os.environ.get("FANGTIAO_SECRET_KEY")
    if from_env:
        return from_env
    path = Path(app.instance_path) / SECRET_FILE
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: two workers starting together must not overwrite each other's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key
