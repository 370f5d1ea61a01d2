"""The privacy notice: every version says what 个人信息保护法 arts 17, 23 and 30 require, states the retention
period the settings apply, and a version once released never changes."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from orchestration.domain.privacy_notice import (
    GIVEN_FIELD,
    NOTICES_FOLDER,
    TOPICS,
    VERSION_FIELD,
    NoticeError,
    PrivacyNotices,
    parse_notice,
    stamp,
)
from orchestration.settings import PROJECT_ROOT, Settings

FOLDER = PROJECT_ROOT / "forms" / NOTICES_FOLDER
# The digest of each released version: a text a party was given must stay readable as it was. A change
# in the notice is a new file with a later effective_from, never an edit of one listed here.
RELEASED = {"2026-01": "3f6e29312a3a7f647cf45286b79e8b98e30b46f4a63d878b6bb30518f19f2e8e"}


def shipped() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FOLDER / "2026-01.json").read_text(encoding="utf-8"))
    return document


def test_every_released_version_is_unchanged() -> None:
    for version, digest in RELEASED.items():
        assert hashlib.sha256((FOLDER / f"{version}.json").read_bytes()).hexdigest() == digest, version


def test_the_shipped_notices_load_and_cover_every_topic_the_law_lists() -> None:
    notices = PrivacyNotices(FOLDER)
    assert [n.version for n in notices.versions()] == sorted(RELEASED)
    for notice in notices.versions():
        assert {s.topic for s in notice.sections} == set(TOPICS)
        assert all("{" not in s.text for s in notice.sections)


def test_the_settings_default_keeps_data_as_long_as_the_notice_in_force_says() -> None:
    notice = PrivacyNotices(FOLDER).current(date(2026, 11, 2))
    assert notice.retention_years == Settings.from_env({}).retention_years == 10
    retention = next(s for s in notice.sections if s.topic == "retention")
    assert "保存10年" in retention.text


def test_the_version_in_force_is_the_latest_to_have_taken_effect(tmp_path: Path) -> None:
    later = {**shipped(), "version": "2027-01", "effective_from": "2027-03-01"}
    (tmp_path / "2026-01.json").write_text(json.dumps(shipped(), ensure_ascii=False), encoding="utf-8")
    (tmp_path / "2027-01.json").write_text(json.dumps(later, ensure_ascii=False), encoding="utf-8")
    notices = PrivacyNotices(tmp_path)
    assert notices.current(date(2027, 2, 28)).version == "2026-01"
    assert notices.current(date(2027, 3, 1)).version == "2027-01"
    assert notices.current(date(2025, 1, 1)).version == "2026-01"
    earlier = notices.get("2026-01")
    assert earlier is not None and earlier.label == "2026年第1版"
    assert notices.get("2025-09") is None


def test_a_notice_leaving_out_what_the_law_requires_is_refused() -> None:
    document = shipped()
    document["sections"] = [s for s in document["sections"] if s["topic"] != "recipients"]
    with pytest.raises(NoticeError, match=r"2026-01\.json.*第二十三条"):
        parse_notice(document, "2026-01.json")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version="v1"), "version"),
        (lambda d: d.update(version="2026-02"), "文件名应与版本号一致"),
        (lambda d: d.update(effective_from="明年"), "effective_from"),
        (lambda d: d.update(retention_years=0), "retention_years"),
        (lambda d: d.update(extra=1), "未知的键 extra"),
        (lambda d: d["sections"][0].update(topic="cookies"), "topic 未知"),
        (lambda d: d["sections"][0].update(text=" "), "不能为空"),
        (
            lambda d: next(s for s in d["sections"] if s["topic"] == "retention").update(text="保存十年"),
            "retention_years",
        ),
    ],
)
def test_a_malformed_notice_is_refused_naming_the_file(change: Any, message: str) -> None:
    document = copy.deepcopy(shipped())
    change(document)
    with pytest.raises(NoticeError, match=message):
        parse_notice(document, "2026-01.json")


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NoticeError, match="没有个人信息处理告知书"):
        PrivacyNotices(tmp_path)


def test_the_version_is_stamped_only_when_the_notice_was_given() -> None:
    notice = PrivacyNotices(FOLDER).current(date(2026, 11, 2))
    assert stamp({GIVEN_FIELD: True, "consent": "agree"}, notice) == {
        GIVEN_FIELD: True,
        "consent": "agree",
        VERSION_FIELD: "2026-01",
    }
    assert stamp({GIVEN_FIELD: False}, notice) == {GIVEN_FIELD: False}
    # a version the client sent is never kept as if the server had recorded it
    assert VERSION_FIELD not in stamp({"consent": "agree", VERSION_FIELD: "1999-01"}, notice)
