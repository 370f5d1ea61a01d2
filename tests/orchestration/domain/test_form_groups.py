"""Repeated groups (the parties of an agreement) and notes on forms: how a form file declares them, what
the server accepts and refuses (in Chinese, naming the row), how a browser's rows are read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestration.domain.forms import (
    FormDefinition,
    FormError,
    FormRegistry,
    FormValidationError,
    Submission,
    parse_form,
    validate,
)

FORMS = FormRegistry.load(Path(__file__).resolve().parents[3] / "forms")

ROW = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "title": "姓名", "maxLength": 10},
        "kind": {
            "type": "string",
            "title": "类型",
            "enum": ["citizen", "organisation"],
            "x-enum-labels": ["个人", "单位"],
        },
        "agent": {"type": "string", "title": "代理人"},
        "age": {"type": "integer", "title": "年龄", "minimum": 0},
        "minor": {"type": "boolean", "title": "未成年"},
    },
    "x-required-when": {"agent": {"kind": ["organisation"]}},
}


def _form(items: Any = None, **group: Any) -> FormDefinition:
    prop = {"type": "array", "title": "当事人", "x-item-title": "当事人", "items": items or ROW, **group}
    return parse_form(
        "groups", {"title": "分组", "schema": {"type": "object", "properties": {"people": prop}}}
    )


def _options(name: str) -> list[tuple[str, str]]:
    """The dynamic lists a form may name (mediate's hand-up target)."""
    return {"mediation_orgs": [("540100-yl", "拉萨市人民调解工作指导中心")]}[name]


def _errors(form: FormDefinition, data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(FormValidationError) as caught:
        validate(form, data, _options)
    return caught.value.errors


def test_rows_are_checked_and_cleaned() -> None:
    form = _form(minItems=1, maxItems=2)
    rows = [
        {"name": " 张三 ", "age": "40", "minor": "false"},
        {"name": "某公司", "kind": "organisation", "agent": "王五"},
    ]
    assert validate(form, {"people": rows}) == {
        "people": [
            {"name": "张三", "age": 40, "minor": False},
            {"name": "某公司", "kind": "organisation", "agent": "王五"},
        ]
    }


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"name": "张三"}, {"name": " ", "age": "3"}], "当事人第2行：请填写姓名"),
        ([{"name": "张三"}, {"name": "某公司", "kind": "organisation"}], "当事人第2行：请填写代理人"),
        ([{"name": "张三", "age": "四十"}], "当事人第1行：请输入整数"),
        ([{"name": "张三", "kind": "other"}], "当事人第1行：请选择有效的选项"),
        ([{"name": "张三", "extra": "x"}], "当事人第1行：未知字段"),
        ([{"name": "一"}, {"name": "二"}, {"name": "三"}], "最多填写2个当事人"),
        (["张三"], "当事人第1行：提交的数据应为字段名到取值的映射"),
    ],
)
def test_a_bad_row_is_refused_naming_it(rows: list[Any], message: str) -> None:
    form = _form(minItems=1, maxItems=2)
    assert _errors(form, {"people": rows}) == {"people": message}


def test_a_required_group_needs_a_row_and_blank_rows_are_none() -> None:
    document = {
        "title": "分组",
        "schema": {
            "type": "object",
            "required": ["people"],
            "properties": {
                "people": {"type": "array", "title": "当事人", "x-item-title": "当事人", "items": ROW}
            },
        },
    }
    form = parse_form("groups", document)
    assert _errors(form, {}) == {"people": "请至少填写一位当事人"}
    assert _errors(form, {"people": [{"name": " "}, {}]}) == {"people": "请至少填写一位当事人"}


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        ({"type": "object", "properties": {}}, "items.properties"),
        ({"type": "object", "properties": {"tags": {"type": "array", "title": "标签"}}}, "tags"),
        ({"type": "object", "properties": {"n": {"type": "string"}}}, "n"),  # no title
        (
            {"type": "object", "required": ["x"], "properties": {"n": {"type": "string", "title": "名"}}},
            "required",
        ),
        ({"type": "object", "properties": {"n": {"type": "string", "title": "名"}}, "extra": 1}, "extra"),
    ],
)
def test_a_bad_group_in_a_form_file_is_named(items: dict[str, Any], fragment: str) -> None:
    with pytest.raises(FormError) as caught:
        _form(items)
    assert "groups.json" in str(caught.value) and fragment in str(caught.value)


