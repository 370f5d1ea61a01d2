"""The privacy notice (个人信息处理告知书) given to each party with their consent to mediation.

个人信息保护法 art 35 binds a state organ processing personal information for its duties to the notice of
art 17; handing a party's particulars to the mediation organisation is a provision to another handler (art 23)
and ID numbers are sensitive (arts 28, 30). A notice file must therefore say everything those articles list,
and the loader refuses one that leaves a topic out, naming the file and the topic.

The notices live in `forms/privacy_notices/`, one JSON file per version named after it (`2026-01.json`):
they are text shown on the consent forms, edited by the same officers as the forms and moved with them by
FANGTIAO_FORMS_DIR. A version once in force is never edited: a new text is a new file with a later
`effective_from`, and the consent records the version it was given under, so the text a party was shown
can always be read again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

# The form field P's consent steps record the notice with, and the key the runtime stamps beside it.
GIVEN_FIELD = "privacy_notice_given"
VERSION_FIELD = "privacy_notice_version"
NOTICES_FOLDER = "privacy_notices"

# topic -> what the law asks it to say (个人信息保护法)
TOPICS: dict[str, str] = {
    "controllers": "个人信息处理者的名称和联系方式（第十七条第一款第一项）",
    "purposes": "处理目的和处理方式（第十七条第一款第二项）",
    "categories": "处理的个人信息种类（第十七条第一款第二项）",
    "sensitive": "处理敏感个人信息的必要性及对个人权益的影响（第三十条）",
    "recipients": "向其他个人信息处理者提供的接收方、目的、方式和种类（第二十三条）",
    "retention": "保存期限（第十七条第一款第二项）",
    "rights": "个人行使权利的方式和程序（第十七条第一款第三项）",
}
RETENTION_PLACEHOLDER = "{retention_years}"
_VERSION_RE = re.compile(r"^[0-9]{4}-[0-9]{2}$")
_KEYS = frozenset({"version", "title", "effective_from", "retention_years", "sections", "$comment"})
_SECTION_KEYS = frozenset({"topic", "heading", "text"})


class NoticeError(ValueError):
    """A notice file that cannot be used; the message names the file and what is wrong, in Chinese."""


@dataclass(frozen=True)
class Section:
    topic: str
    heading: str
    text: str


@dataclass(frozen=True)
class PrivacyNotice:
    version: str
    title: str
    effective_from: date
    retention_years: int  # the period the retention section states, years after the case closed
    sections: tuple[Section, ...]

    @property
    def label(self) -> str:
        year, number = self.version.split("-")
        return f"{year}年第{int(number)}版"


def parse_notice(document: Any, source: str) -> PrivacyNotice:
    def fail(message: str) -> NoticeError:
        return NoticeError(f"个人信息处理告知书 {source} 有误：{message}")

    if not isinstance(document, Mapping):
        raise fail("文件内容应为 JSON 对象")
    unknown = set(document) - _KEYS
    if unknown:
        raise fail(f"未知的键 {', '.join(sorted(unknown))}")
    version = document.get("version")
    if not isinstance(version, str) or not _VERSION_RE.match(version):
        raise fail("version（版本号）应为“年份-序号”，如 2026-01")
    if Path(source).stem != version:
        raise fail(f"文件名应与版本号一致（{version}.json）")
    title = document.get("title")
    if not isinstance(title, str) or not title.strip():
        raise fail("title（标题）不能为空")
    try:
        effective_from = date.fromisoformat(str(document.get("effective_from")))
    except ValueError:
        raise fail("effective_from（施行日期）应为 YYYY-MM-DD") from None
    years = document.get("retention_years")
    if isinstance(years, bool) or not isinstance(years, int) or years < 1:
        raise fail("retention_years（保存年限）应为正整数")
    raw_sections = document.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        raise fail("sections（各部分）应为非空列表")
    sections: list[Section] = []
    for index, raw in enumerate(raw_sections, start=1):
        if not isinstance(raw, Mapping) or set(raw) != _SECTION_KEYS:
            raise fail(f"第{index}部分应恰有 topic、heading、text 三个键")
        topic, heading, text = raw["topic"], raw["heading"], raw["text"]
        if topic not in TOPICS:
            raise fail(f"第{index}部分的 topic 未知：{topic}（可用：{', '.join(TOPICS)}）")
        if not all(isinstance(v, str) and v.strip() for v in (heading, text)):
            raise fail(f"第{index}部分的 heading 和 text 不能为空")
        sections.append(Section(topic, heading, text))
    missing = [TOPICS[t] for t in TOPICS if t not in {s.topic for s in sections}]
    if missing:
        raise fail("缺少法律要求告知的事项：" + "；".join(missing))
    retention = next(s for s in sections if s.topic == "retention")
    if RETENTION_PLACEHOLDER not in retention.text:
        raise fail(f"保存期限部分应以 {RETENTION_PLACEHOLDER} 写出年限，使其与 retention_years 一致")
    sections = [
        Section(s.topic, s.heading, s.text.replace(RETENTION_PLACEHOLDER, str(years))) for s in sections
    ]
    return PrivacyNotice(version, title.strip(), effective_from, years, tuple(sections))


class PrivacyNotices:
    """Every version of the notice in a folder, loaded and checked once; a bad file fails construction."""

    def __init__(self, directory: Path) -> None:
        notices: dict[str, PrivacyNotice] = {}
        for path in sorted(Path(directory).glob("*.json")):
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise NoticeError(f"无法读取个人信息处理告知书 {path.name}：{exc}") from exc
            notice = parse_notice(document, path.name)
            notices[notice.version] = notice
        if not notices:
            raise NoticeError(f"目录 {directory} 中没有个人信息处理告知书")
        self._notices = notices

    def get(self, version: str) -> PrivacyNotice | None:
        return self._notices.get(version)

    def current(self, today: date) -> PrivacyNotice:
        """The version in force on `today`: the latest to have taken effect (or the first, before any has)."""
        ordered = sorted(self._notices.values(), key=lambda n: (n.effective_from, n.version))
        in_force = [n for n in ordered if n.effective_from <= today]
        return in_force[-1] if in_force else ordered[0]

    def versions(self) -> list[PrivacyNotice]:
        return sorted(self._notices.values(), key=lambda n: n.version)


def stamp(data: Mapping[str, Any], notice: PrivacyNotice) -> dict[str, Any]:
    """The submitted data with the version of the notice the party was given, when the form says it was
    given: the version is the server's to record, never the client's."""
    stamped = {key: value for key, value in data.items() if key != VERSION_FIELD}
    if stamped.get(GIVEN_FIELD) is True:
        stamped[VERSION_FIELD] = notice.version
    return stamped
