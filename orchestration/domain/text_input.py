"""Text from outside (a request, a command's argument, an uploaded file's name) that no field can hold:
NUL, which PostgreSQL refuses in text and JSON; lone surrogates, which cannot be encoded as UTF-8; other
control characters; JSON nested deeper than any form needs. Each is refused before it reaches the
database, with a Chinese message, rather than failing there."""

from __future__ import annotations

import json
import re
from typing import Any

# C0 controls except tab, line feed and carriage return (a multi-line text field keeps those), DEL, the C1
# controls, and the UTF-16 surrogates, which only a broken or hostile client sends on their own.
_UNUSABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# what a file name may not carry into a header or a listing: every control, the line and paragraph
# separators
_NAME_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]+")
# Deeper than any form's data (a list of objects of lists is three levels) with room to spare; well
# below Python's recursion limit, which a parser or a serialiser further on would hit first.
MAX_JSON_DEPTH = 20
MAX_FILENAME_LENGTH = 200  # models.Attachment.filename holds 255
UNUSABLE_MESSAGE = "含有无法保存的字符（如空字符、控制字符或不成对的代理字符）"


class UnusableInput(ValueError):
    """Input refused before any use; the message is Chinese."""


def unusable(text: str) -> bool:
    """Whether the text has a character no field can store."""
    return _UNUSABLE.search(text) is not None


def unusable_anywhere(value: Any) -> bool:
    """Whether any key or string inside the value is unusable (iterative: the value may be deep)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if unusable(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def depth(value: Any) -> int:
    """How deeply lists and objects nest in the value (a scalar is 0); iterative."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list | tuple):
            level += 1
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level) for child in children)
    return deepest


def loads(text: str | bytes) -> Any:
    """JSON from outside: refused (UnusableInput) when it does not parse, nests deeper than
    MAX_JSON_DEPTH, holds an unusable character, or an integer longer than Python reads."""
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise UnusableInput(f"JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnusableInput(f"JSON 格式有误：{exc}") from exc
    check(value)
    return value


def check(value: Any) -> None:
    """Refuses (UnusableInput) a parsed value nested too deep or holding an unusable character."""
    if depth(value) > MAX_JSON_DEPTH:
        raise UnusableInput(f"JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）")
    if unusable_anywhere(value):
        raise UnusableInput(f"数据{UNUSABLE_MESSAGE}")


def clean_filename(name: str) -> str:
    """An uploaded file's name as stored and sent back: controls and line breaks become one space (a CR/LF
    would break the download's Content-Disposition header), trimmed, at most MAX_FILENAME_LENGTH
    characters with the extension kept."""
    cleaned = _NAME_BREAKS.sub(" ", name).strip()
    if len(cleaned) > MAX_FILENAME_LENGTH:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            cleaned = stem[: MAX_FILENAME_LENGTH - len(extension) - 1] + "." + extension
        else:
            cleaned = cleaned[:MAX_FILENAME_LENGTH]
    return cleaned
