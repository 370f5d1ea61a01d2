"""schemathesis against /api/v1/openapi.json, in-process over WSGI, on both databases: whatever valid
requests the document allows, no answer is a server error and every answer matches the document
(status code, content type, schema). Bounded: a few examples per operation, derandomised."""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orchestration.engine.runtime import Runtime
from tests.helpers import advance_to, start

EXAMPLES_PER_OPERATION = 40
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# whose token calls which part of the API (the others would mostly be 403, which tests little)
TOKEN_OF_TAG = {"系统管理": "admin", "流程": "policy"}


def test_the_api_holds_to_its_document(app: Flask, runtime: Runtime, tokens: dict[str, str]) -> None:
    # some data for list answers to carry: a case waiting for the clerk, one referred to mediation
    start(runtime)
    advance_to(runtime, start(runtime), "review_referral")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:
        tag = (operation.definition.raw.get("tags") or [""])[0]
        exercise(operation, {"Authorization": f"Bearer {tokens[TOKEN_OF_TAG.get(tag, 'clerk')]}"})


def exercise(operation: Any, auth: dict[str, str]) -> None:

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def examples(case: schemathesis.Case) -> None:
        response = case.call(headers=auth)
        case.validate_response(response, checks=CHECKS)

    examples()
