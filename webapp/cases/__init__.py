"""Case search and the case page; attachments and printable documents of a case."""

from flask import Blueprint

bp = Blueprint("cases", __name__, template_folder="templates")

from webapp.cases import views  # noqa: E402,F401  (registers the routes on bp)
