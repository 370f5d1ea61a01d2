"""Documents: the kinds table, the parties an agreement lists, the referral letter's content, and the case
and matter every document names."""

from __future__ import annotations

from handlers import documents
from tests.handlers.fakes import FakeContext

DATA = {
    "matter": "院墙纠纷",
    "petitioner_name": "张三",
    "petitioner_id_number": "540102199001011234",
    "petitioner_phone": "13800138000",
    "respondent_name": "拉萨某物业公司",
    "respondent_type": "legal_person",
    "respondent_id_number": "540102199001011234",
    "facts": "不是当事人信息",
}


def test_registered_parties_are_the_first_rows_of_the_party_list() -> None:
    parties = documents.party_list(DATA)
    assert [p["role"] for p in parties] == ["petitioner", "respondent"]
    assert parties[0]["name"] == "张三" and parties[0]["kind"] == "citizen"
    assert parties[0]["id_number"] == "540102199001011234"
    # an organisation has no resident ID; its credit code is for the mediator to add
    assert parties[1]["kind"] == "organisation" and parties[1]["id_number"] is None


def test_recorded_parties_win_over_the_registration() -> None:
    recorded = [
        {"role": "petitioner", "kind": "citizen", "name": "张三"},
        {"role": "petitioner", "kind": "citizen", "name": "张三妻"},
        {"role": "respondent", "kind": "citizen", "name": "李四"},
    ]
    assert [p["name"] for p in documents.party_list({**DATA, "parties": recorded})] == [
        "张三",
        "张三妻",
        "李四",
    ]


def test_a_document_names_its_case_and_matter() -> None:
    ctx = FakeContext(data=DATA)
    number = documents.issue(ctx, "return_letter", {"reason": "专属管辖"})
    issued = ctx.only_document()
    assert number == issued.number
    assert issued.content == {"case_no": "FT2026-000001", "matter": "院墙纠纷", "reason": "专属管辖"}


def test_the_referral_letter_names_who_approved_it_and_when() -> None:
    content = documents.referral_letter_content(
        {**DATA, "referral_summary": "概要", "approval_comments": "同意"},
        "八廓街道人民调解委员会",
        "李建国",
        "2026-11-02",
        {"review": "3日"},
    )
    assert content["periods"] == {"review": "3日"}
    assert content["to"] == "八廓街道人民调解委员会" and content["summary"] == "概要"
    assert (content["approved_by"], content["approved_on"]) == ("李建国", "2026-11-02")
    assert content["after_consultation"] is False
    again = documents.referral_letter_content(
        {**DATA, "referral": {"document": "(2026)x"}}, "城关区", None, None, {}
    )
    assert again["after_consultation"] is True


def test_every_kind_has_a_title_an_issuer_and_a_number_word() -> None:
    sides = {documents.PETITION_OFFICE, documents.MEDIATION_ORG, documents.JUSTICE_ORG}
    words = [spec.word for spec in documents.KINDS.values()]
    assert len(words) == len(set(words)) == 16
    for kind, spec in documents.KINDS.items():
        assert spec.title and spec.issuer in sides, kind


def test_acts_name_kinds_of_the_table() -> None:
    assert documents.ACTS
    for task, act in documents.ACTS.items():
        assert act.kinds and set(act.kinds) <= set(documents.KINDS), task
        assert act.act in ("received", "signed")
