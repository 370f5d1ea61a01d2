"""Personal data in free text: what a notification may carry, and what is left of a case once anonymised.

A notification names the case and, at most, the parties: it goes to everyone of a role in an organisation,
is listed and may one day be pushed by SMS, so ID numbers, phone numbers and addresses stay on the case
page, behind its access checks (个人信息保护法 arts 5, 6: no more than the purpose needs). Reasons typed by
users (a return's, a risk's) may carry them, so every message is redacted before it is stored: the case's
own identifiers wherever they appear, and anything shaped like an ID number, a phone number or a house
number.

When a closed case's retention period is over (art 47), its personal data is anonymised (art 73(4)): the
parties' names become 当事人甲, 当事人乙, … wherever they appear; their ID numbers, phones, addresses and
other particulars are removed; free text keeps its substance with the same replacements and redactions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "［已隐去］"
PSEUDONYMS = "甲乙丙丁戊己庚辛壬癸"

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

# The parties' names: top-level fields, and a party object's "name".
NAME_KEYS = ("petitioner_name", "respondent_name")
PARTY_ROLES = frozenset({"petitioner", "respondent"})
# A party object's particulars that, together, single a person out.
PARTICULARS = frozenset({"sex", "ethnicity", "birth_date", "age", "occupation", "representative"})

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


def _is_party(data: Mapping[str, Any]) -> bool:
    return data.get("role") in PARTY_ROLES


class Anonymiser:
    """Anonymises everything stored about one case: built from all of it, so that a name or number found
    in any row is replaced in every row."""

    def __init__(self, sources: Iterable[Any]) -> None:
        self.names: dict[str, str] = {}
        self.identifiers: set[str] = set()
        found: list[str] = []
        for source in sources:
            self._collect(source, found)
            self.identifiers |= identifying_values(source)
        for name in found:
            if name not in self.names:
                index = len(self.names)
                mark = PSEUDONYMS[index] if index < len(PSEUDONYMS) else str(index + 1)
                self.names[name] = f"当事人{mark}"

    def _collect(self, data: Any, found: list[str]) -> None:
        # top-level fields before party objects: the petitioner is 甲 and the respondent 乙
        if isinstance(data, Mapping):
            for key in NAME_KEYS:
                if isinstance(data.get(key), str) and data[key].strip():
                    found.append(data[key].strip())
            if _is_party(data) and isinstance(data.get("name"), str) and data["name"].strip():
                found.append(data["name"].strip())
            for value in data.values():
                self._collect(value, found)
        elif isinstance(data, list | tuple):
            for item in data:
                self._collect(item, found)

    def text(self, text: str) -> str:
        # a one-character name would replace every occurrence of a common character
        replacements = [(name, alias) for name, alias in self.names.items() if len(name) >= 2]
        replacements += [(value, REDACTED) for value in self.identifiers]
        for value, alias in sorted(replacements, key=lambda pair: len(pair[0]), reverse=True):
            text = text.replace(value, alias)
        return redact(text)

    def value(self, data: Any, in_party: bool = False) -> Any:
        if isinstance(data, Mapping):
            party = in_party or _is_party(data)
            kept: dict[str, Any] = {}
            for key, value in data.items():
                if key in IDENTIFYING_KEYS or (party and key in PARTICULARS):
                    continue
                if isinstance(value, str) and (key in NAME_KEYS or (_is_party(data) and key == "name")):
                    kept[key] = self.names.get(value.strip(), "当事人")
                else:
                    kept[key] = self.value(value, party)
            return kept
        if isinstance(data, list | tuple):
            return [self.value(item, in_party) for item in data]
        if isinstance(data, str):
            return self.text(data)
        return data
