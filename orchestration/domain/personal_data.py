"""Personal data in free text: what a notification may carry, and what is left of a case once anonymised.

A notification names the case and, at most, the parties: it goes to everyone of a role in an organisation,
is listed and may one day be pushed by SMS, so ID numbers, phone numbers and addresses stay on the case
page, behind its access checks (个人信息保护法 arts 5, 6: no more than the purpose needs). Reasons typed by
users (a return's, a risk's) may carry them, so every message is redacted before it is stored: the case's
own identifiers wherever they appear, and anything shaped like an ID number, a phone number or a house
number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "［已隐去］"

# Keys whose values identify a party by themselves: top-level fields and a party object's (D's
# {"role", "name", "id_number", "phone", "address", ...}).
IDENTIFYING_KEYS = frozenset(
    {
        "petitioner_id_number",
        "respondent_id_number",
        "petitioner_phone",
        "respondent_phone",
        "petitioner_address",
        "respondent_address",
        "id_number",
        "phone",
        "address",
    }
)

# A digit run must not continue a letter, digit or dash on either side: case numbers (FT2026-000001) and
# the UUIDs in audit details are no phone numbers.
_NOT_BEFORE = r"(?<![0-9A-Za-z-])"
_NOT_AFTER = r"(?![0-9A-Za-z-])"
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("居民身份证号码", re.compile(rf"{_NOT_BEFORE}(?:\d{{17}}[\dXx]|\d{{15}}){_NOT_AFTER}")),
    ("手机号码", re.compile(rf"{_NOT_BEFORE}(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{{4}}){{2}}{_NOT_AFTER}")),
    ("固定电话", re.compile(rf"{_NOT_BEFORE}0\d{{2,3}}[ -]?\d{{7,8}}(?:-\d{{1,6}})?{_NOT_AFTER}")),
    ("长数字串", re.compile(rf"{_NOT_BEFORE}\d{{7,}}{_NOT_AFTER}")),
    # 12号, 3栋2单元501室 — but not a document's 第12号
    ("门牌号", re.compile(r"(?<![第\d])\d+(?:[-－]\d+)*\s*(?:号楼|号院|号|栋|幢|单元|室|弄)")),
)


def identifying_values(data: Any) -> set[str]:
    """The ID numbers, phone numbers and addresses held anywhere in case data or a document's content."""
    found: set[str] = set()
    if isinstance(data, Mapping):
        for key, value in data.items():
            if key in IDENTIFYING_KEYS and isinstance(value, str) and len(value.strip()) >= 2:
                found.add(value.strip())
            else:
                found |= identifying_values(value)
    elif isinstance(data, list | tuple):
        for item in data:
            found |= identifying_values(item)
    return found


def findings(text: str, known: Iterable[str] = ()) -> list[str]:
    """What in the text is personal data beyond names: each as "kind：match"."""
    found = [f"当事人信息：{value}" for value in sorted(known) if value in text]
    taken: list[tuple[int, int]] = []  # a phone number is no second finding as a long digit run
    for kind, pattern in PATTERNS:
        for match in pattern.finditer(text):
            if not any(start < match.end() and match.start() < end for start, end in taken):
                taken.append(match.span())
                found.append(f"{kind}：{match.group()}")
    return found


def redact(text: str, known: Iterable[str] = ()) -> str:
    """The text with the known identifiers and everything shaped like one replaced by ［已隐去］."""
    for value in sorted(known, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    for _, pattern in PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text
