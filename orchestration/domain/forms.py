"""Task forms: the JSON files in ``forms/`` and the server-side check of what a user submits.

A form file is JSON Schema plus display hints, so that a policy officer can change a form without a
programmer.  Because an officer, not a programmer, edits these files, every file is checked thoroughly
when it is loaded: a typo must stop the application at start-up with a Chinese message naming the file
and the field, rather than surface as a puzzling error when a clerk submits a task.

Validation is on the task-completion path, so each form's marshmallow schema is built once and kept on
the form object; a call to :func:`validate` only loads data through it.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields
from marshmallow import validate as mv

from orchestration.domain import text_input

__all__ = [
    "FormDefinition",
    "FormError",
    "FormField",
    "FormRegistry",
    "FormValidationError",
    "Note",
    "OptionsProvider",
    "Submission",
    "Upload",
    "initial_values",
    "load_form",
    "parse_form",
    "parse_form_text",
    "validate",
]

OptionsProvider = Callable[[str], Sequence[tuple[str, str]]]


@dataclass(frozen=True)
class Upload:
    """A file a user sent with a form."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Submission:
    """What a browser sent for a form, before the form says what it means: every value of every field
    (a multi-valued field sends several) and the files chosen."""

    fields: Mapping[str, Sequence[str]]
    files: Mapping[str, Sequence[Upload]]

    def interpret(self, form: FormDefinition) -> tuple[dict[str, Any], dict[str, list[Upload]]]:
        """The data and uploads for the form's own fields; anything else sent is dropped."""
        data: dict[str, Any] = {}
        uploads: dict[str, list[Upload]] = {}
        for f in form.fields:
            sent = list(self.fields.get(f.name, ()))
            if f.widget == "checkbox":
                # An unchecked box sends nothing; for a yes/no field that means "no", not "not answered".
                data[f.name] = "true" if sent else "false"
            elif f.widget == "checkboxes":
                data[f.name] = sent
            elif f.widget == "file":
                chosen = [u for u in self.files.get(f.name, ()) if u.filename]
                if chosen:
                    uploads[f.name] = chosen
            elif f.widget == "group":
                data[f.name] = self._rows(f)
            elif sent:
                data[f.name] = sent[0]
        return data, uploads

    def _rows(self, group: FormField) -> list[dict[str, Any]]:
        """A repeated group's rows from inputs named ``<group>-<row>-<field>``, in row order; a row the
        browser sent blank (an added row left empty) is no row."""
        prefix = f"{group.name}-"
        by_row: dict[int, dict[str, Any]] = {}
        for key, values in self.fields.items():
            index, _, name = key[len(prefix) :].partition("-") if key.startswith(prefix) else ("", "", "")
            if index.isdigit() and len(index) < 4 and values:
                by_row.setdefault(int(index), {})[name] = values[0]
        rows = []
        for _, sent in sorted(by_row.items()):
            row: dict[str, Any] = {}
            for item in group.item_fields:
                if item.widget == "checkbox":
                    row[item.name] = "true" if sent.get(item.name) else "false"
                elif sent.get(item.name, "").strip():
                    row[item.name] = sent[item.name]
            if any(v for k, v in row.items() if group.item_field(k).widget != "checkbox"):
                rows.append(row)
        return rows


WIDGETS = frozenset(
    {"text", "textarea", "select", "radio", "date", "number", "checkbox", "checkboxes", "file", "group"}
)

# Names become BPMN/Python variables (gateway conditions read them), so they must be identifiers.
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Python 3.11's date.fromisoformat also takes "20261128" and week dates; the forms promise YYYY-MM-DD.
_ISO_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

_TOP_KEYS = frozenset({"title", "description", "schema", "ui", "$comment"})
_SCHEMA_KEYS = frozenset({"type", "required", "properties", "$comment"})
_UI_KEYS = frozenset({"order", "fields", "required_when", "notes", "$comment"})
_NOTE_KEYS = frozenset({"key", "title", "when", "notify", "$comment"})
_UI_FIELD_KEYS = frozenset({"widget", "help", "$comment"})
_PROPERTY_KEYS = frozenset(
    {
        "type",
        "title",
        "description",
        "enum",
        "x-enum-labels",
        "x-options-from",
        "x-widget",
        "format",
        "pattern",
        "x-pattern-message",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "default",
        "const",
        "items",
        "minItems",
        "maxItems",
        "x-item-title",
        "x-only-when",
        "$comment",
    }
)
_ITEM_KEYS = frozenset({"type", "enum", "x-enum-labels", "$comment"})
# A repeated group's items: an object of scalar fields, each declared as a top-level field is.
_GROUP_KEYS = frozenset({"type", "properties", "required", "x-required-when", "x-order", "$comment"})
_GROUP_ITEM_TYPES = ("string", "integer", "number", "boolean")
_TYPES = ("string", "integer", "number", "boolean", "array")

# HTML checkboxes send "on"; hidden inputs and JS clients send "true"/"false" or "1"/"0".
# (True and False also match 1 and 0, since they compare equal.)
_TRUTHY = frozenset({True, "1", "true", "True", "TRUE", "on", "yes"})
_FALSY = frozenset({False, "0", "false", "False", "FALSE", "off", "no"})

