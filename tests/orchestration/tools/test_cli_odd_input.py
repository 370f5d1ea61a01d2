"""The command line on odd input (issue 11, finding 5): one line `错误：…`, exit status 2, nothing
written, on each database; a lower-case case number is taken as the web takes it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from tests.orchestration.tools.test_cli import Cli, assert_refused, case_no, cli, get_case, snapshot

__all__ = ["case_no", "cli"]  # the fixtures, shared with test_cli.py

DEEP = '{"dispute_category": ' + "[" * 100_000 + "]" * 100_000 + "}"
SURROGATE = '{"dispute_category": "citizen_property", "screening_notes": "\\ud800"}'
NUL = '{"dispute_category": "citizen_property", "screening_notes": "a\\u0000b"}'

ODD = [
    (
        "surrogate in json",
        ["complete", "--as", "clerk", "{case}", "screen_case", SURROGATE],
        "无法保存的字符",
    ),
    ("NUL in json", ["complete", "--as", "clerk", "{case}", "screen_case", NUL], "无法保存的字符"),
    (
        "surrogate in an argument",
        ["complete", "--as", "cl\udcffrk", "{case}", "screen_case", "{}"],
        "无法保存的字符",
    ),
    ("NUL in an argument", ["tasks", "--as", "clerk\x00"], "无法保存的字符"),
    ("deeply nested json", ["complete", "--as", "clerk", "{case}", "screen_case", DEEP], "嵌套过深"),
    ("calendar show 99999", ["calendar", "show", "99999"], "年份"),
    ("incident 2^63", ["incidents", "--as", "admin", "--retry", str(2**63)], "事件"),
    ("incident 2^31", ["incidents", "--as", "admin", "--retry", str(2**31)], "事件"),
    ("case 2^63 digits", ["suspend", "--as", "admin", "FT" + "9" * 40], "案件"),
]


@pytest.mark.parametrize(("args", "fragment"), [o[1:] for o in ODD], ids=[o[0] for o in ODD])
def test_odd_input_is_one_line_exit_2_and_writes_nothing(
    engine: Engine, cli: Cli, case_no: str, args: list[str], fragment: str
) -> None:
    before = snapshot(engine, case_no)
    result = cli(*(arg.replace("{case}", case_no) for arg in args))
    assert_refused(result, fragment)
    assert snapshot(engine, case_no) == before


def test_an_unreachable_database_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for url in ("postgresql://nobody@127.0.0.1:9/none", "sqlite:////proc/no-such/x.sqlite"):
        unreachable = Cli(url, capsys)
        line = assert_refused(unreachable("tasks", "--as", "clerk"))
        assert "数据库" in line, line


def test_a_lower_case_case_number_is_the_case(engine: Engine, cli: Cli, case_no: str) -> None:
    lower = case_no.lower()
    cli.ok(
        "complete",
        "--as",
        "clerk",
        lower,
        "screen_case",
        json.dumps({"dispute_category": "citizen_property"}),
    )
    assert get_case(engine, case_no).revision > 1
    cli.ok("suspend", "--as", "admin", lower)
    cli.ok("resume", "--as", "admin", lower)
