"""`fangtiao token create/list/revoke`: the secret printed once, its hash stored; an administrator only;
bad input exits 2 with one line."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from orchestration.engine.runtime import Runtime
from orchestration.services.api_tokens import digest
from orchestration.store.models import ApiToken
from tests.orchestration.tools.test_cli import Cli


@pytest.fixture
def cli(database_url: str, runtime: Runtime, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(database_url, capsys)


def test_create_list_revoke(cli: Cli, runtime: Runtime) -> None:
    out = cli.ok(
        "token", "create", "--as", "admin", "--user", "clerk", "--name", "省信访信息系统", "--days", "30"
    )
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("ftk_") and "只显示这一次" in out
    with runtime.sessions() as session:
        row = session.scalars(select(ApiToken)).one()
        assert row.secret_sha256 == digest(secret) and row.role == "petition_clerk"
    listed = json.loads(cli.ok("token", "list", "--as", "admin"))
    assert [(t["name"], t["user"], t["state"]) for t in listed] == [("省信访信息系统", "clerk", "active")]
    assert secret not in json.dumps(listed)
    assert "已吊销" in cli.ok("token", "revoke", "--as", "admin", str(row.id))
    assert json.loads(cli.ok("token", "list", "--as", "admin"))[0]["state"] == "revoked"


def test_refusals_exit_2_with_one_line(cli: Cli) -> None:
    for args in (
        ("token", "create", "--as", "clerk", "--user", "clerk", "--name", "x"),
        ("token", "create", "--as", "admin", "--user", "nobody", "--name", "x"),
        ("token", "create", "--as", "admin", "--user", "clerk", "--name", "x", "--days", "0"),
        ("token", "revoke", "--as", "admin", "999"),
    ):
        result = cli(*args)
        assert result.status == 2 and result.err.startswith("错误：") and result.err.count("\n") == 1, args