MSG_UNKNOWN = "未知字段"
MSG_CHOICE = "请选择有效的选项"
MSG_DATE = "请输入有效的日期（如2026-11-28）"
MSG_INTEGER = "请输入整数"
MSG_NUMBER = "请输入数字"
MSG_TEXT = "请输入文字"
MSG_BOOLEAN = "请选择“是”或“否”"
MSG_LIST = "请提交列表"
MSG_PATTERN = "格式不正确"

# Bounds for what a form file leaves open, so that no field takes unlimited input (one 5 MB list item
# made a 5 MB case state): a text field without maxLength takes DEFAULT_MAX_LENGTH[widget] characters, a
# list (choices, files, rows) without maxItems DEFAULT_MAX_ITEMS entries, a free list item
# DEFAULT_MAX_ITEM_LENGTH characters. A form's own maxLength or maxItems, larger or smaller, wins.
DEFAULT_MAX_LENGTH = {"text": 500, "textarea": 10_000}
DEFAULT_MAX_LENGTH_OTHER = 500  # a choice's value, a field of a kind added later
DEFAULT_MAX_ITEMS = 20
DEFAULT_MAX_ITEM_LENGTH = 200


class FormError(ValueError):
    """A form file (or the caller's set-up, such as a missing option list) is wrong, not the user's data.
    `field` names the field it is about, if one, and `group` the repeated group holding that field."""

    def __init__(self, message: str, field: str | None = None, group: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.group = group


class FormValidationError(ValueError):
    """Submitted data failed validation; ``errors`` maps each offending field to one Chinese message."""

    def __init__(self, errors: Mapping[str, str], labels: Mapping[str, str] | None = None) -> None:
        self.errors: dict[str, str] = dict(errors)
        labels = labels or {}
        summary = "；".join(f"{labels.get(name, name)}：{message}" for name, message in self.errors.items())
        super().__init__(f"表单填写有误：{summary}")


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    widget: str
    required: bool
    help: str | None
    options: tuple[tuple[str, str], ...]
    options_from: str | None
    required_when: Mapping[str, tuple[str, ...]]
    default: Any
    schema: Mapping[str, Any]
    # a repeated group ("group" widget): the fields of one row, and what one row is called (当事人)
    item_fields: tuple[FormField, ...] = ()
    item_title: str = "项"
    # the answers for which the field is asked at all; for others its value is dropped unchecked (the
    # parties of an agreement are not checked when mediation is only extended)
    only_when: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def item_field(self, name: str) -> FormField:
        for item in self.item_fields:
            if item.name == name:
                return item
        raise KeyError(f"“{self.label}”没有字段“{name}”")

    @property
    def required_message(self) -> str:
        if self.widget == "checkbox" and self.schema.get("const") is True:
            return f"请确认{self.label}"
        if self.widget in ("select", "radio", "checkboxes", "checkbox"):
            return f"请选择{self.label}"
        if self.widget == "file":
            return f"请上传{self.label}"
        if self.widget == "group":
            return f"请至少填写一位{self.item_title}" if self.item_title != "项" else f"请填写{self.label}"
        return f"请填写{self.label}"


@dataclass(frozen=True)
class Note:
    """Something earlier steps wrote that whoever fills in the form must read first (a leader's reason
    for sending a letter back): the case data's `key`, shown under `title` when the data matches
    `when`; `notify`: the people the task is for are also told in a notification."""

    key: str
    title: str
    when: Mapping[str, tuple[str, ...]]
    notify: bool

    def text(self, data: Mapping[str, Any]) -> str | None:
        if any(data.get(other) not in values for other, values in self.when.items()):
            return None
        value = data.get(self.key)
        return value.strip() if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class FormDefinition:
    name: str
    title: str
    description: str | None
    fields: tuple[FormField, ...]
    notes: tuple[Note, ...] = ()
    # Filled on first validate() (or eagerly by FormRegistry); not part of the form's identity.
    _compiled: _CompiledForm | None = field(default=None, init=False, repr=False, compare=False)

    def field(self, name: str) -> FormField:
        for form_field in self.fields:
            if form_field.name == name:
                return form_field
        raise KeyError(f"表单“{self.name}”没有字段“{name}”")

    def notes_for(self, data: Mapping[str, Any]) -> list[tuple[Note, str]]:
        """The notes that apply to the case data, with their text."""
        found = [(note, note.text(data)) for note in self.notes]
        return [(note, text) for note, text in found if text is not None]


class FormRegistry:
    """A set of forms (a directory's, or a deployed version's), each checked and compiled once; a bad form
    fails construction."""

    def __init__(self, forms: Mapping[str, FormDefinition], where: str) -> None:
        for name, form in forms.items():
            # Compile now so a default that breaks its own rules is reported at start-up, not on submit.
            _compiled(form, source=f"{name}.json")
        self._forms = dict(forms)
        self._where = where

    @classmethod
    def load(cls, directory: Path) -> FormRegistry:
        """The forms of a directory (forms/*.json)."""
        directory = Path(directory)
        if not directory.is_dir():
            raise FormError(f"表单目录不存在：{directory}")
        forms = [load_form(path) for path in sorted(directory.glob("*.json"))]
        return cls({form.name: form for form in forms}, f"表单目录 {directory}")

    @classmethod
    def from_texts(cls, texts: Mapping[str, str], where: str) -> FormRegistry:
        """Forms from their JSON texts by name, as a version or a draft holds them."""
        return cls({name: parse_form_text(name, text) for name, text in sorted(texts.items())}, where)

    def get(self, name: str) -> FormDefinition:
        try:
            return self._forms[name]
        except KeyError:
            raise KeyError(f"未找到表单“{name}”（{self._where}）") from None

    def names(self) -> list[str]:
        return sorted(self._forms)

    def __contains__(self, name: object) -> bool:
        return name in self._forms


# --------------------------------------------------------------------------------------------------
# Loading and checking form files


def load_form(path: Path) -> FormDefinition:
    """Read and check one form file; the form's name is the file name without ``.json``."""
    path = Path(path)
    try:
        # utf-8-sig: files saved by Windows Notepad start with a BOM.
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormError(f"表单文件 {path.name} 不是 UTF-8 编码：{exc.reason}") from exc
    except OSError as exc:
        raise FormError(f"无法读取表单文件 {path.name}：{exc.strerror or exc}") from exc
    return parse_form_text(path.stem, text, source=path.name)


def parse_form_text(name: str, text: str, source: str | None = None) -> FormDefinition:
    """Check a form given as JSON text (a file's, or one a policy officer is editing)."""
    source = source or f"{name}.json"
    try:
        document = json.loads(text.removeprefix("\ufeff"), object_pairs_hook=_reject_duplicate_keys)
    except _DuplicateKeyError as exc:
        raise FormError(f"表单文件 {source} 中键“{exc.key}”重复出现") from exc
    except json.JSONDecodeError as exc:
        raise FormError(
            f"表单文件 {source} 不是有效的 JSON：第{exc.lineno}行第{exc.colno}列，{exc.msg}"
        ) from exc
    return parse_form(name, document, source=source)


def parse_form(name: str, document: Any, source: str | None = None) -> FormDefinition:
    """Check a form document already parsed from JSON (e.g. one being edited in the admin console)."""
    return _FormParser(name, source or f"{name}.json").parse(document)


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of two equal keys silently; in a hand-edited file that is usually a paste error.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


class _FormParser:
    def __init__(self, name: str, source: str, within: str | None = None) -> None:
        self.name = name
        self.source = source
        self.within = within  # the repeated group whose row fields this parser reads

    def fail(self, message: str, field_name: str | None = None) -> FormError:
        where = f"字段“{field_name}”：" if field_name else ""
        within = f"分组“{self.within}”中的" if self.within else ""
        return FormError(f"表单文件 {self.source} 有误：{within}{where}{message}", field_name, self.within)

    def parse(self, document: Any) -> FormDefinition:
        if not _NAME_RE.match(self.name):
            raise self.fail("文件名只能由小写字母、数字和下划线组成，并以字母开头")
        if not isinstance(document, dict):
            raise self.fail("文件内容应为 JSON 对象")
        self.no_unknown_keys(document, _TOP_KEYS, "顶层")
        title = self.text(document.get("title"), "title（表单标题）")
        description = document.get("description")
        if description is not None and not isinstance(description, str):
            raise self.fail("description（表单说明）应为文字")

        schema = document.get("schema")
        if not isinstance(schema, dict):
            raise self.fail("缺少 schema 对象")
        self.no_unknown_keys(schema, _SCHEMA_KEYS, "schema")
        if schema.get("type") != "object":
            raise self.fail('schema 的 type 应为 "object"')
        properties = schema.get("properties")
        if not isinstance(properties, dict) or not properties:
            raise self.fail("schema.properties 应为非空对象")
        required = schema.get("required", [])
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise self.fail("schema.required 应为字段名列表")
        for name in required:
            if name not in properties:
                raise self.fail("列在 schema.required 中，但 properties 中没有该字段", name)

        ui = document.get("ui", {})
        if not isinstance(ui, dict):
            raise self.fail("ui 应为对象")
        self.no_unknown_keys(ui, _UI_KEYS, "ui")
        ui_fields = ui.get("fields", {})
        if not isinstance(ui_fields, dict):
            raise self.fail("ui.fields 应为对象")
        for name, hints in ui_fields.items():
            if name not in properties:
                raise self.fail("出现在 ui.fields 中，但 properties 中没有该字段", name)
            if not isinstance(hints, dict):
                raise self.fail("ui.fields 中的设置应为对象", name)
            self.no_unknown_keys(hints, _UI_FIELD_KEYS, "ui.fields", name)
        required_when = self.required_when(ui.get("required_when", {}), properties, set(required))
        # x-only-when names answers the way required_when does, and is checked the same way
        asked = {
            n: p["x-only-when"] for n, p in properties.items() if isinstance(p, dict) and "x-only-when" in p
        }
        only_when = self.required_when(asked, properties, set())
        order = self.order(ui.get("order"), properties)

        form_fields = tuple(
            self.field(
                name,
                properties[name],
                ui_fields.get(name, {}),
                required=name in required,
                required_when=required_when.get(name, {}),
                only_when=only_when.get(name, {}),
            )
            for name in order
        )
        notes = self.notes(ui.get("notes", []))
        return FormDefinition(
            name=self.name, title=title, description=description, fields=form_fields, notes=notes
        )

    def notes(self, notes: Any) -> tuple[Note, ...]:
        if not isinstance(notes, list):
            raise self.fail("ui.notes 应为列表")
        parsed = []
        for note in notes:
            if not isinstance(note, dict):
                raise self.fail("ui.notes 中的每一项应为对象")
            self.no_unknown_keys(note, _NOTE_KEYS, "ui.notes")
            key = note.get("key")
            if not isinstance(key, str) or not _NAME_RE.match(key):
                raise self.fail("ui.notes 的 key 应为案件数据的字段名")
            title = self.text(note.get("title"), "ui.notes 的 title")
            when = note.get("when", {})
            if not isinstance(when, dict) or not all(
                isinstance(k, str) and isinstance(v, list) and v and all(isinstance(x, str) for x in v)
                for k, v in when.items()
            ):
                raise self.fail('ui.notes 的 when 应为 {"字段": [取值, …]}')
            notify = note.get("notify", False)
            if not isinstance(notify, bool):
                raise self.fail("ui.notes 的 notify 应为 true 或 false")
            parsed.append(Note(key, title, MappingProxyType({k: tuple(v) for k, v in when.items()}), notify))
        return tuple(parsed)

    def text(self, value: Any, what: str, field_name: str | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"缺少 {what}，或其不是文字", field_name)
        return value

    def no_unknown_keys(
        self, obj: Mapping[str, Any], allowed: frozenset[str], where: str, field_name: str | None = None
    ) -> None:
        unknown = sorted(set(obj) - allowed)
        if unknown:
            raise self.fail(
                f"{where} 中有无法识别的设置 {', '.join(unknown)}（可用：{', '.join(sorted(allowed))}）",
                field_name,
            )

    def order(self, order: Any, properties: Mapping[str, Any]) -> list[str]:
        if order is None:
            return list(properties)
        if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
            raise self.fail("ui.order 应为字段名列表")
        seen: set[str] = set()
        for name in order:
            if name not in properties:
                raise self.fail("出现在 ui.order 中，但 properties 中没有该字段", name)
            if name in seen:
                raise self.fail("在 ui.order 中重复出现", name)
            seen.add(name)
        # A field an officer added but forgot to place still has to be shown, so it goes last.
        return [*order, *(name for name in properties if name not in seen)]

    def required_when(
        self, rules: Any, properties: Mapping[str, Any], required: set[str]
    ) -> dict[str, dict[str, tuple[str, ...]]]:
        if not isinstance(rules, dict):
            raise self.fail("ui.required_when 应为对象")
        result: dict[str, dict[str, tuple[str, ...]]] = {}
        for name, conditions in rules.items():
            if name not in properties:
                raise self.fail("出现在 ui.required_when 中，但 properties 中没有该字段", name)
            if name in required:
                raise self.fail("已列为必填（schema.required），不能再设置条件必填", name)
            if not isinstance(conditions, dict) or not conditions:
                raise self.fail('required_when 的条件应为 {"字段": [取值, …]}', name)
            parsed: dict[str, tuple[str, ...]] = {}
            for other, values in conditions.items():
                other_schema = properties.get(other)
                if not isinstance(other_schema, dict) or other == name:
                    raise self.fail(f"required_when 引用的字段“{other}”不存在", name)
                enum = other_schema.get("enum")
                # Only a fixed choice list gives a condition an officer can check by reading the file.
                if other_schema.get("type") != "string" or not isinstance(enum, list):
                    raise self.fail(f"required_when 只能引用有固定选项（enum）的字段，“{other}”不是", name)
                if not isinstance(values, list) or not values:
                    raise self.fail(f"required_when 中“{other}”的取值应为非空列表", name)
                for value in values:
                    if value not in enum:
                        raise self.fail(f"required_when 中的取值“{value}”不是字段“{other}”的选项", name)
                parsed[other] = tuple(values)
            result[name] = parsed
        return result

    def field(
        self,
        name: str,
        prop: Any,
        hints: Mapping[str, Any],
        *,
        required: bool,
        required_when: Mapping[str, tuple[str, ...]],
        only_when: Mapping[str, tuple[str, ...]] | None = None,
    ) -> FormField:
        if not _NAME_RE.match(name) or keyword.iskeyword(name):
            raise self.fail("字段名只能由小写字母、数字和下划线组成，并以字母开头", name)
        if not isinstance(prop, dict):
            raise self.fail("字段定义应为对象", name)
        self.no_unknown_keys(prop, _PROPERTY_KEYS, "字段定义", name)
        kind = prop.get("type")
        if kind not in _TYPES:
            raise self.fail(f"type 应为 {', '.join(_TYPES)} 之一", name)
        label = self.text(prop.get("title"), "title（字段标题）", name)

        options_from = prop.get("x-options-from")
        if options_from is not None:
            if kind != "string" or not isinstance(options_from, str) or not _NAME_RE.match(options_from):
                raise self.fail("x-options-from 只能用于文字字段，值为动态选项列表的名称", name)
            if "enum" in prop:
                raise self.fail("不能同时设置 enum 和 x-options-from", name)
            if "default" in prop:
                raise self.fail("动态选项字段不能设置默认值", name)

        options: tuple[tuple[str, str], ...] = ()
        if "enum" in prop:
            if kind != "string":
                raise self.fail("enum 只能用于文字字段；多选请用 array 的 items.enum", name)
            options = self.enum(prop, name)
        self.check_keywords(name, kind, prop)
        item_fields: tuple[FormField, ...] = ()
        if kind == "array":
            items = prop.get("items")
            if isinstance(items, dict) and items.get("type") == "object":
                item_fields = self.group(name, items)
            elif not isinstance(items, dict) or items.get("type") != "string":
                raise self.fail('array 字段须有 items: {"type": "string"} 或 {"type": "object", …}', name)
            else:
                self.no_unknown_keys(items, _ITEM_KEYS, "items", name)
                if "enum" in items:
                    options = self.enum(items, name)
        item_title = prop.get("x-item-title", "项")
        if "x-item-title" in prop and (not item_fields or not isinstance(item_title, str) or not item_title):
            raise self.fail("x-item-title 只能用于重复填写的分组（items 为 object），值为文字", name)

        if "const" in prop:
            if kind != "boolean" or prop["const"] is not True:
                raise self.fail('const 只支持勾选框必须勾选的情形（boolean 字段，"const": true）', name)
            if not required:
                raise self.fail('"const": true 的勾选框必须列在 schema.required 中', name)

        widget = self.widget(
            name,
            kind,
            prop,
            hints,
            has_choices=bool(options) or options_from is not None,
            group=bool(item_fields),
        )
        help_text = hints.get("help", prop.get("description"))
        if help_text is not None and not isinstance(help_text, str):
            raise self.fail("help 应为文字", name)
        return FormField(
            name=name,
            label=label,
            widget=widget,
            required=required,
            help=help_text,
            options=options,
            options_from=options_from,
            required_when=MappingProxyType(dict(required_when)),
            default=_freeze(prop.get("default")),
            schema=_freeze(prop),
            item_fields=item_fields,
            item_title=item_title,
            only_when=MappingProxyType(dict(only_when or {})),
        )

    def group(self, name: str, items: Mapping[str, Any]) -> tuple[FormField, ...]:
        """The fields of one row of a repeated group, each checked as a top-level field is."""
        self.no_unknown_keys(items, _GROUP_KEYS, "items", name)
        properties = items.get("properties")
        if not isinstance(properties, dict) or not properties:
            raise self.fail("分组的 items.properties 应为非空对象", name)
        required = items.get("required", [])
        if not isinstance(required, list) or any(r not in properties for r in required):
            raise self.fail("分组的 items.required 应为 items.properties 中的字段名列表", name)
        for sub_name, sub in properties.items():
            if not isinstance(sub, dict) or sub.get("type") not in _GROUP_ITEM_TYPES:
                raise self.fail(f"分组中的字段“{sub_name}”应为 {', '.join(_GROUP_ITEM_TYPES)} 类型", name)
            if "x-options-from" in sub:
                raise self.fail(f"分组中的字段“{sub_name}”不能使用 x-options-from", name)
        inner = _FormParser(self.name, self.source, within=name)
        conditions = inner.required_when(items.get("x-required-when", {}), properties, set(required))
        order = inner.order(items.get("x-order"), properties)
        return tuple(
            inner.field(
                sub_name,
                properties[sub_name],
                {},
                required=sub_name in required,
                required_when=conditions.get(sub_name, {}),
            )
            for sub_name in order
        )

    def enum(self, prop: Mapping[str, Any], name: str) -> tuple[tuple[str, str], ...]:
        values = prop.get("enum")
        labels = prop.get("x-enum-labels")
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
            raise self.fail("enum 应为非空的文字列表", name)
        if len(set(values)) != len(values):
            raise self.fail("enum 中有重复的选项", name)
        if not isinstance(labels, list) or len(labels) != len(values):
            raise self.fail("x-enum-labels 应与 enum 一一对应（数量相同），为每个选项提供中文名称", name)
        if not all(isinstance(label, str) and label.strip() for label in labels):
            raise self.fail("x-enum-labels 中的每一项都应为非空文字", name)
        return tuple(zip(values, labels, strict=True))

    def check_keywords(self, name: str, kind: str, prop: Mapping[str, Any]) -> None:
        by_type = {
            "format": ("string",),
            "pattern": ("string",),
            "x-pattern-message": ("string",),
            "minLength": ("string",),
            "maxLength": ("string",),
            "minimum": ("integer", "number"),
            "maximum": ("integer", "number"),
            "items": ("array",),
            "minItems": ("array",),
            "maxItems": ("array",),
        }
        for key, kinds in by_type.items():
            if key in prop and kind not in kinds:
                raise self.fail(f"{key} 不适用于 {kind} 类型的字段", name)
        if "format" in prop and prop["format"] != "date":
            raise self.fail('format 目前只支持 "date"', name)
        for low, high, number_type, what in (
            ("minLength", "maxLength", int, "非负整数"),
            ("minItems", "maxItems", int, "非负整数"),
            ("minimum", "maximum", int | float, "数字"),
        ):
            for key in (low, high):
                bound = prop.get(key)
                invalid = isinstance(bound, bool) or not isinstance(bound, number_type)
                if bound is not None and (invalid or (number_type is int and bound < 0)):
                    raise self.fail(f"{key} 应为{what}", name)
            if low in prop and high in prop and prop[low] > prop[high]:
                raise self.fail(f"{low} 大于 {high}", name)
        if "pattern" in prop:
            pattern = prop["pattern"]
            if not isinstance(pattern, str):
                raise self.fail("pattern 应为正则表达式文字", name)
            # JSON Schema patterns match anywhere in the value; requiring ^…$ removes that trap.
            if not (pattern.startswith("^") and pattern.endswith("$")):
                raise self.fail("pattern 须以 ^ 开头、以 $ 结尾，以匹配整个输入", name)
            try:
                re.compile(pattern)
            except re.error as exc:
                raise self.fail(f"pattern 不是有效的正则表达式：{exc}", name) from exc
        hint = prop.get("x-pattern-message")
        if hint is not None and (not isinstance(hint, str) or "pattern" not in prop):
            raise self.fail("x-pattern-message 应为文字，且只能与 pattern 一起使用", name)

    def widget(
        self,
        name: str,
        kind: str,
        prop: Mapping[str, Any],
        hints: Mapping[str, Any],
        *,
        has_choices: bool,
        group: bool = False,
    ) -> str:
        if kind == "string":
            if prop.get("format") == "date":
                allowed: tuple[str, ...] = ("date",)
            elif has_choices:
                allowed = ("select", "radio")
            else:
                allowed = ("text", "textarea")
        elif kind in ("integer", "number"):
            allowed = ("number",)
        elif kind == "boolean":
            allowed = ("checkbox",)
        elif group:
            allowed = ("group",)
        else:
            allowed = ("checkboxes",) if has_choices else ("file",)
        chosen = hints.get("widget", prop.get("x-widget", allowed[0]))
        if chosen not in WIDGETS:
            raise self.fail(f"控件“{chosen}”不存在（可用：{', '.join(sorted(WIDGETS))}）", name)
        if chosen not in allowed:
            raise self.fail(f"控件“{chosen}”不适用于此字段（可用：{', '.join(allowed)}）", name)
        return chosen


def _freeze(value: Any) -> Any:
    # Forms are shared by every request; read-only views stop one caller's edit leaking into another's.
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------------
# Compiling a form to a marshmallow schema


def _esc(message: str) -> str:
    # marshmallow runs str.format on messages; braces in a label or hint must survive that.
    return message.replace("{", "{{").replace("}", "}}")


class _IsoDate(fields.Date):
    """A date that loads only from YYYY-MM-DD (or a date object) and stays an ISO string for JSON."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Any:
        if isinstance(value, datetime):
            raise self.make_error("invalid")
        if isinstance(value, date):
            return value.isoformat()
        if not isinstance(value, str) or not _ISO_DATE_RE.match(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs).isoformat()


class _WholeInteger(fields.Integer):
    """Non-strict so "3" from an HTML form loads, but 1.5 is refused instead of truncated to 1."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._validated(value)


class _FormSchema(Schema):
    error_messages = {"unknown": MSG_UNKNOWN, "type": "提交的数据应为字段名到取值的映射"}  # noqa: RUF012

    class Meta:
        unknown = RAISE


def _string_validators(prop: Mapping[str, Any], label: str, widget: str = "text") -> list[Any]:
    validators: list[Any] = []
    if "minLength" in prop:
        validators.append(mv.Length(min=prop["minLength"], error="不能少于{min}个字"))
    longest = prop.get("maxLength", DEFAULT_MAX_LENGTH.get(widget, DEFAULT_MAX_LENGTH_OTHER))
    validators.append(mv.Length(max=longest, error="不能超过{max}个字"))
    if "pattern" in prop:
        hint = prop.get("x-pattern-message")
        message = f"{MSG_PATTERN}：{hint}" if hint else f"{MSG_PATTERN}：请检查{label}"
        validators.append(mv.Regexp(prop["pattern"], error=_esc(message)))
    if "enum" in prop:
        validators.append(mv.OneOf(prop["enum"], error=MSG_CHOICE))
    return validators


def _marshmallow_field(form_field: FormField) -> fields.Field:
    prop = form_field.schema
    kind = prop["type"]
    is_const = prop.get("const") is True
    messages = {
        "required": _esc(form_field.required_message),
        "null": _esc(form_field.required_message),
        "validator_failed": MSG_PATTERN,
    }
    common: dict[str, Any] = {"required": form_field.required or is_const}
    if kind == "string" and prop.get("format") == "date":
        return _IsoDate(error_messages={**messages, "invalid": MSG_DATE}, **common)
    if kind == "string":
        return fields.String(
            validate=_string_validators(prop, form_field.label, form_field.widget),
            error_messages={**messages, "invalid": MSG_TEXT},
            **common,
        )
    validators: list[mv.Validator] = []
    if kind in ("integer", "number"):
        if "minimum" in prop:
            validators.append(mv.Range(min=prop["minimum"], error="不能少于{min}"))
        if "maximum" in prop:
            validators.append(mv.Range(max=prop["maximum"], error="不能大于{max}"))
        if kind == "integer":
            return _WholeInteger(
                validate=validators,
                error_messages={**messages, "invalid": MSG_INTEGER, "too_large": "数值过大"},
                **common,
            )
        return fields.Float(
            validate=validators,
            error_messages={
                **messages,
                "invalid": MSG_NUMBER,
                "too_large": "数值过大",
                "special": MSG_NUMBER,
            },
            **common,
        )
    if kind == "boolean":
        if is_const:
            validators.append(mv.Equal(True, error=_esc(form_field.required_message)))
        return fields.Boolean(
            truthy=set(_TRUTHY),
            falsy=set(_FALSY),
            validate=validators,
            error_messages={**messages, "invalid": MSG_BOOLEAN},
            **common,
        )
    if form_field.widget == "group":
        return _group_field(form_field, messages, common)
    item_validators = (
        [mv.OneOf([value for value, _ in form_field.options], error=MSG_CHOICE)]
        if form_field.options
        else [mv.Length(max=DEFAULT_MAX_ITEM_LENGTH, error="每项不能超过{max}个字")]
    )
    item = fields.String(validate=item_validators, error_messages={"invalid": MSG_TEXT, "null": MSG_TEXT})
    most = prop.get("maxItems", DEFAULT_MAX_ITEMS)
    noun = "个文件" if form_field.widget == "file" else "项"
    return fields.List(
        item,
        validate=[mv.Length(max=most, error=_esc(f"最多{most}{noun}"))],
        error_messages={**messages, "invalid": MSG_LIST},
        **common,
    )


def _group_field(form_field: FormField, messages: dict[str, str], common: dict[str, Any]) -> fields.Field:
    """A list of rows, each row loaded by a schema of its own fields."""
    row = _FormSchema.from_dict(
        {item.name: _marshmallow_field(item) for item in form_field.item_fields},
        name=f"{form_field.name}_row_schema",
    )
    prop = form_field.schema
    title = form_field.item_title
    validators = []
    if "minItems" in prop:
        validators.append(mv.Length(min=prop["minItems"], error=_esc(f"至少填写{prop['minItems']}个{title}")))
    most = prop.get("maxItems", DEFAULT_MAX_ITEMS)
    validators.append(mv.Length(max=most, error=_esc(f"最多填写{most}个{title}")))
    return fields.List(
        fields.Nested(row, error_messages={"type": "每一行应为字段名到取值的映射"}),
        validate=validators,
        error_messages={**messages, "invalid": MSG_LIST},
        **common,
    )


def _group_message(form_field: FormField, messages: Any) -> str:
    """One sentence naming the row of the first error: 当事人第2行：请填写姓名."""
    if isinstance(messages, Mapping):
        for index, row_messages in messages.items():
            if isinstance(index, int):
                return f"{form_field.item_title}第{index + 1}行：{_first_message(row_messages)}"
    return _first_message(messages)


def _row_conditions(form_field: FormField, rows: Any) -> str | None:
    """The first row missing a field its other answers make required (x-required-when)."""
    if not isinstance(rows, list):
        return None
    for index, row in enumerate(rows):
        for item in form_field.item_fields:
            if not item.required_when or not isinstance(row, Mapping) or row.get(item.name) not in (None, ""):
                continue
            if any(row.get(other) in values for other, values in item.required_when.items()):
                return f"{form_field.item_title}第{index + 1}行：{item.required_message}"
    return None


@dataclass(frozen=True)
class _CompiledForm:
    schema: Schema
    kinds: Mapping[str, str]
    conditional: tuple[tuple[str, str, Mapping[str, tuple[str, ...]]], ...]
    dynamic: tuple[tuple[str, str], ...]
    defaults: tuple[tuple[str, Any], ...]
    order: tuple[str, ...]
    labels: Mapping[str, str]
    groups: Mapping[str, FormField]
    only_when: tuple[tuple[str, Mapping[str, tuple[str, ...]]], ...]


def _compiled(form: FormDefinition, source: str | None = None) -> _CompiledForm:
    compiled = form._compiled
    if compiled is not None:
        return compiled
    declared = {f.name: _marshmallow_field(f) for f in form.fields}
    schema_cls = _FormSchema.from_dict(declared, name=f"{form.name}_schema")
    defaults: list[tuple[str, Any]] = []
    for form_field in form.fields:
        if form_field.default is None:
            continue
        # The default is written into the case data as if submitted, so it must obey the field's own rules.
        try:
            declared[form_field.name].deserialize(_thaw(form_field.default))
        except ValidationError as exc:
            raise FormError(
                f"表单文件 {source or form.name + '.json'} 有误：字段“{form_field.name}”："
                f"默认值不符合字段规则（{_first_message(exc.messages)}）"
            ) from exc
        defaults.append((form_field.name, form_field.default))
    compiled = _CompiledForm(
        schema=schema_cls(),
        kinds=MappingProxyType({f.name: f.schema["type"] for f in form.fields}),
        conditional=tuple(
            (f.name, f.required_message, f.required_when) for f in form.fields if f.required_when
        ),
        dynamic=tuple((f.name, f.options_from) for f in form.fields if f.options_from),
        defaults=tuple(defaults),
        order=tuple(f.name for f in form.fields),
        labels=MappingProxyType({f.name: f.label for f in form.fields}),
        groups=MappingProxyType({f.name: f for f in form.fields if f.widget == "group"}),
        only_when=tuple((f.name, f.only_when) for f in form.fields if f.only_when),
    )
    # Benign race: two threads may both compile; the results are equivalent and either may win.
    object.__setattr__(form, "_compiled", compiled)
    return compiled


def _first_message(messages: Any) -> str:
    # marshmallow nests list-item errors as {index: [message]}; the UI wants one sentence per field.
    if isinstance(messages, str):
        return messages
    if isinstance(messages, Mapping):
        for value in messages.values():
            return _first_message(value)
    if isinstance(messages, list | tuple):
        for value in messages:
            return _first_message(value)
    return MSG_PATTERN


# --------------------------------------------------------------------------------------------------
# Validating submitted data


def _prepare(data: Mapping[str, Any], kinds: Mapping[str, str]) -> dict[str, Any]:
    # HTML forms send "" for every empty input; treating blank as absent lets "required" and defaults apply.
    prepared: dict[str, Any] = {}
    for key, value in data.items():
        if key not in kinds:
            prepared[key] = value  # left in so the schema reports it as unknown
            continue
        if isinstance(value, str):
            value = value.strip()
            if not value:
                continue
        elif value is None:
            continue
        elif kinds[key] == "array" and isinstance(value, list | tuple):
            value = [_prepare_item(v) for v in value]
            value = [v for v in value if v != "" and v is not None and v != {}]
            if not value:
                continue
        prepared[key] = value
    return prepared


def _prepare_item(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        # a row: blank answers are no answers, as for a whole form
        row = {k: v.strip() if isinstance(v, str) else v for k, v in value.items()}
        return {k: v for k, v in row.items() if v != "" and v is not None}
    return value


def validate(
    form: FormDefinition, data: Mapping[str, Any], options: OptionsProvider | None = None
) -> dict[str, Any]:
    """Check submitted data against a form and return the cleaned, JSON-serialisable values.

    ``options`` supplies the dynamic option lists named by ``x-options-from`` (for example the
    organisation tree). All field errors are reported together in one :class:`FormValidationError`.
    """
    compiled = _compiled(form)
    if compiled.dynamic and options is None:
        names = "、".join(sorted({source for _, source in compiled.dynamic}))
        raise FormError(f"表单“{form.name}”需要动态选项列表（{names}），调用方未提供 options")
    if not isinstance(data, Mapping):
        raise FormValidationError({"_schema": "提交的数据应为字段名到取值的映射"})
    # Before anything reads the values: text PostgreSQL cannot store (NUL, lone surrogates) would fail
    # only at the commit, or, stored in SQLite, break every later JSON query.
    if text_input.depth(data) > text_input.MAX_JSON_DEPTH:
        raise FormValidationError({"_schema": f"数据嵌套过深（最多 {text_input.MAX_JSON_DEPTH} 层）"})
    unusable = {
        str(name): text_input.UNUSABLE_MESSAGE
        for name, value in data.items()
        if text_input.unusable_anywhere(name) or text_input.unusable_anywhere(value)
    }
    if unusable:
        raise FormValidationError(unusable, _compiled(form).labels)

    prepared = _prepare(data, compiled.kinds)
    for name, conditions in compiled.only_when:
        if not any(prepared.get(other) in values for other, values in conditions.items()):
            prepared.pop(name, None)
    errors: dict[str, str] = {}
    try:
        cleaned: dict[str, Any] = compiled.schema.load(prepared)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, Mapping) else {"_schema": exc.messages}
        errors = {
            name: _group_message(compiled.groups[name], message)
            if name in compiled.groups
            else _first_message(message)
            for name, message in messages.items()
        }
        cleaned = exc.valid_data if isinstance(exc.valid_data, dict) else {}

    for name, group in compiled.groups.items():
        missing = None if name in errors else _row_conditions(group, cleaned.get(name))
        if missing:
            errors[name] = missing

    for name, message, conditions in compiled.conditional:
        if name in prepared or name in errors:
            continue
        for other, values in conditions.items():
            if prepared.get(other) in values:
                errors[name] = message
                break

    if compiled.dynamic:
        assert options is not None
        allowed_by_source: dict[str, set[str]] = {}
        for name, source in compiled.dynamic:
            if name not in cleaned:
                continue
            allowed = allowed_by_source.get(source)
            if allowed is None:
                try:
                    allowed = {value for value, _ in options(source)}
                except KeyError as exc:
                    raise FormError(f"调用方未提供动态选项列表“{source}”（表单“{form.name}”）") from exc
                allowed_by_source[source] = allowed
            if cleaned[name] not in allowed:
                errors[name] = MSG_CHOICE

    if errors:
        # Report in the order the user sees the fields; anything not on the form (unknown keys) last.
        ordered = {name: errors.pop(name) for name in compiled.order if name in errors}
        raise FormValidationError({**ordered, **errors}, compiled.labels)

    for name, default in compiled.defaults:
        if name not in cleaned:
            cleaned[name] = _thaw(default)
    return {name: cleaned[name] for name in compiled.order if name in cleaned}


def initial_values(
    form: FormDefinition, data: Mapping[str, Any], options: Mapping[str, Sequence[tuple[str, str]]]
) -> dict[str, Any]:
    """Defaults, overridden by case data of the same name.

    A value is taken from the top level of the case data, or — for a choice field only — from one level
    down when it is one of the field's options (draft_referral.mediation_org comes from
    locality_assignment.mediation_org). Nested values are not used for free-text or number fields: a
    nested key such as acceptance.extension_days means something else than the form field.
    """
    values: dict[str, Any] = {}
    for f in form.fields:
        if f.widget == "file":
            continue  # files cannot be pre-selected in a browser; stored ones are listed with the case
        if f.default is not None:
            values[f.name] = list(f.default) if isinstance(f.default, tuple) else f.default
        if f.name in data and data[f.name] not in (None, ""):
            values[f.name] = data[f.name]
            continue
        if f.widget in ("select", "radio"):
            allowed = {
                value for value, _ in (options.get(f.options_from, ()) if f.options_from else f.options)
            }
            for nested in data.values():
                if isinstance(nested, Mapping) and nested.get(f.name) in allowed:
                    values[f.name] = nested[f.name]
                    break
    return values
