"""待办 and 已办, task pages, claiming and reassigning, and 登记 (registering a petition)."""

from flask import Blueprint

bp = Blueprint("tasks", __name__, template_folder="templates")

from webapp.tasks import views  # noqa: E402,F401  (registers the routes on bp)
