"""The web app: an app factory binding the extensions and one blueprint per area.

Its configuration comes from a `Settings` (by default `Settings.from_env()`: the FANGTIAO_* variables);
config keys besides Flask's own, which win over the settings:

* ``DATABASE_URL`` — the database (default: the settings' database URL);
* ``CLOCK`` — an object with ``now()`` (tests and demos inject a FrozenClock);
* ``INSTANCE_PATH`` — where the generated secret key is kept (default: the settings' instance folder);
* ``SECRET_KEY`` — else the settings' secret key, else a key generated once into the instance folder.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from orchestration import logs
from orchestration.services import Services
from orchestration.settings import Settings
from webapp import errors, formatting, input_guard, request_log, security
from webapp import settings as web_settings
from webapp.context import SERVICES_KEY
from webapp.extensions import csrf, login_manager


def create_app(config: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    logs.configure(settings)
    config = dict(config or {})
    instance_path = str(config.pop("INSTANCE_PATH", None) or settings.instance_path)
    app = Flask(__name__, instance_path=instance_path)
    app.config.update(web_settings.defaults(settings))
    app.config.update(DATABASE_URL=settings.database_url)
    app.config.update(config)
    app.config["SECRET_KEY"] = web_settings.secret_key(app, settings)

    app.extensions[SERVICES_KEY] = Services.open(
        settings, app.config["DATABASE_URL"], app.config.get("CLOCK")
    )

    request_log.register(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    formatting.register(app)
    errors.register(app)
    security.register(app)
    input_guard.register(app)

    from webapp import admin, api, api_v1, auth, cases, health, nav, notifications, policy, tasks

    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(policy.bp)
    # The API authenticates by the session cookie but takes JSON only (see webapp/api/views.py), which a
    # cross-site form cannot send; the CSRF token is for HTML forms.
    csrf.exempt(api.bp)
    # /api/v1 reads no cookie at all: its callers authenticate with a token (webapp/api_v1/__init__.py).
    app.register_blueprint(api_v1.bp)
    csrf.exempt(api_v1.bp)
    nav.register(app)

    @app.get("/")
    def index() -> Response:
        if current_user.is_authenticated:
            return redirect(auth.views.home())
        return redirect(url_for("auth.login"))

    return app
