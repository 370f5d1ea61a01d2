"""Every text and list field is bounded (issue 11, finding 4): a form file that sets no maxLength or
maxItems gets the defaults of orchestration.domain.forms; one that sets its own keeps it."""

from __future__ import annotations

from typing import Any

import pytest

from orchestration.domain.forms import (
    DEFAULT_MAX_ITEM_LENGTH,
    DEFAULT_MAX_ITEMS,
    DEFAULT_MAX_LENGTH,
    FormValidationError,
    parse_form,
    validate,
)

FORM: dict[str, Any] = {
    "title": "边界",
    "schema": {
        "type": "object",
        "properties": {
            "line": {"type": "string", "title": "一行"},
            "text": {"type": "string", "title": "多行", "x-widget": "textarea"},
            "short": {"type": "string", "title": "自定", "maxLength": 5},
            "long": {"type": "string", "title": "更长", "x-widget": "textarea", "maxLength": 20_000},
            "files": {"type": "array", "title": "文件", "items": {"type": "string"}, "x-widget": "file"},
            "many": {"type": "array", "title": "自定数量", "items": {"type": "string"}, "maxItems": 30},
        },
    },
    "ui": {"order": ["line", "text", "short", "long", "files", "many"]},
}


@pytest.fixture(scope="module")
def form() -> Any:
    return parse_form("bounds", FORM)


@pytest.mark.parametrize(
    ("field", "fits", "too_much", "message"),
    [
        (
            "line",
            "字" * DEFAULT_MAX_LENGTH["text"],
            "字" * (DEFAULT_MAX_LENGTH["text"] + 1),
            "不能超过500个字",
        ),
        ("text", "字" * DEFAULT_MAX_LENGTH["textarea"], "字" * 10_001, "不能超过10000个字"),
        ("short", "字" * 5, "字" * 6, "不能超过5个字"),
        ("long", "字" * 20_000, "字" * 20_001, "不能超过20000个字"),
        ("files", ["1"] * DEFAULT_MAX_ITEMS, ["1"] * (DEFAULT_MAX_ITEMS + 1), "最多20个文件"),
        ("files", ["x" * DEFAULT_MAX_ITEM_LENGTH], ["x" * 5_000_000], "每项不能超过200个字"),
        ("many", ["a"] * 30, ["a"] * 31, "最多30个文件"),
    ],
)
def test_a_field_takes_up_to_its_bound(form: Any, field: str, fits: Any, too_much: Any, message: str) -> None:
    assert validate(form, {field: fits})[field] == fits
    with pytest.raises(FormValidationError) as refused:
        validate(form, {field: too_much})
    assert message in refused.value.errors[field]


def test_the_projects_forms_bound_every_field(project_root: Any) -> None:
    """No text or list field of forms/ takes unlimited input, with or without a bound of its own."""
    from orchestration.domain.forms import FormRegistry

    registry = FormRegistry.load(project_root / "forms")
    for name in registry.names():
        form = registry.get(name)
        for form_field in form.fields:
            huge = "字" * 20_001 if form_field.schema["type"] == "string" else ["x"] * 201
            if form_field.options or form_field.widget in ("date", "number", "checkbox", "group"):
                continue
            with pytest.raises(FormValidationError):
                validate(form, {form_field.name: huge}, lambda _: [])
