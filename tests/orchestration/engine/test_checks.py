"""The checks before deployment: the procedure as it is passes clean, and each kind of mistake a policy
officer can make is found, pointing at the file and the element (id and name)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from orchestration.domain.calendar import SHANGHAI, WorkingCalendar
from orchestration.domain.procedure import Finding, read_directories
from orchestration.engine.checks import check
from orchestration.engine.specs import PROCESS_ID

ROOT = Path(__file__).resolve().parents[3]
FILES = read_directories(ROOT / "processes", ROOT / "forms")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
MEDIATION_DEADLINE = 'deadline_days(acceptance["accepted_at"], 15 + acceptance["extension_days"])'


def run(files: dict[str, str]) -> list[Finding]:
    return check(files, PROCESS_ID, WorkingCalendar(), NOW)


def changed(old: str, new: str, file: str = "referral.bpmn", count: int = 1) -> dict[str, str]:
    text = FILES[file]
    assert old in text, old
    return {**FILES, file: text.replace(old, new, count)}


def errors(findings: list[Finding]) -> list[tuple[str, str | None, str | None, str]]:
    return [(f.file, f.element_id, f.element_name, f.message) for f in findings if f.severity == "error"]


def the_error(findings: list[Finding], element_id: str | None = None) -> tuple[str, str | None, str]:
    """The one error (on the element, if given): its file, element name and message."""
    found = [e for e in errors(findings) if element_id is None or e[1] == element_id]
    assert len(found) == 1, errors(findings)
    file, _, name, message = found[0]
    return file, name, message


def test_the_procedure_as_it_is_has_no_findings() -> None:
    assert run(dict(FILES)) == []


def test_a_user_task_with_a_missing_form() -> None:
    findings = run(changed('name="formName" value="mediate"', 'name="formName" value="mediate_x"'))
    assert the_error(findings, "mediate") == (
        "referral.bpmn",
        "依法调解",
        "表单 mediate_x 不存在（应有 forms/mediate_x.json）",
    )


def test_a_lane_that_maps_to_no_role() -> None:
    findings = run(changed('name="人民调解组织"', 'name="调解组织"'))
    tasks = {e[1] for e in errors(findings)}
    assert {"review_referral", "mediate", "feedback_success"} <= tasks
    assert all("所在泳道“调解组织”未对应任何角色" in e[3] for e in errors(findings))


def test_an_unknown_service_operation() -> None:
    findings = run(changed('id="fangtiao/accept_case"', 'id="fangtiao/accept_cases"'))
    file, name, message = the_error(findings, "accept_case")
    assert (file, name) == ("referral.bpmn", "受理并出具回执")
    assert message.startswith("服务操作 fangtiao/accept_cases 不存在")


def test_parameters_the_operation_does_not_take_or_needs() -> None:
    findings = run(
        changed(
            '<spiffworkflow:parameter id="reason" type="str" value="extension_reason"/>',
            '<spiffworkflow:parameter id="why" type="str" value="extension_reason"/>',
        )
    )
    messages = sorted(e[3] for e in errors(findings) if e[1] == "extend_mediation")
    assert (
        messages[0]
        == "服务操作 fangtiao/extend_mediation 没有参数 why（它的参数：acceptance、extra_days、reason）"
    )
    assert messages[1] == "服务操作 fangtiao/extend_mediation 缺少参数 reason"


def test_scripts_are_not_allowed() -> None:
    script = '<bpmn:scriptTask id="s1" name="计算"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
    findings = run(changed("<!-- 引导分流 -->", script))
    assert any(e[1:3] == ("s1", "计算") and "不允许脚本任务" in e[3] for e in errors(findings))


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('"2026-11-30T00:00:00"', "得出的时间 2026-11-30T00:00:00 没有时区"),
        ('"P3D"', "不是有效的 ISO 8601 日期时间"),
        ('deadline_days(acceptance["accepted_att"], 10)', "示例数据中没有键 'accepted_att'"),
        ("deadline_days(accepted, 10)", "无法用示例数据计算：没有数据 accepted"),
        ('open("/etc/passwd")', "不符合表达式规则：不允许调用 open"),
        ("acceptance", "应得出文本（ISO 8601）"),
    ],
)
def test_timer_expressions_must_give_a_date_with_a_time_zone(expression: str, message: str) -> None:
    findings = run(
        changed(
            f"<bpmn:timeDate>{MEDIATION_DEADLINE}</bpmn:timeDate>",
            f"<bpmn:timeDate>{expression}</bpmn:timeDate>",
        )
    )
    file, name, found = the_error(findings, "mediation_deadline_reached")
    assert (file, name) == ("referral.bpmn", "调解期限届满")
    assert message in found


def test_a_changed_deadline_that_still_gives_a_date_passes() -> None:
    ten_days = 'deadline_days(acceptance["accepted_at"], 10 + acceptance["extension_days"])'
    assert run(changed(MEDIATION_DEADLINE, ten_days, count=2)) == []


def test_the_mediation_timer_the_handlers_read_the_period_from_must_be_there() -> None:
    """The referral letter, acceptance and extension name the period the timer 调解期限届满 counts: a
    diagram whose timer has another id is refused before a case fails on it, on each task that reads it
    and nowhere else."""
    renamed = changed("mediation_deadline_reached", "mediation_deadline_due", count=-1)
    reason = "按定时事件“mediation_deadline_reached”的表达式确定期限，但流程中没有这个按日期计时的定时事件"
    assert errors(run(renamed)) == [
        ("referral.bpmn", "issue_referral", "移送人民调解组织", f"服务操作 fangtiao/issue_referral {reason}"),
        ("referral.bpmn", "accept_case", "受理并出具回执", f"服务操作 fangtiao/accept_case {reason}"),
        ("referral.bpmn", "extend_mediation", "延长调解期限", f"服务操作 fangtiao/extend_mediation {reason}"),
    ]


@pytest.mark.parametrize(("days", "refused"), [(30, False), (31, True)])
def test_a_mediation_period_past_the_laws_thirty_days_is_refused(days: int, refused: bool) -> None:
    """实施意见六(三): 30 days at most, extensions included, so the timer may give no more before any."""
    longer = f'deadline_days(acceptance["accepted_at"], {days} + acceptance["extension_days"])'
    findings = run(changed(MEDIATION_DEADLINE, longer, count=2))
    if not refused:
        assert errors(findings) == []
        return
    file, name, message = the_error(findings, "mediation_deadline_reached")
    assert (file, name) == ("referral.bpmn", "调解期限届满")
    assert message.startswith("调解期限定时器在未延长时给出31日的调解期限，超过实施意见六(三)规定的最长30日")


def test_a_mediation_period_is_counted_in_days() -> None:
    """The law counts it in days, and so do the 30 days in all that an extension may reach."""
    working = 'deadline_working_days(acceptance["accepted_at"], 10 + acceptance["extension_days"])'
    file, name, message = the_error(
        run(changed(MEDIATION_DEADLINE, working, count=2)), "mediation_deadline_reached"
    )
    assert (file, name) == ("referral.bpmn", "调解期限届满")
    assert message.startswith("调解期限定时器按工作日计算（10个工作日），实施意见六(三)的调解期限按日计算")


def test_a_timer_whose_period_a_document_states_must_count_one_period() -> None:
    """The referral letter states the period of 3日内未作决定: an expression counting two is refused on
    the task that issues the letter, before a case fails there."""
    two = 'deadline_days(deadline_working_days(referral["referred_at"], 1), 2)'
    findings = run(changed('deadline_days(referral["referred_at"], 3)', two))
    file, name, message = the_error(findings, "issue_referral")
    assert (file, name) == ("referral.bpmn", "移送人民调解组织")
    assert message.startswith("服务操作 fangtiao/issue_referral 要写明定时事件“review_timeout”的期间：")
    assert "计算了2个期间" in message


def test_a_gateway_without_default_must_cover_every_value_of_its_form() -> None:
    no_default = changed('name="信访人是否同意调解" default="f_refused"', 'name="信访人是否同意调解"')
    file, name, message = the_error(run(no_default), "gw_consent")
    assert (file, name) == ("referral.bpmn", "信访人是否同意调解")
    assert message.startswith("没有默认流，且有出线没有条件")

    refused = (
        '<bpmn:sequenceFlow id="f_refused" name="不同意" sourceRef="gw_consent" '
        'targetRef="ordinary_procedure">'
    )
    maybe = {
        **no_default,
        "referral.bpmn": no_default["referral.bpmn"].replace(
            refused[:-1] + "/>",
            refused
            + '<bpmn:conditionExpression>consent == "maybe"</bpmn:conditionExpression></bpmn:sequenceFlow>',
        ),
    }
    assert the_error(run(maybe), "gw_consent")[2] == '没有默认流，且条件未覆盖字段 consent 的取值："refuse"'

    covered = {
        **maybe,
        "referral.bpmn": maybe["referral.bpmn"].replace('consent == "maybe"', 'consent == "refuse"'),
    }
    assert run(covered) == []


def test_a_default_flow_must_leave_the_gateway() -> None:
    findings = run(
        changed(
            'name="信访人是否同意调解" default="f_refused"', 'name="信访人是否同意调解" default="f_guided"'
        )
    )
    assert the_error(findings, "gw_consent")[2] == "默认流 f_guided 不是该网关的出线"


def test_a_condition_naming_a_field_no_form_defines() -> None:
    findings = run(changed('consent == "agree"', 'consentt == "agree"'))
    file, name, message = the_error(findings, "f_consented")
    assert (file, name) == ("referral.bpmn", "同意")
    assert message == '条件引用了表单和流程中都没有定义的字段：consentt（条件“consentt == "agree"”）'


def test_a_condition_outside_the_expression_rule() -> None:
    findings = run(changed('consent == "agree"', 'consent == __import__("os").name'))
    assert any("不允许调用 __import__" in e[3] for e in errors(findings) if e[1] == "f_consented")


def test_dmn_inputs_must_exist_and_decisions_be_there() -> None:
    findings = run(changed("<text>party_refuses</text>", "<text>party_refuse</text>", file="scope.dmn"))
    file, name, message = the_error(findings, "in_1")
    assert (file, name) == ("scope.dmn", "一方当事人拒绝人民调解")
    assert message.endswith("的输入引用了表单和流程中都没有定义的字段：party_refuse")
    assert message.startswith("决策表“是否适用移送人民调解（实施意见第五部分）”")

    findings = run(
        changed("<spiffworkflow:calledDecisionId>scope_decision<", "<spiffworkflow:calledDecisionId>scope_x<")
    )
    assert ("referral.bpmn", "scope_rules", "适用范围规则", "决策表 scope_x 不存在于 DMN 文件中") in errors(
        findings
    )


def test_dmn_cells_keep_to_the_expression_rule() -> None:
    findings = run(changed("len(?.strip()) &gt; 0", "len(?.__class__) &gt; 0", file="scope.dmn"))
    # the cell is named by its rule's number and its column, as the table shows them
    assert the_error(findings, "rule_4_in_3")[:2] == ("scope.dmn", "第5条规则·其他不适宜情形（原因）")
    findings = run(changed("<text>False</text>", "<text>open(1)</text>", file="scope.dmn"))
    assert the_error(findings, "rule_0_out_0")[:2] == ("scope.dmn", "第1条规则·是否适宜调解")


def test_a_form_finding_names_the_field() -> None:
    findings = run(changed('"title": "延长天数"', '"title": 7', file="forms/mediate.json"))
    file, name, message = the_error(findings, "extension_days")
    assert (file, name) == ("forms/mediate.json", None)
    assert message == "表单文件 mediate.json 有误：字段“extension_days”：缺少 title（字段标题），或其不是文字"
    # a field of a repeated group is named within its group
    findings = run(changed('"title": "哪一方"', '"title": ["哪一方"]', file="forms/mediate.json"))
    assert the_error(findings, "parties.role")[0] == "forms/mediate.json"


def test_an_invalid_form_and_a_missing_required_form() -> None:
    files = {**FILES, "forms/mediate.json": "{"}
    del files["forms/register.json"]
    found = errors(run(files))
    assert (
        "forms/mediate.json",
        None,
        None,
        "表单文件 mediate.json 不是有效的 JSON：第1行第2列，"
        "Expecting property name enclosed in double quotes",
    ) in found
    assert ("forms/register.json", None, None, "缺少表单 register（登记信访事项时使用）") in found


def test_an_unused_form_is_a_warning() -> None:
    findings = run({**FILES, "forms/extra.json": FILES["forms/mediate.json"]})
    assert findings == [
        Finding("warning", "forms/extra.json", None, None, "表单 extra 没有被任何用户任务使用")
    ]


def test_a_scenario_that_breaks_its_schema() -> None:
    findings = run(
        {**FILES, "scenarios/99_mine.json": '{"name": "我的", "clock": "2026-11-02T09:00:00+08:00"}'}
    )
    assert errors(findings) == [("scenarios/99_mine.json", None, None, "场景文件：缺少键“steps”")]


def test_schema_errors_name_the_element() -> None:
    findings = run(
        changed(
            '<bpmn:userTask id="mediate" name="依法调解">',
            '<bpmn:userTask id="mediate" name="依法调解" bogus="1">',
        )
    )
    assert any(e[0] == "referral.bpmn" and "流程文件校验失败（第" in e[3] for e in errors(findings)), errors(
        findings
    )


@pytest.mark.parametrize(
    "text",
    [
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
        "<d>" + "x" * 1_000_001 + "</d>",
    ],
    ids=["external entity", "huge"],
)
def test_hostile_files_are_one_finding_and_nothing_else_is_read(text: str) -> None:
    findings = run({**FILES, "referral.bpmn": text})
    assert len(findings) == 1 and findings[0].severity == "error"
    assert "DOCTYPE 或 ENTITY" in findings[0].message or "过大" in findings[0].message
