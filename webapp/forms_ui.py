"""Turning form definitions (forms/*.json) into what templates render, and requests back into data.

Validation stays in the runtime (orchestration.domain.forms.validate, on the server); this module only
collects what the browser sent, keeps it for re-display, and labels stored values for reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import FileStorage, ImmutableMultiDict

from orchestration.domain.forms import FormDefinition, FormField, FormRegistry, Submission, Upload
from webapp.formatting import cn_date

Options = Mapping[str, Sequence[tuple[str, str]]]


@dataclass(frozen=True)
class FieldView:
    """One field as the template draws it: definition, options, current value and error."""

    field: FormField
    options: Sequence[tuple[str, str]]
    value: Any
    error: str | None
    condition: str | None  # "（…时必填）" for fields required only for some answers
    input_name: str = ""  # the input's name when not the field's (a row's field: parties-0-name)

    def __post_init__(self) -> None:
        if not self.input_name:
            object.__setattr__(self, "input_name", self.field.name)

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def rows(self) -> list[list[FieldView]]:
        """A repeated group's rows as stored or sent (one blank row when there are none), each a list of
        its fields' views."""
        values = self.value if isinstance(self.value, list | tuple) else []
        rows = [row for row in values if isinstance(row, Mapping)] or [{}]
        return [self._row(row, str(index)) for index, row in enumerate(rows)]

    @property
    def blank_row(self) -> list[FieldView]:
        return self._row({}, "__row__")

    def _row(self, row: Mapping[str, Any], index: str) -> list[FieldView]:
        return [
            FieldView(
                item,
                list(item.options),
                row.get(item.name),
                None,
                _condition_of(item, self.field.item_fields),
                f"{self.field.name}-{index}-{item.name}",
            )
            for item in self.field.item_fields
        ]

    @property
    def text(self) -> str:
        if self.value is None or isinstance(self.value, list | tuple | bool):
            return ""
        return str(self.value)

    @property
    def values(self) -> list[str]:
        if isinstance(self.value, list | tuple):
            return [str(v) for v in self.value]
        return [] if self.value in (None, "") else [str(self.value)]

    @property
    def checked(self) -> bool:
        return self.value is True or (isinstance(self.value, str) and self.value in ("true", "on", "1"))


def _options(form_field: FormField, options: Options) -> Sequence[tuple[str, str]]:
    if form_field.options_from:
        return list(options.get(form_field.options_from, ()))
    return list(form_field.options)


def _condition(form: FormDefinition, form_field: FormField) -> str | None:
    return _condition_of(form_field, form.fields)


def _condition_of(form_field: FormField, siblings: Iterable[FormField]) -> str | None:
    if not form_field.required_when:
        return None
    by_name = {f.name: f for f in siblings}
    parts = []
    for other_name, values in form_field.required_when.items():
        other = by_name[other_name]
        labels = dict(other.options)
        chosen = "或".join(f"“{labels.get(v, v)}”" for v in values)
        parts.append(f"“{other.label}”为{chosen}")
    return f"（{'，'.join(parts)}时必填）"


def field_views(
    form: FormDefinition,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    options: Options,
) -> list[FieldView]:
    return [
        FieldView(f, _options(f, options), values.get(f.name), errors.get(f.name), _condition(form, f))
        for f in form.fields
    ]


def submission(
    fields: ImmutableMultiDict[str, str], files: ImmutableMultiDict[str, FileStorage] | None = None
) -> Submission:
    """What the browser sent, as the runtime interprets it against the task's form."""
    uploads = (
        {
            name: [
                Upload(s.filename or "", s.mimetype or "application/octet-stream", s.read())
                for s in files.getlist(name)
                if s.filename
            ]
            for name in (files or {})
        }
        if files
        else {}
    )
    return Submission({name: fields.getlist(name) for name in fields}, uploads)


# ---- reading stored values --------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    label: str
    options: Mapping[str, str]
    widget: str


def labels(registry: FormRegistry) -> dict[str, Label]:
    """Field name -> label and option names, over every form (the first form naming a field wins)."""
    found: dict[str, Label] = {}
    for name in registry.names():
        for f in registry.get(name).fields:
            found.setdefault(f.name, Label(f.label, dict(f.options), f.widget))
    return found


def display(value: Any, label: Label | None, attachment_names: Mapping[str, str] | None = None) -> str:
    """A stored value as a reader sees it: option names, 是/否, lists joined, attachment file names."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(display(v, label, attachment_names) for v in value) or "—"
    text = str(value)
    if label is not None:
        if label.widget == "date":
            return cn_date(text)
        if text in label.options:
            return label.options[text]
        if label.widget == "file" and attachment_names and text in attachment_names:
            return attachment_names[text]
    return text


def describe(
    data: Mapping[str, Any],
    names: Iterable[str],
    known: Mapping[str, Label],
    attachment_names: Mapping[str, str] | None = None,
) -> list[tuple[str, str, str]]:
    """(field name, label, shown value) for the given fields that the data has and a form labels."""
    rows = []
    for name in names:
        if name in data and name in known:
            rows.append((name, known[name].label, display(data[name], known[name], attachment_names)))
    return rows