def test_a_browser_sends_rows_by_index_and_blank_rows_are_dropped() -> None:
    form = _form()
    sent = Submission(
        {
            "people-0-name": ["张三"],
            "people-0-minor": ["true"],
            "people-12-name": ["李四"],
            "people-3-name": [""],
            "people-3-minor": ["true"],  # a ticked box alone does not make a row
            "people-x-name": ["无效"],
            "other": ["x"],
        },
        {},
    )
    data, _ = sent.interpret(form)
    assert data == {"people": [{"name": "张三", "minor": "true"}, {"name": "李四", "minor": "false"}]}


def test_the_agreement_form_asks_for_every_party_with_the_particulars_of_article_29() -> None:
    parties = FORMS.get("mediate").field("parties")
    assert parties.widget == "group"
    names = [item.name for item in parties.item_fields]
    for key in (
        "role",
        "kind",
        "name",
        "sex",
        "ethnicity",
        "birth_date",
        "age",
        "occupation",
        "address",
        "id_number",
    ):
        assert key in names, key
    assert "representative" in names
    for key in (
        "agreement_responsibilities",
        "agreement_performance_manner",
        "agreement_performance_deadline",
    ):
        assert FORMS.get("mediate").field(key)


def test_notes_show_what_the_form_asks_to_read_first() -> None:
    note = FORMS.get("draft_referral").notes[0]
    assert note.key == "approval_comments" and note.notify
    form = FORMS.get("draft_referral")
    assert form.notes_for({"approval": "send_back", "approval_comments": " 请补充证明 "}) == [
        (note, "请补充证明")
    ]
    assert form.notes_for({"approval": "approve", "approval_comments": "同意"}) == []
    assert form.notes_for({"approval": "send_back", "approval_comments": " "}) == []


@pytest.mark.parametrize(
    "notes",
    [
        {"key": "x"},
        [{"key": "Bad Key", "title": "说明"}],
        [{"key": "x", "title": ""}],
        [{"key": "x", "title": "说明", "when": {"y": "a"}}],
        [{"key": "x", "title": "说明", "notify": "yes"}],
        [{"key": "x", "title": "说明", "colour": "red"}],
    ],
)
def test_bad_notes_are_refused(notes: Any) -> None:
    document = {
        "title": "表单",
        "schema": {"type": "object", "properties": {"a": {"type": "string", "title": "甲"}}},
    }
    document["ui"] = {"notes": notes}
    with pytest.raises(FormError, match="notes"):
        parse_form("noted", json.loads(json.dumps(document)))


def test_the_parties_are_checked_only_for_an_agreement() -> None:
    form = FORMS.get("mediate")
    incomplete = [{"role": "petitioner", "kind": "citizen", "name": "张三"}]  # no sex, no ethnicity
    extend = {
        "session_record": "等待鉴定",
        "mediation_outcome": "extend",
        "extension_days": 5,
        "extension_reason": "鉴定",
    }
    assert "parties" not in validate(form, {**extend, "parties": incomplete}, _options)
    agreement = {
        "session_record": "达成一致",
        "mediation_outcome": "agreement",
        "agreement_form": "written",
        "agreement_facts": "院墙",
        "agreement_terms": "维持现状",
        "agreement_effective_on": "2026-11-02",
    }
    assert _errors(form, {**agreement, "parties": incomplete + incomplete}) == {
        "parties": "当事人第1行：请选择性别"
    }
