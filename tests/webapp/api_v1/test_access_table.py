"""Who may call what on /api/v1: every operation × the token of each role (and of another organisation)
→ the expected status. A case of the clerk's township waits at screen_case; it has a document and an
attachment from an earlier case of the same office that went through to the mediation organisation."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from orchestration.engine.runtime import Runtime
from orchestration.services import Services
from orchestration.store.models import Attachment, Case, Document
from tests.helpers import REGISTRATION, SUCCESS_PATH, actor, complete, open_task, start
from tests.webapp.api_v1.conftest import TOKEN_USERS, Api
from webapp.api_v1 import spec

# operation id -> expected status per token, in the order of TOKEN_USERS:
#                       clerk clerk2 leader mediator policy admin
EXPECTED: dict[str, tuple[int, ...]] = {
    "list_tasks":          (200, 200, 200, 200, 200, 200),
    "claim_task":          (200, 403, 403, 403, 403, 403),
    "release_task":        (200, 403, 200, 403, 403, 403),  # the clerk's claim: the clerk or their leader
    "complete_task":       (422, 403, 403, 403, 403, 403),
    "register_case":       (201, 422, 403, 403, 403, 403),
    "read_case":           (200, 403, 200, 403, 403, 200),
    "case_files":          (200, 403, 200, 403, 403, 200),
    "read_document":       (200, 403, 200, 200, 403, 200),
    "download_attachment": (200, 403, 200, 200, 403, 403),
    "list_instances":      (403, 403, 403, 403, 403, 200),
    "suspend_instance":    (403, 403, 403, 403, 403, 200),
    "resume_instance":     (403, 403, 403, 403, 403, 200),
    "list_drafts":         (403, 403, 403, 403, 200, 200),
    "deploy_draft":        (403, 403, 403, 403, 201, 403),
}  # fmt: skip


@pytest.fixture
def world(app: Flask, runtime: Runtime, services: Services) -> dict[str, Any]:
    referred = start(runtime)
    for name, username, data in SUCCESS_PATH:
        if name == "review_referral":
            break
        complete(runtime, open_task(runtime, referred, name).id, data, actor(runtime, username))
    waiting = start(runtime)
    policy = services.users.viewer("policy")
    assert policy is not None
    draft = services.repository.create_draft(
        policy, services.repository.processes(policy)[0].latest_version_id
    )
    with runtime.sessions() as session:
        document = session.scalars(select(Document.id).where(Document.case_id == referred)).first()
        attachment = session.scalars(select(Attachment.id).where(Attachment.case_id == referred)).first()
        assert document is not None and attachment is not None
        return {
            "task_id": open_task(runtime, waiting, "screen_case").id,
            "case_no": session.get_one(Case, waiting).case_no,
            "referred_no": session.get_one(Case, referred).case_no,
            "document_id": document,
            "attachment_id": attachment,
            "draft_id": draft.id,
        }


def _call(api: Api, op: spec.Operation, world: dict[str, Any]) -> int:
    params = dict(world)
    if op.operation_id in ("suspend_instance", "resume_instance"):
        params["case_no"] = world["referred_no"]
    path = op.path.format(**params)
    if op.method == "get":
        return api.get(path).status_code
    bodies: dict[str, Any] = {
        "complete_task": {"data": {"dispute_category": "nonsense"}, "expected_revision": 1},
        "register_case": {"data": REGISTRATION},
    }
    return api.post(path, json=bodies.get(op.operation_id)).status_code


def test_every_operation_is_in_the_table() -> None:
    assert {op.operation_id for op in spec.OPERATIONS} == set(EXPECTED)


@pytest.mark.parametrize("username", TOKEN_USERS)
def test_access_table(
    username: str, client: FlaskClient, tokens: dict[str, str], world: dict[str, Any]
) -> None:
    column = TOKEN_USERS.index(username)
    api = Api(client, tokens[username])
    if username != "clerk":
        # release is tried on a task the clerk holds
        Api(client, tokens["clerk"]).post(f"/tasks/{world['task_id']}/claim")
    got: dict[str, int] = {}
    order = sorted(spec.OPERATIONS, key=lambda op: list(EXPECTED).index(op.operation_id))
    for op in order:
        got[op.operation_id] = _call(api, op, world)
    expected = {name: statuses[column] for name, statuses in EXPECTED.items()}
    assert got == expected
