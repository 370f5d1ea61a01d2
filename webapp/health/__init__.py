"""/healthz: whether the database answers and when the timer workers last showed life (JSON, no login)."""

from flask import Blueprint

bp = Blueprint("health", __name__)

from webapp.health import views  # noqa: E402,F401  (registers the routes on bp)
