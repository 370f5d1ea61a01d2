"""WSGI entry point for a production server (e.g. `gunicorn webapp.wsgi:app`); configuration comes from
the environment (the FANGTIAO_* variables of the README's settings table)."""

from __future__ import annotations

from webapp import create_app

app = create_app()
