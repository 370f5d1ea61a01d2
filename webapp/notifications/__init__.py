"""In-app notifications for the user's organisation and role: list, unread count, mark read."""

from flask import Blueprint

bp = Blueprint("notifications", __name__, template_folder="templates")

from webapp.notifications import views  # noqa: E402,F401  (registers the routes on bp)
