"""Checks a scenario file against processes/scenarios/scenario.schema.json and says what is wrong in Chinese.

The schema is a JSON Schema file rather than code so that the browser editor for scenarios can load the
same file for its own hints and checks; this module only turns the validator's findings into messages
that name the step (number and `do`) and the key, with a suggestion when a key looks misspelt.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from orchestration.settings import PROJECT_ROOT

SCHEMA_FILE = PROJECT_ROOT / "processes" / "scenarios" / "scenario.schema.json"

TYPE_NAMES = {
    "object": "对象",
    "array": "列表",
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "boolean": "true 或 false",
    "null": "null",
}

# Only the formats the schema uses; a time without its offset would compare wrongly with the runtime's.
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_time_with_offset(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def problems(document: Any) -> list[str]:
    """Every way the document breaks the schema, step by step; empty if it is a valid scenario."""
    validator = Draft202012Validator(schema(), format_checker=FORMATS)
    errors = sorted(validator.iter_errors(document), key=lambda e: [(isinstance(p, str), p) for p in e.path])
    return [message for error in errors for message in _describe(document, error)]


def _describe(document: Any, error: ValidationError) -> Iterator[str]:
    path = list(error.path)
    where = "场景文件"
    if len(path) >= 2 and path[0] == "steps":
        step = document["steps"][path[1]]
        action = step.get("do") if isinstance(step, dict) else None
        where = f"第{path[1] + 1}步" + (f"（{action}）" if isinstance(action, str) else "")
        path = path[2:]
    for detail in _details(error, path):
        yield f"{where}：{detail}"


def _details(error: ValidationError, path: list[str | int]) -> Iterator[str]:
    key = _key(path)
    value, instance = error.validator_value, error.instance
    match error.validator:
        case "additionalProperties":
            allowed = list(error.schema.get("properties", {}))
            listed = "、".join(allowed)
            for extra in instance:
                if extra not in allowed:
                    yield f"未知的键“{_key([*path, extra])}”（{_suggest(extra, allowed)}可写的键：{listed}）"
        case "required":
            for missing in value:
                if missing not in instance:
                    yield f"缺少键“{_key([*path, missing])}”"
        case "type":
            names = "或".join(TYPE_NAMES[t] for t in ([value] if isinstance(value, str) else value))
            yield f"{_named(key)}应为{names}，实际为 {_shown(instance)}"
        case "enum":
            allowed = [str(v) for v in value]
            hint = _suggest(instance, allowed) if isinstance(instance, str) else ""
            yield f"{_named(key)}应为 {'、'.join(allowed)} 之一，实际为 {_shown(instance)}" + (
                f"（{hint}）" if hint else ""
            )
        case "format":
            yield f"{_named(key)}应为带时区的时间，如 2026-11-02T09:00:00+08:00，实际为 {_shown(instance)}"
        case "minItems" | "minLength" | "minProperties":
            yield f"{_named(key)}不能为空"
        case "minimum":
            yield f"{_named(key)}不能小于 {value}，实际为 {_shown(instance)}"
        case "not" if set(value) == {"required"}:
            yield f"{'与'.join(f'“{k}”' for k in value['required'])}不能同时写"
        case "anyOf" if all(set(branch) == {"required"} for branch in value):
            keys = "、".join(branch["required"][0] for branch in value)
            yield f"没有写任何检查项，至少写一项：{keys}"
        case _:
            yield f"{_named(key)}不符合格式：{error.message}"


def _key(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _named(key: str) -> str:
    return f"“{key}”" if key else ""


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _suggest(word: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(word, allowed, n=1) or difflib.get_close_matches(
        word.lower(), allowed, n=1
    )
    return f"是否应为“{close[0]}”？" if close else ""
