"""Both parties' consent records: the decision, the privacy notice given and its version, and when the
party was told."""

from __future__ import annotations

import pytest

from handlers.api import HandlerError
from tests.handlers.fakes import NOW, FakeContext, run


def test_the_petitioners_consent_with_the_notice() -> None:
    ctx = FakeContext(
        data={
            "consent": "agree",
            "privacy_notice_given": True,
            "privacy_notice_version": "2026-01",
            "consent_documents": ["7"],
        }
    )
    record = run("record_consent", ctx, party="petitioner")
    assert record == {
        "decision": "agree",
        "by": ctx.actor,
        "at": NOW.isoformat(),
        "privacy_notice_given": True,
        "privacy_notice_version": "2026-01",
        "informed_at": NOW.isoformat(),
        "documents": ["7"],
    }


def test_the_respondents_refusal_keeps_its_ground() -> None:
    ctx = FakeContext(
        data={
            # the petitioner's answers stay in the case data: the respondent's own fields count
            "consent": "agree",
            "consent_documents": ["7"],
            "respondent_decision": "refuse",
            "respondent_refusal_reason": " 不愿调解 ",
            "privacy_notice_given": True,
            "privacy_notice_version": "2026-01",
        }
    )
    record = run("record_consent", ctx, party="respondent")
    assert record["decision"] == "refuse" and record["refusal_reason"] == "不愿调解"
    assert record["documents"] == [] and record["informed_at"] == NOW.isoformat()


def test_without_the_notice_nobody_was_informed() -> None:
    ctx = FakeContext(data={"consent": "refuse", "privacy_notice_version": "2026-01"})
    record = run("record_consent", ctx, party="petitioner")
    assert record["informed_at"] is None and record["privacy_notice_version"] is None


def test_an_unknown_party_is_refused() -> None:
    with pytest.raises(HandlerError, match="未知的当事人"):
        run("record_consent", FakeContext(), party="witness")
