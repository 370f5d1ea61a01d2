"""Documents: the parties copied from the task data, and the case and matter every document names."""

from __future__ import annotations

from handlers import documents
from tests.handlers.fakes import FakeContext

DATA = {
    "matter": "院墙纠纷",
    "petitioner_name": "张三",
    "petitioner_phone": "13800138000",
    "respondent_name": "李四",
    "respondent_type": "citizen",
    "facts": "不是当事人信息",
}


def test_parties_are_the_party_fields_only() -> None:
    parties = documents.parties(FakeContext(data=DATA))
    assert list(parties) == list(documents.PARTY_FIELDS)
    assert parties["petitioner_name"] == "张三" and parties["respondent_type"] == "citizen"
    assert parties["petitioner_address"] is None


def test_a_document_names_its_case_and_matter() -> None:
    ctx = FakeContext(data=DATA)
    number = documents.issue(ctx, "return_letter", {"reason": "专属管辖"})
    issued = ctx.only_document()
    assert number == issued.number
    assert issued.content == {"case_no": "FT2026-000001", "matter": "院墙纠纷", "reason": "专属管辖"}


def test_every_kind_has_a_title_and_a_yearly_number_pattern() -> None:
    assert len(documents.KINDS) == 8
    for kind, (title, pattern) in documents.KINDS.items():
        assert title, kind
        assert pattern.format(year=2026, n=7).startswith("(2026)") and "第7号" in pattern.format(
            year=2026, n=7
        )
