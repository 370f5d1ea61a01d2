"""The forms in forms/ against the procedure in processes/referral.bpmn, and the validator's rules."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from orchestration.domain.forms import (
    FormDefinition,
    FormError,
    FormRegistry,
    FormValidationError,
    load_form,
    validate,
)

ROOT = Path(__file__).resolve().parents[3]
FORMS_DIR = ROOT / "forms"
BPMN = ROOT / "processes" / "referral.bpmn"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
# Forms used outside user tasks: the start form and the risk-report action during mediation.
EXTRA_FORMS = {"register", "report_risk"}

TOWNSHIPS = [("town_chengguan", "城关镇"), ("town_dongcheng", "东城街道")]
ORGS = [("org_town_committee", "城关镇人民调解委员会"), ("org_city_centre", "市人民调解工作指导中心")]


def provider(name: str) -> Sequence[tuple[str, str]]:
    return {"townships": TOWNSHIPS, "mediation_orgs": ORGS}[name]


# One complete, valid submission per form; a new form file must add one here.
SAMPLES: dict[str, dict[str, Any]] = {
    "register": {
        "petitioner_name": "张三",
        "petitioner_id_number": "54010219800101123X",
        "petitioner_phone": "13800138000",
        "petitioner_address": "城关镇八廓街1号",
        "respondent_name": "李四",
        "respondent_type": "citizen",
        "locality": "town_chengguan",
        "petition_channel": "visit",
        "received_on": "2026-11-28",
        "matter": "要求赔偿邻居装修造成的房屋损失",
        "facts": "2026年10月，李四装修时损坏张三房屋外墙，协商未果。",
    },
    "screen_case": {"dispute_category": "citizen_property"},
    "guide_divert": {
        "explanation_given": "on",
        "privacy_notice_given": "on",
        "consent": "agree",
        "consent_documents": ["att-1"],
    },
    "respondent_consent": {
        "privacy_notice_given": "on",
        "respondent_decision": "agree",
        "respondent_consent_documents": ["att-2"],
    },
    "draft_referral": {
        "mediation_org": "org_town_committee",
        "referral_summary": "邻里房屋损害赔偿纠纷。",
        "contact_person": "王五",
        "contact_phone": "0891-6321234",
    },
    "approve_referral": {"approval": "approve"},
    "review_referral": {"review_decision": "accept", "mediator_name": "赵六"},
    "decide_return": {"return_decision": "accept_return"},
    "consultation_petition_opinion": {
        "petition_proposal": "mediation_accepts",
        "petition_opinion": "属于民事纠纷，应予受理。",
        "petition_representative": "城关镇信访办 王五",
    },
    "joint_consultation": {
        "consultation_date": "2026-12-02",
        "participants": "城关镇信访办、城关司法所",
        "consultation_outcome": "mediation_accepts",
        "justice_opinion": "同意由原人民调解组织受理。",
        "justice_representative": "城关司法所 赵七",
    },
    "escalated_consultation": {
        "escalated_date": "2026-12-04",
        "escalated_participants": "城关区信访局、城关区司法局",
        "escalated_outcome": "ordinary",
        "escalated_reasons": "由信访部门按信访程序办理。",
    },
    "mediate": {
        "session_record": "2026年12月3日在调委会调解，双方到场。",
        "mediation_outcome": "agreement",
        "agreement_form": "written",
        "agreement_facts": "李四装修损坏张三外墙，李四负全部责任。",
        "agreement_terms": "李四于2026年12月20日前赔偿张三3000元，以银行转账方式支付。",
        "agreement_effective_on": "2026-12-05",
        "judicial_confirmation_advised": "on",
    },
    "feedback_success": {"fed_back_on": "2026-12-08", "agreement_copy": ["att-2"]},
    "receive_success": {"received_by": "王五"},
    "conclude_petition": {"concluded_on": "2026-12-02"},
    "feedback_failure": {
        "fed_back_on": "2026-12-08",
        "failure_reasons": "双方对赔偿数额分歧较大。",
        "materials_returned": "移送函、同意调解书、调解记录、调解终止告知书",
    },
    "receive_failure": {"received_by": "王五"},
    "follow_up_visit": {
        "visited_on": "2026-12-28",
        "visit_method": "phone",
        "mediation_visitors": "赵六",
        "petition_visitors": "王五",
        "performance": "fully",
        "social_effect": "纠纷平息，未再信访。",
    },
    "follow_up_after_termination": {
        "visited_on": "2026-12-28",
        "visit_method": "phone",
        "mediation_visitors": "赵六",
        "petition_visitors": "王五",
        "social_effect": "当事人已起诉，未再信访。",
    },
    "decide_handover": {"handover_decision": "approve", "handover_opinion": "同意报送。"},
    "handle_risk": {"risk_assessment": "可能聚集上访。", "measures": "已约谈双方并加强疏导。"},
    "report_risk": {
        "risk_type": "leapfrog",
        "description": "当事人扬言赴京上访。",
        "police_recipient": "八廓派出所",
        "government_recipient": "八廓街道办事处",
        "receipt": "值班人员接收",
    },
}


@pytest.fixture(scope="module")
def registry() -> FormRegistry:
    return FormRegistry.load(FORMS_DIR)


def errors_of(form: FormDefinition, data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(FormValidationError) as caught:
        validate(form, data, provider)
    return caught.value.errors


def with_changes(name: str, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLES[name])
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def bpmn_form_names() -> set[str]:
    tree = etree.parse(str(BPMN))
    return set(tree.xpath("//spiffworkflow:property[@name='formName']/@value", namespaces=NS))


# --- the form files against the procedure --------------------------------------------------------


def test_every_bpmn_form_name_has_a_file() -> None:
    names = bpmn_form_names()
    assert len(names) >= 14, names  # guards against the XPath silently matching nothing
    missing = sorted(name for name in names | EXTRA_FORMS if not (FORMS_DIR / f"{name}.json").is_file())
    assert missing == []


def test_every_user_task_names_a_form() -> None:
    tree = etree.parse(str(BPMN))
    for task in tree.xpath("//bpmn:userTask", namespaces=NS):
        names = task.xpath(".//spiffworkflow:property[@name='formName']/@value", namespaces=NS)
        assert names, f"userTask {task.get('id')} has no formName"


@pytest.mark.parametrize("path", sorted(FORMS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_every_file_loads(path: Path) -> None:
    form = load_form(path)
    assert form.name == path.stem
    assert form.title.strip()
    for form_field in form.fields:
        assert re.search(r"[\u4e00-\u9fff]", form_field.label), f"{form_field.name} has no Chinese label"
        for _, option_label in form_field.options:
            assert re.search(r"[\u4e00-\u9fff]", option_label)


def test_registry_holds_exactly_the_files(registry: FormRegistry) -> None:
    assert registry.names() == sorted(p.stem for p in FORMS_DIR.glob("*.json"))
    assert set(registry.names()) == bpmn_form_names() | EXTRA_FORMS


def test_gateway_conditions_test_values_the_forms_offer(registry: FormRegistry) -> None:
    # A gateway testing a value no form can produce would route every case down its default flow.
    tree = etree.parse(str(BPMN))
    offered: dict[str, set[str]] = {}
    for name in registry.names():
        for form_field in registry.get(name).fields:
            offered.setdefault(form_field.name, set()).update(v for v, _ in form_field.options)
    checked = 0
    for text in tree.xpath("//bpmn:conditionExpression/text()", namespaces=NS):
        match = re.fullmatch(r'\s*(\w+) == "(\w+)"\s*', text)
        if match:
            variable, value = match.groups()
            assert value in offered.get(variable, set()), text
            checked += 1
    assert checked >= 6


def test_every_form_has_a_sample() -> None:
    assert set(SAMPLES) == {p.stem for p in FORMS_DIR.glob("*.json")}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_form_accepts_a_good_sample(registry: FormRegistry, name: str) -> None:
    form = registry.get(name)
    cleaned = validate(form, SAMPLES[name], provider)
    json.dumps(cleaned)  # handlers store it as case data
    for key in SAMPLES[name]:
        assert key in cleaned
    assert list(cleaned) == [f.name for f in form.fields if f.name in cleaned]


def test_registry_get_unknown_form(registry: FormRegistry) -> None:
    with pytest.raises(KeyError, match="未找到表单"):
        registry.get("no_such_form")


# --- required, required_when ---------------------------------------------------------------------


def test_missing_required_field_gets_its_own_chinese_message(registry: FormRegistry) -> None:
    errors = errors_of(registry.get("register"), with_changes("register", petitioner_name=None))
    assert errors == {"petitioner_name": "请填写信访人姓名"}


def test_blank_and_whitespace_count_as_missing(registry: FormRegistry) -> None:
    errors = errors_of(registry.get("register"), with_changes("register", petitioner_name="   ", facts=""))
    assert errors == {"petitioner_name": "请填写信访人姓名", "facts": "请填写事实与理由"}


def test_all_errors_reported_at_once(registry: FormRegistry) -> None:
    errors = errors_of(registry.get("register"), {})
    assert set(errors) == {
        "petitioner_name",
        "petitioner_id_number",
        "petitioner_phone",
        "respondent_name",
        "respondent_type",
        "locality",
        "petition_channel",
        "received_on",
        "matter",
        "facts",
    }
    assert errors["respondent_type"] == "请选择对方当事人类型"
    assert all(re.search(r"[\u4e00-\u9fff]", message) for message in errors.values())


def test_required_when_condition_met_requires_field(registry: FormRegistry) -> None:
    form = registry.get("guide_divert")
    told = {"explanation_given": "on", "privacy_notice_given": "on"}
    errors = errors_of(form, {**told, "consent": "refuse"})
    assert errors == {"refusal_reason": "请填写不同意人民调解的理由"}
    errors = errors_of(form, {**told, "consent": "agree"})
    assert errors == {"consent_documents": "请上传当事人同意调解的文书"}


def test_required_when_condition_not_met_leaves_field_optional(registry: FormRegistry) -> None:
    form = registry.get("guide_divert")
    told = {"explanation_given": "on", "privacy_notice_given": "on"}
    cleaned = validate(form, {**told, "consent": "refuse", "refusal_reason": "想走诉讼"})
    assert cleaned == {
        "explanation_given": True,
        "privacy_notice_given": True,
        "consent": "refuse",
        "refusal_reason": "想走诉讼",
    }
    assert "consent_documents" not in cleaned


def test_required_when_on_mediation_outcome(registry: FormRegistry) -> None:
    form = registry.get("mediate")
    errors = errors_of(form, {"session_record": "记录", "mediation_outcome": "agreement"})
    assert set(errors) == {"agreement_form", "agreement_facts", "agreement_terms", "agreement_effective_on"}
    errors = errors_of(form, {"session_record": "记录", "mediation_outcome": "extend"})
    assert errors == {"extension_days": "请填写延长天数", "extension_reason": "请填写延长理由"}
    errors = errors_of(form, {"session_record": "记录", "mediation_outcome": "terminate"})
    assert errors == {"termination_reason": "请填写终止调解的原因"}
    errors = errors_of(form, {"session_record": "记录", "mediation_outcome": "hand_up"})
    assert errors == {
        "handover_org": "请选择申请报送的人民调解组织",
        "handover_reason": "请填写申请报送的理由",
    }
    cleaned = validate(
        form,
        {"session_record": "记录", "mediation_outcome": "terminate", "termination_reason": "分歧大"},
        provider,
    )
    assert cleaned["mediation_outcome"] == "terminate"


def test_required_when_on_review_and_consultation(registry: FormRegistry) -> None:
    errors = errors_of(registry.get("review_referral"), {"review_decision": "return"})
    assert errors == {"return_reason": "请填写不予受理的理由"}
    assert validate(
        registry.get("review_referral"), {"review_decision": "return", "return_reason": "专属管辖"}
    )
    errors = errors_of(registry.get("review_referral"), {"review_decision": "accept"})
    assert errors == {"mediator_name": "请填写承办调解员"}
    data = with_changes("joint_consultation", consultation_outcome="transfer")
    errors = errors_of(registry.get("joint_consultation"), data)
    assert errors == {"transfer_org": "请选择改由调解的人民调解组织"}


def test_const_checkbox_must_be_ticked(registry: FormRegistry) -> None:
    form = registry.get("guide_divert")
    expected = {"explanation_given": "请确认已向信访人释明人民调解的优势"}
    assert errors_of(form, with_changes("guide_divert", explanation_given=None)) == expected
    assert errors_of(form, with_changes("guide_divert", explanation_given="false")) == expected


# --- values ---------------------------------------------------------------------------------------


def test_bad_enum_value_rejected(registry: FormRegistry) -> None:
    errors = errors_of(registry.get("screen_case"), {"dispute_category": "criminal"})
    assert errors == {"dispute_category": "请选择有效的选项"}


@pytest.mark.parametrize("value", ["2026-02-30", "2026/11/28", "20261128", "明天", "2026-11-28T10:00"])
def test_bad_date_rejected(registry: FormRegistry, value: str) -> None:
    errors = errors_of(registry.get("register"), with_changes("register", received_on=value))
    assert errors == {"received_on": "请输入有效的日期（如2026-11-28）"}


def test_date_objects_come_back_as_iso_strings(registry: FormRegistry) -> None:
    from datetime import date

    cleaned = validate(
        registry.get("register"), with_changes("register", received_on=date(2026, 11, 28)), provider
    )
    assert cleaned["received_on"] == "2026-11-28"


@pytest.mark.parametrize("value", ["5401021980010112", "54010219800101123Y", "5401021980010112345", "abc"])
def test_bad_id_number_rejected(registry: FormRegistry, value: str) -> None:
    errors = errors_of(registry.get("register"), with_changes("register", petitioner_id_number=value))
    assert set(errors) == {"petitioner_id_number"}
    assert errors["petitioner_id_number"].startswith("格式不正确：")


def test_optional_id_number_checked_when_given(registry: FormRegistry) -> None:
    form = registry.get("register")
    assert validate(form, with_changes("register", respondent_id_number="540102198001011234"), provider)
    errors = errors_of(form, with_changes("register", respondent_id_number="12345"))
    assert set(errors) == {"respondent_id_number"}


@pytest.mark.parametrize("value", ["13912345678", "0891-6321234", "08916321234", "010-12345678-801"])
def test_phone_numbers_accepted(registry: FormRegistry, value: str) -> None:
    assert validate(registry.get("register"), with_changes("register", petitioner_phone=value), provider)


@pytest.mark.parametrize("value", ["12345678901", "1391234567", "6321234", "电话"])
def test_bad_phone_numbers_rejected(registry: FormRegistry, value: str) -> None:
    errors = errors_of(registry.get("register"), with_changes("register", petitioner_phone=value))
    assert errors["petitioner_phone"].startswith("格式不正确：")


def extend(days: Any) -> dict[str, Any]:
    return {
        "session_record": "记录",
        "mediation_outcome": "extend",
        "extension_days": days,
        "extension_reason": "需鉴定",
    }


def test_integer_range(registry: FormRegistry) -> None:
    form = registry.get("mediate")
    # the law's 30 days in all; what is left of them depends on the diagram's period (extend_mediation)
    assert errors_of(form, extend(31)) == {"extension_days": "不能大于30"}
    assert errors_of(form, extend("31")) == {"extension_days": "不能大于30"}
    assert errors_of(form, extend(0)) == {"extension_days": "不能少于1"}
    assert validate(form, extend(15), provider)["extension_days"] == 15
    assert validate(form, extend(" 7 "), provider)["extension_days"] == 7


@pytest.mark.parametrize("value", ["abc", 1.5, "1.5", True])
def test_non_integer_rejected(registry: FormRegistry, value: Any) -> None:
    assert errors_of(registry.get("mediate"), extend(value)) == {"extension_days": "请输入整数"}


def test_integer_default_filled(registry: FormRegistry) -> None:
    form = registry.get("register")
    assert validate(form, SAMPLES["register"], provider)["petitioner_count"] == 1
    errors = errors_of(form, with_changes("register", petitioner_count="0"))
    assert errors == {"petitioner_count": "不能少于1"}


def test_max_length(registry: FormRegistry) -> None:
    errors = errors_of(registry.get("register"), with_changes("register", matter="诉" * 501))
    assert errors == {"matter": "不能超过500个字"}
    assert validate(registry.get("register"), with_changes("register", matter="诉" * 500), provider)


def test_strings_are_stripped(registry: FormRegistry) -> None:
    cleaned = validate(
        registry.get("register"), with_changes("register", petitioner_name="  张三 \n"), provider
    )
    assert cleaned["petitioner_name"] == "张三"


def test_string_default_filled_for_rules(registry: FormRegistry) -> None:
    # The scope decision table reads other_unsuitable_reason, so it must always be present.
    cleaned = validate(
        registry.get("screen_case"), {"dispute_category": "other", "other_unsuitable_reason": " "}
    )
    assert cleaned == {
        "dispute_category": "other",
        "in_legal_proceedings": False,
        "outside_scope_by_law": False,
        "party_refuses": False,
        "other_unsuitable_reason": "",
    }


def test_options_from_accepted_and_rejected(registry: FormRegistry) -> None:
    form = registry.get("draft_referral")
    assert validate(form, SAMPLES["draft_referral"], provider)["mediation_org"] == "org_town_committee"
    errors = errors_of(form, with_changes("draft_referral", mediation_org="org_elsewhere"))
    assert errors == {"mediation_org": "请选择有效的选项"}
    errors = errors_of(registry.get("register"), with_changes("register", locality="org_town_committee"))
    assert errors == {"locality": "请选择有效的选项"}


def test_options_from_without_provider_is_a_form_error(registry: FormRegistry) -> None:
    with pytest.raises(FormError, match="mediation_orgs"):
        validate(registry.get("draft_referral"), SAMPLES["draft_referral"])


def test_options_provider_asked_once_per_list(registry: FormRegistry) -> None:
    calls: list[str] = []

    def counting(name: str) -> Sequence[tuple[str, str]]:
        calls.append(name)
        return provider(name)

    validate(registry.get("draft_referral"), SAMPLES["draft_referral"], counting)
    assert calls == ["mediation_orgs"]


def test_unknown_field_rejected(registry: FormRegistry) -> None:
    errors = errors_of(registry.get("approve_referral"), {"approval": "approve", "approved_by": "某某"})
    assert errors == {"approved_by": "未知字段"}
    errors = errors_of(registry.get("approve_referral"), {"approval": "approve", "approved_by": ""})
    assert errors == {"approved_by": "未知字段"}


@pytest.mark.parametrize(
    ("sent", "expected"),
    [("on", True), ("true", True), ("1", True), (True, True), ("false", False), ("0", False), (False, False)],
)
def test_html_boolean_strings(registry: FormRegistry, sent: Any, expected: bool) -> None:
    data = {**SAMPLES["handle_risk"], "reported_to_police": sent}
    cleaned = validate(registry.get("handle_risk"), data)
    assert cleaned["reported_to_police"] is expected
    assert cleaned["reported_to_government"] is False  # unticked checkbox: absent, so the default


def test_bad_boolean_rejected(registry: FormRegistry) -> None:
    errors = errors_of(registry.get("handle_risk"), {**SAMPLES["handle_risk"], "reported_to_police": "maybe"})
    assert set(errors) == {"reported_to_police"}


def test_file_list_cleaned_and_typed(registry: FormRegistry) -> None:
    form = registry.get("feedback_failure")
    cleaned = validate(form, {**SAMPLES["feedback_failure"], "materials": [" att-1 ", "", "att-2"]})
    assert cleaned["materials"] == ["att-1", "att-2"]
    errors = errors_of(form, {**SAMPLES["feedback_failure"], "materials": "att-1"})
    assert errors == {"materials": "请提交列表"}


def test_error_summary_names_fields_in_chinese(registry: FormRegistry) -> None:
    with pytest.raises(FormValidationError) as caught:
        validate(registry.get("approve_referral"), {"approval": "send_back"})
    assert "审签说明：请填写审签说明" in str(caught.value)


def test_schema_is_built_once_per_form(registry: FormRegistry) -> None:
    form = registry.get("mediate")
    validate(form, SAMPLES["mediate"], provider)
    first = form._compiled
    validate(form, SAMPLES["mediate"], provider)
    assert first is not None and form._compiled is first


# --- malformed form files ------------------------------------------------------------------------


def write_form(directory: Path, name: str, document: Any) -> Path:
    path = directory / f"{name}.json"
    text = document if isinstance(document, str) else json.dumps(document, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def minimal(**properties: Any) -> dict[str, Any]:
    return {
        "title": "测试表单",
        "schema": {
            "type": "object",
            "properties": properties or {"note": {"type": "string", "title": "备注"}},
        },
    }


def test_registry_rejects_invalid_json_naming_the_file(tmp_path: Path) -> None:
    write_form(tmp_path, "good", minimal())
    write_form(tmp_path, "broken", '{"title": "坏表单", "schema": {')
    with pytest.raises(FormError, match=r"broken\.json"):
        FormRegistry.load(tmp_path)


@pytest.mark.parametrize(
    ("properties", "field_name"),
    [
        ({"note": {"type": "string"}}, "note"),  # no title
        ({"note": {"type": "text", "title": "备注"}}, "note"),  # unknown type
        ({"note": {"type": "string", "title": "备注", "maxlength": 10}}, "note"),  # typo in a keyword
        (
            {"choice": {"type": "string", "title": "选择", "enum": ["a", "b"], "x-enum-labels": ["甲"]}},
            "choice",
        ),
        ({"n": {"type": "integer", "title": "数量", "minimum": 1, "default": 0}}, "n"),
        ({"code": {"type": "string", "title": "编码", "pattern": "[0-9]+"}}, "code"),
        ({"code": {"type": "string", "title": "编码", "pattern": "^([0-9]$"}}, "code"),
        ({"day": {"type": "string", "title": "日期", "format": "date-time"}}, "day"),
        ({"ok": {"type": "boolean", "title": "确认", "x-widget": "textarea"}}, "ok"),
        ({"ok": {"type": "boolean", "title": "确认", "const": True}}, "ok"),  # const but not required
    ],
)
def test_malformed_field_names_file_and_field(
    tmp_path: Path, properties: dict[str, Any], field_name: str
) -> None:
    write_form(tmp_path, "bad_form", minimal(**properties))
    with pytest.raises(FormError) as caught:
        FormRegistry.load(tmp_path)
    message = str(caught.value)
    assert "bad_form.json" in message
    assert field_name in message
    assert re.search(r"[\u4e00-\u9fff]", message)


def test_required_when_must_reference_an_enum_value(tmp_path: Path) -> None:
    document = minimal(
        consent={"type": "string", "title": "意见", "enum": ["agree"], "x-enum-labels": ["同意"]},
        reason={"type": "string", "title": "理由"},
    )
    document["ui"] = {"required_when": {"reason": {"consent": ["refuse"]}}}
    write_form(tmp_path, "bad_rule", document)
    with pytest.raises(FormError, match=r"bad_rule\.json.*reason.*refuse"):
        FormRegistry.load(tmp_path)


def test_unknown_field_in_ui_order_rejected(tmp_path: Path) -> None:
    document = minimal()
    document["ui"] = {"order": ["note", "nope"]}
    write_form(tmp_path, "bad_order", document)
    with pytest.raises(FormError, match=r"bad_order\.json.*nope"):
        FormRegistry.load(tmp_path)


def test_duplicate_json_keys_rejected(tmp_path: Path) -> None:
    text = '{"title": "表单", "title": "又一个", "schema": {"type": "object", "properties": {}}}'
    write_form(tmp_path, "dupe", text)
    with pytest.raises(FormError, match=r"dupe\.json.*title"):
        FormRegistry.load(tmp_path)


def test_fields_left_out_of_ui_order_go_last(tmp_path: Path) -> None:
    document = minimal(a={"type": "string", "title": "甲"}, b={"type": "string", "title": "乙"})
    document["ui"] = {"order": ["b"]}
    path = write_form(tmp_path, "order", document)
    assert [f.name for f in load_form(path).fields] == ["b", "a"]


def test_form_field_metadata(registry: FormRegistry) -> None:
    form = registry.get("guide_divert")
    consent = form.field("consent")
    assert consent.widget == "radio"
    assert consent.options == (("agree", "同意人民调解"), ("refuse", "不同意人民调解"))
    assert form.field("refusal_reason").required_when == {"consent": ("refuse",)}
    assert form.field("consent_documents").widget == "file"
    assert registry.get("register").field("locality").options_from == "townships"
    assert registry.get("register").field("received_on").widget == "date"
    assert registry.get("mediate").field("extension_days").widget == "number"
    with pytest.raises(KeyError):
        form.field("nope")
