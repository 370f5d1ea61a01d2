"""The modeler side panel's timer builder: a timer's expression read back into the builder's fields, and
evaluated with the check's sample data so the officer sees the date it gives while building it.

The builder writes one shape (README, "流程管理"): a deadline function of an anchor and a number of days
or months, the number optionally plus a data term (``15 + acceptance["extension_days"]``), optionally
wrapped in ``warning_time(…, lead)``. Any other expression is still a valid timer, kept as text.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from orchestration.domain.calendar import WorkingCalendar
from orchestration.engine.checks import TimerRefused, sample_for, timer_value

DEADLINES = ("deadline_days", "deadline_working_days", "deadline_months")
WARNING = "warning_time"
# A form's date field starts a deadline at the beginning of that day in Shanghai, as the diagram writes it
START_OF_DAY = ' + "T00:00:00+08:00"'
# a timer being added has no expression yet: the builder (or the text) gives it one
EMPTY = "请填写定时表达式，或用构建器生成"
# how deep the sample data's records are searched for dates and numbers
_DEPTH = 3


@dataclass(frozen=True)
class TimerParts:
    """The builder's fields: `function` (one of DEADLINES) counts `count` (+ the data term `term`, when
    given) from `anchor`; `lead` is warning_time's working days before that deadline, or None."""

    function: str
    anchor: str
    count: int
    term: str | None
    lead: int | None


@dataclass(frozen=True)
class DataTerm:
    """A piece of case data as an expression names it (``acceptance["accepted_at"]``), what it is, and its
    value in the sample data."""

    path: str
    label: str
    sample: str


@dataclass(frozen=True)
class TimerPreview:
    """What the builder shows for an expression: its fields (None when it is not of the builder's shape),
    the moment it gives with the sample data or why it gives none, and the case data offered for the
    anchor and for the number."""

    expression: str
    parts: TimerParts | None
    value: str | None
    problem: str | None
    anchors: tuple[DataTerm, ...]
    numbers: tuple[DataTerm, ...]


def parse(expression: str) -> TimerParts | None:
    """The builder's fields of an expression of its shape; None for any other expression."""
    text = expression.strip()
    try:
        body = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    lead = None
    warning = _call(body, (WARNING,))
    if warning is not None:
        lead = _whole(warning[2])
        if lead is None:
            return None
        body = warning[1]
    deadline = _call(body, DEADLINES)
    number = _count(text, deadline[2]) if deadline is not None else None
    if deadline is None or number is None:
        return None
    function, anchor, _ = deadline
    return TimerParts(function, ast.get_source_segment(text, anchor) or "", *number, lead)


def _call(node: ast.expr, names: tuple[str, ...]) -> tuple[str, ast.expr, ast.expr] | None:
    """The function's name and its two arguments, when the node calls one of `names` with two."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in names
        and len(node.args) == 2
        and not node.keywords
        and not any(isinstance(a, ast.Starred) for a in node.args)
    ):
        return node.func.id, node.args[0], node.args[1]
    return None


def _whole(node: ast.expr) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int and node.value >= 0:
        return node.value
    return None


def _count(text: str, node: ast.expr) -> tuple[int, str | None] | None:
    """A number, or a number plus one piece of case data (either way round)."""
    number = _whole(node)
    if number is not None:
        return number, None
    if not isinstance(node, ast.BinOp) or not isinstance(node.op, ast.Add):
        return None
    for constant, term in ((node.left, node.right), (node.right, node.left)):
        number = _whole(constant)
        if number is not None and _is_data(term):
            return number, ast.get_source_segment(text, term)
    return None


def _is_data(node: ast.expr) -> bool:
    """A name of case data or a subscript of one with a constant key."""
    while isinstance(node, ast.Subscript):
        if not isinstance(node.slice, ast.Constant):
            return False
        node = node.value
    return isinstance(node, ast.Name)


def preview(
    files: Mapping[str, str], expression: str, calendar: WorkingCalendar, now: datetime
) -> TimerPreview:
    """The builder's view of a timer's expression (a timeDate) against the procedure the files hold."""
    sample, labels = sample_for(files, calendar, now)
    value: str | None = None
    problem: str | None = EMPTY
    if expression.strip():
        try:
            value, problem = timer_value("timeDate", expression, sample, calendar), None
        except TimerRefused as exc:
            problem = exc.message
    anchors, numbers = [], []
    for name, value_of in sample.items():
        for path, label, leaf in _leaves(name, labels.get(name, name), value_of, _DEPTH):
            if isinstance(leaf, str) and _is_moment(leaf):
                anchors.append(DataTerm(path, label, leaf))
            elif isinstance(leaf, str) and _is_date(leaf):
                anchors.append(DataTerm(path + START_OF_DAY, f"{label}（当日零时起算）", leaf))
            elif type(leaf) is int:
                numbers.append(DataTerm(path, label, str(leaf)))
    return TimerPreview(expression, parse(expression), value, problem, tuple(anchors), tuple(numbers))


def _leaves(path: str, label: str, value: Any, depth: int) -> Iterator[tuple[str, str, Any]]:
    if isinstance(value, dict) and depth > 1:
        for key, inner in value.items():
            if isinstance(key, str):
                yield from _leaves(
                    f"{path}[{json.dumps(key, ensure_ascii=False)}]", f"{label} › {key}", inner, depth - 1
                )
    else:
        yield path, label, value


def _is_moment(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).tzinfo is not None and "T" in text
    except ValueError:
        return False


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == len("2026-11-02")
