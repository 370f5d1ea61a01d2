"""Signing in and out (Flask-Login, hashed passwords)."""

from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates")

from webapp.auth import views  # noqa: E402,F401  (registers the routes on bp)
