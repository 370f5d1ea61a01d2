"""The expression rule: what the procedure's own expressions need passes, everything else is named."""

from __future__ import annotations

import pytest

from orchestration.domain.expressions import (
    MAX_LENGTH,
    ExpressionRefused,
    data_names,
    equality_values,
    problems,
    require,
)

FUNCTIONS = {"deadline_days", "warning_time"}


@pytest.mark.parametrize(
    "expression",
    [
        'consent == "agree"',
        "suitable == True",
        'deadline_days(acceptance["accepted_at"], acceptance["mediation_days"])',
        'warning_time(deadline_days(acceptance["accepted_at"], acceptance["mediation_days"] - 5), 1)',
        "len(dmninputexpr.strip()) > 0",
        'dmninputexpr in ("citizen_property", "citizen_other_rights")',
        '"其他：" + other_unsuitable_reason.strip()',
        'acceptance.get("extension_days", 0) + 10',
        "not (a and b) or c is None",
        "-1 if x < 0 else min(x, 3)",
        "[1, 2]",
    ],
)
def test_what_the_procedure_needs_is_allowed(expression: str) -> None:
    assert problems(expression, FUNCTIONS) == []
    require(expression, FUNCTIONS)


@pytest.mark.parametrize(
    ("expression", "named"),
    [
        ('__import__("os").system("id")', "不允许调用 __import__"),
        ('open("/etc/passwd").read()', "open"),
        ('eval("1")', "eval"),
        ('exec("x = 1")', "exec"),
        ("().__class__.__bases__[0].__subclasses__()", "下划线"),
        ('"{0.__class__}".format(x)', ".format"),
        ("x.y", ".y"),
        ("lambda: 1", "lambda"),
        ("[open for a in b]", "列表推导式"),
        ('f"{x}"', "f-字符串"),
        ("10 ** 10 ** 10", "+ 和 -"),
        ('"a" * 1000000000', "+ 和 -"),
        ("x[1:2]", "切片"),
        ("globals()", "globals"),
        ("getattr(x, 'y')", "getattr"),
        ("subprocess_call(1)", "不允许调用 subprocess_call"),
        ("len(*x)", "* 展开"),
        ("max(x, key=y)", "关键字参数"),
        ("{1: 2}", "字典"),
        ("(y := 1)", ":="),
        ("import os", "写法有误"),
        ("x = 1", "写法有误"),
    ],
)
def test_everything_else_is_refused_saying_what(expression: str, named: str) -> None:
    found = problems(expression, FUNCTIONS)
    assert found and any(named in p for p in found), found
    with pytest.raises(ExpressionRefused, match="不符合表达式规则"):
        require(expression, FUNCTIONS)


def test_a_long_expression_is_refused_before_parsing() -> None:
    assert "过长" in problems("x or " * MAX_LENGTH + "x", FUNCTIONS)[0]


def test_deep_nesting_is_refused_not_a_crash() -> None:
    assert problems("(" * 400 + "x" + ")" * 400, FUNCTIONS)


def test_data_names_leave_out_the_functions() -> None:
    assert data_names('deadline_days(acceptance["x"], days) and len(y) > 0') == {"acceptance", "days", "y"}
    assert data_names("not python(") == set()


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('consent == "agree"', ("consent", {"agree"})),
        ('"agree" == consent', ("consent", {"agree"})),
        ("suitable == True", ("suitable", {True})),
        ('outcome in ("a", "b")', ("outcome", {"a", "b"})),
        ('outcome == "a" or outcome == "c"', ("outcome", {"a", "c"})),
        ('outcome == "a" or other == "c"', None),
        ("days > 3", None),
        ('outcome != "a"', None),
    ],
)
def test_equality_conditions_are_read_as_values_of_one_field(
    condition: str, expected: tuple[str, set[object]] | None
) -> None:
    assert equality_values(condition) == expected
