"""WSGI entry point for a production server (e.g. `gunicorn webapp.wsgi:app`); configuration comes from
the environment: FANGTIAO_DATABASE_URL, FANGTIAO_SECRET_KEY, FANGTIAO_SECURE_COOKIES."""

from __future__ import annotations

from webapp import create_app

app = create_app()
