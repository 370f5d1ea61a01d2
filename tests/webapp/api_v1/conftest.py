"""Fixtures for /api/v1: integration tokens for demo users, and a client that sends them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from orchestration.services import Services
from webapp.context import SERVICES_KEY

TOKEN_USERS = ("clerk", "clerk2", "leader", "mediator", "policy", "admin")
_keys = itertools.count(1)


def issue(services: Services, username: str, days: int = 30) -> str:
    admin = services.users.viewer("admin")
    assert admin is not None
    return services.api_tokens.create(admin, username, f"{username} 的对接系统", days).secret


@pytest.fixture
def services(app: Flask) -> Services:
    found: Services = app.extensions[SERVICES_KEY]
    return found


@pytest.fixture
def tokens(services: Services) -> dict[str, str]:
    return {username: issue(services, username) for username in TOKEN_USERS}


class Api:
    """Calls /api/v1 as one token; every POST gets a fresh Idempotency-Key unless one is given."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.token = token

    def headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(f"/api/v1{path}", headers=self.headers(), **kwargs)

    def post(self, path: str, json: Any = None, key: str | None = None, **kwargs: Any) -> TestResponse:
        key = key or f"test-{next(_keys)}"
        return self.client.post(f"/api/v1{path}", json=json, headers=self.headers(key), **kwargs)


@pytest.fixture
def api(client: FlaskClient, tokens: dict[str, str]) -> dict[str, Api]:
    return {username: Api(client, token) for username, token in tokens.items()}
