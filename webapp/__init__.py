"""The web app: an app factory binding the extensions and one blueprint per area.

Config keys besides Flask's own:

* ``DATABASE_URL`` — the database (default: FANGTIAO_DATABASE_URL or the embedded SQLite file);
* ``CLOCK`` — an object with ``now()`` (tests and demos inject a FrozenClock);
* ``INSTANCE_PATH`` — where the generated secret key is kept (default: ``instance/`` of the project);
* ``SECRET_KEY`` — else FANGTIAO_SECRET_KEY, else a key generated once into the instance folder.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from orchestration.services import Services
from orchestration.store.db import PROJECT_ROOT, database_url
from webapp import errors, formatting, security, settings
from webapp.context import SERVICES_KEY
from webapp.extensions import csrf, login_manager


def create_app(config: dict[str, Any] | None = None) -> Flask:
    config = dict(config or {})
    instance_path = str(config.pop("INSTANCE_PATH", None) or PROJECT_ROOT / "instance")
    app = Flask(__name__, instance_path=instance_path)
    app.config.update(settings.defaults())
    app.config.update(DATABASE_URL=database_url())
    app.config.update(config)
    app.config["SECRET_KEY"] = settings.secret_key(app)

    app.extensions[SERVICES_KEY] = Services.open(app.config["DATABASE_URL"], app.config.get("CLOCK"))

    csrf.init_app(app)
    login_manager.init_app(app)
    formatting.register(app)
    errors.register(app)
    security.register(app)

    from webapp import api, auth, cases, nav, notifications, tasks

    app.register_blueprint(auth.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(api.bp)
    # The API authenticates by the session cookie but takes JSON only (see webapp/api/views.py), which a
    # cross-site form cannot send; the CSRF token is for HTML forms.
    csrf.exempt(api.bp)
    nav.register(app)

    @app.get("/")
    def index() -> Response:
        if current_user.is_authenticated:
            return redirect(url_for("tasks.inbox"))
        return redirect(url_for("auth.login"))

    return app
