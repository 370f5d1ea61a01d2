"""The side panel's timer builder: an expression of the builder's shape is read back into its fields (any
other stays text), and evaluated with the check's sample data to the moment it gives, or to why it gives
none, in Chinese; the case data offered for the anchor and the number come from the forms and handlers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from orchestration.domain.calendar import SHANGHAI, WorkingCalendar
from orchestration.domain.procedure import read_directories
from orchestration.engine.timer_builder import DataTerm, TimerParts, parse, preview

ROOT = Path(__file__).resolve().parents[3]
FILES = read_directories(ROOT / "processes", ROOT / "forms")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday
MEDIATION = 'deadline_days(acceptance["accepted_at"], 15 + acceptance["extension_days"])'


@pytest.mark.parametrize(
    ("expression", "parts"),
    [
        (
            MEDIATION,
            TimerParts(
                "deadline_days", 'acceptance["accepted_at"]', 15, 'acceptance["extension_days"]', None
            ),
        ),
        (
            f"warning_time({MEDIATION}, 1)",
            TimerParts("deadline_days", 'acceptance["accepted_at"]', 15, 'acceptance["extension_days"]', 1),
        ),
        (
            'deadline_days(received_on + "T00:00:00+08:00", 15)',
            TimerParts("deadline_days", 'received_on + "T00:00:00+08:00"', 15, None, None),
        ),
        (
            '  deadline_working_days(agreement["mediation_ended_at"], 5) ',
            TimerParts("deadline_working_days", 'agreement["mediation_ended_at"]', 5, None, None),
        ),
        # the term before the number is read too (the builder writes it after)
        (
            "deadline_months(registered_at, extension_days + 2)",
            TimerParts("deadline_months", "registered_at", 2, "extension_days", None),
        ),
    ],
)
def test_expressions_of_the_builders_shape_are_read_into_its_fields(
    expression: str, parts: TimerParts
) -> None:
    assert parse(expression) == parts


@pytest.mark.parametrize(
    "expression",
    [
        'risk_notice["respond_by"]',  # a moment the handler computed: valid, but no builder fields
        "deadline_days(registered_at, 1.5)",
        "deadline_days(registered_at, -1)",
        "deadline_days(registered_at, True)",
        "deadline_days(registered_at, days=3)",
        "deadline_days(registered_at, 3, 4)",
        "deadline_days(registered_at, 3 + 4)",
        "deadline_days(registered_at, 3 - extension_days)",
        "deadline_days(registered_at, 3 + len(parties))",
        "deadline_weeks(registered_at, 3)",
        "warning_time(registered_at, 1)",
        f"warning_time({MEDIATION}, lead)",
        "deadline_days(registered_at, ",
        "",
    ],
)
def test_other_expressions_have_no_builder_fields(expression: str) -> None:
    assert parse(expression) is None


def _preview(expression: str):  # type: ignore[no-untyped-def]
    return preview(FILES, expression, WorkingCalendar(), NOW)


def test_the_preview_gives_the_moment_with_the_checks_sample_data() -> None:
    # the sample case is accepted now, with no extension: 15 days end on 17 November at the day's end
    shown = _preview(MEDIATION)
    assert (shown.value, shown.problem) == ("2026-11-17T23:59:59+08:00", None)
    assert shown.parts == parse(MEDIATION)
    warning = _preview(f"warning_time({MEDIATION}, 1)")
    # a working day before the deadline's end: when its last working day begins
    assert warning.value == "2026-11-17T00:00:00+08:00"
    assert _preview('deadline_days(received_on + "T00:00:00+08:00", 15)').value == "2026-11-17T23:59:59+08:00"
    assert _preview('deadline_months(termination["terminated_at"], 1)').value == "2026-12-02T23:59:59+08:00"


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        (
            'deadline_days(acceptance["accepted_on"], 15)',
            "无法用示例数据计算：示例数据中没有键 'accepted_on'",
        ),
        ("deadline_days(accepted_at, 15)", "无法用示例数据计算：没有数据 accepted_at"),
        ('open("x")', "不符合表达式规则：不允许调用 open"),
        ("extension_days", "应得出文本（ISO 8601），实际得出 1"),
        ("received_on", "得出的时间 2026-11-02 没有时区"),
    ],
)
def test_an_expression_giving_no_moment_says_why(expression: str, problem: str) -> None:
    shown = _preview(expression)
    assert shown.value is None and shown.problem is not None
    assert shown.problem.startswith(f"定时器表达式“{expression}”{problem}")


def test_the_data_offered_are_the_procedures_moments_and_numbers() -> None:
    shown = _preview(MEDIATION)
    anchors = {a.path: a for a in shown.anchors}
    assert anchors['acceptance["accepted_at"]'] == DataTerm(
        'acceptance["accepted_at"]', "受理并出具回执 › accepted_at", "2026-11-02T09:00:00+08:00"
    )
    assert anchors["registered_at"].label == "案件登记时间"
    # a form's date field is offered as the start of that day
    assert anchors['received_on + "T00:00:00+08:00"'] == DataTerm(
        'received_on + "T00:00:00+08:00"', "信访日期（当日零时起算）", "2026-11-02"
    )
    assert "case_no" not in anchors and "matter" not in anchors
    numbers = {n.path: n for n in shown.numbers}
    assert numbers['acceptance["extension_days"]'].sample == "0"
    assert numbers["extension_days"].label == "延长天数"
    assert not {"urgent", "explanation_given"} & set(numbers)  # true/false are not numbers
