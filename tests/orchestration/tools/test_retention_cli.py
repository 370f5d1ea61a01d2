"""`fangtiao retention`: reports the closed cases past the retention period and, with --apply and an
administrator, anonymises or purges them; bad input exits 2 with one line and changes nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select, update

from orchestration.engine.clock import SHANGHAI
from orchestration.engine.runtime import Runtime
from orchestration.store.models import AuditEvent, Case
from tests.orchestration.services.test_retention import close, closed_case
from tests.orchestration.tools.test_cli import Cli

CLOSED_LONG_AGO = datetime(2015, 3, 1, 10, tzinfo=SHANGHAI)


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(database_url, capsys)


@pytest.fixture
def old_case(runtime: Runtime) -> str:
    """A case closed in 2015 (the command runs on today's clock), beside one still running."""
    case_id = closed_case(runtime)
    close(runtime, case_id)
    closed_case(runtime, "王五", "赵六")
    with runtime.transaction() as session:
        session.execute(update(Case).where(Case.id == case_id).values(completed_at=CLOSED_LONG_AGO))
        number = session.scalar(select(Case.case_no).where(Case.id == case_id))
    assert number is not None
    return number


def audit_actions(runtime: Runtime) -> list[str]:
    with runtime.sessions() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_report_names_the_period_the_count_and_the_oldest(cli: Cli, old_case: str) -> None:
    out = cli.ok("retention")
    assert out.startswith("保存期限：结案后10年（FANGTIAO_RETENTION_YEARS）；")
    assert f"已届满、尚未处理的案件：1 件；最早：{old_case}（2015年3月1日结案）" in out
    assert "注意" not in out  # the notice in force states the same period


def test_apply_needs_an_administrator_and_writes_nothing_otherwise(
    cli: Cli, old_case: str, runtime: Runtime
) -> None:
    before = audit_actions(runtime)
    for args, message in (
        ((), "错误：匿名化或删除须以系统管理员身份执行：请加 --as 管理员用户名\n"),
        (("--as", "clerk"), "错误：用户 clerk 不是系统管理员\n"),
        (("--as", "nobody"), "错误：未知用户：nobody\n"),
    ):
        result = cli("retention", "--apply", "anonymise", *args)
        assert (result.status, result.err) == (2, message)
    assert audit_actions(runtime) == before


def test_apply_anonymises_once(cli: Cli, old_case: str, runtime: Runtime) -> None:
    out = cli.ok("retention", "--apply", "anonymise", "--as", "admin")
    assert f"已匿名化：{old_case}\n共处理 1 件，失败 0 件" in out
    assert audit_actions(runtime).count("anonymise") == 1
    again = cli.ok("retention", "--apply", "anonymise", "--as", "admin")
    assert "已届满、尚未处理的案件：0 件" in again and "已匿名化" not in again
    assert audit_actions(runtime).count("anonymise") == 1


def test_apply_purge(cli: Cli, old_case: str, runtime: Runtime) -> None:
    out = cli.ok("retention", "--apply", "purge", "--as", "admin")
    assert f"已删除：{old_case}\n共处理 1 件，失败 0 件" in out
    with runtime.sessions() as session:
        assert session.scalar(select(Case.id).where(Case.case_no == old_case)) is None
        assert session.scalar(select(func.count(Case.id))) == 1  # the running case stays


def test_the_period_comes_from_the_environment(
    cli: Cli, old_case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FANGTIAO_RETENTION_YEARS", "30")
    out = cli.ok("retention")
    assert out.startswith("保存期限：结案后30年")
    assert "已届满、尚未处理的案件：0 件" in out
    assert "现行个人信息处理告知书（2026年第1版）告知的保存期限为10年，与设定不一致" in out
