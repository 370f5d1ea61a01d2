"""The anonymiser: names become 当事人甲, 乙, … everywhere, identifiers and particulars go, the rest stays."""

from __future__ import annotations

from orchestration.domain.personal_data import REDACTED, Anonymiser

DATA = {
    "petitioner_name": "张三",
    "petitioner_id_number": "540102199001011234",
    "petitioner_phone": "13800138000",
    "petitioner_address": "八廓街道冲赛康社区",
    "respondent_name": "李四",
    "facts": "张三与李四、王五因院墙发生争执，王五住八廓街道冲赛康社区。",
    "parties": [
        {"role": "petitioner", "name": "张三", "id_number": "540102199001011234", "kind": "citizen"},
        {
            "role": "respondent",
            "name": "王五",
            "sex": "男",
            "ethnicity": "藏族",
            "birth_date": "1970-05-01",
            "occupation": "农民",
            "address": "吉日街道",
            "phone": "0891-6321234",
            "representative": {"name": "赵六", "phone": "13700137000"},
        },
    ],
    "mediator_name": "次仁卓玛",  # the mediator is no party
    "dispute_category": "citizen_property",
    "accepted_at": "2026-11-02T09:00:00+08:00",
}


def test_names_become_pseudonyms_in_order_and_everywhere() -> None:
    anonymiser = Anonymiser([DATA])
    assert anonymiser.names == {"张三": "当事人甲", "李四": "当事人乙", "王五": "当事人丙"}
    result = anonymiser.value(DATA)
    assert (result["petitioner_name"], result["respondent_name"]) == ("当事人甲", "当事人乙")
    assert result["facts"] == f"当事人甲与当事人乙、当事人丙因院墙发生争执，当事人丙住{REDACTED}。"
    assert result["parties"] == [
        {"role": "petitioner", "name": "当事人甲", "kind": "citizen"},
        {"role": "respondent", "name": "当事人丙"},
    ]
    assert "petitioner_id_number" not in result and "petitioner_address" not in result
    assert "petitioner_phone" not in result


def test_what_is_no_personal_data_stays() -> None:
    result = Anonymiser([DATA]).value(DATA)
    assert result["mediator_name"] == "次仁卓玛"
    assert result["dispute_category"] == "citizen_property"
    assert result["accepted_at"] == "2026-11-02T09:00:00+08:00"
    assert Anonymiser([DATA]).value({"count": 3, "done": True, "none": None}) == {
        "count": 3,
        "done": True,
        "none": None,
    }


def test_identifiers_found_in_one_source_are_removed_from_all() -> None:
    anonymiser = Anonymiser([DATA, {"message": "无关"}])
    assert (
        anonymiser.text("请拨0891-6321234或联系吉日街道的王五") == f"请拨{REDACTED}或联系{REDACTED}的当事人丙"
    )
    # shaped like an identifier, though nowhere in the case's fields
    assert anonymiser.text("另一号码13900139000") == f"另一号码{REDACTED}"


def test_running_it_on_its_own_result_changes_nothing() -> None:
    once = Anonymiser([DATA]).value(DATA)
    assert Anonymiser([once]).value(once) == once


def test_many_parties_and_one_character_names() -> None:
    parties = [{"role": "respondent", "name": f"公司{i}"} for i in range(12)]
    anonymiser = Anonymiser([{"petitioner_name": "阿", "parties": parties}])
    assert anonymiser.names["阿"] == "当事人甲"
    # the tenth party is 当事人癸; after the ten stems, parties are counted
    assert anonymiser.names["公司8"] == "当事人癸" and anonymiser.names["公司9"] == "当事人11"
    # a one-character name is pseudonymised in its field but not replaced inside other words
    assert anonymiser.text("阿里巴巴") == "阿里巴巴"
    assert anonymiser.value({"petitioner_name": "阿"}) == {"petitioner_name": "当事人甲"}
