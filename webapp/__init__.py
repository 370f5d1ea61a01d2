"""The web app: an app factory; the blueprints for each kind of user come with the web issue."""

from __future__ import annotations

from typing import Any

from flask import Flask

from orchestration.db import database_url, make_engine, make_session_factory
from orchestration.runtime import Runtime


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(DATABASE_URL=database_url())
    app.config.update(config or {})
    runtime = Runtime(make_session_factory(make_engine(app.config["DATABASE_URL"])))
    app.extensions["fangtiao_runtime"] = runtime

    @app.get("/")
    def index() -> str:
        return "访调通"

    return app
