"""Changes a policy officer makes to the procedure's files, for the repository and migration tests."""

from __future__ import annotations

import re
from collections.abc import Mapping

MEDIATION_DEADLINE = 'deadline_days(acceptance["accepted_at"], 15 + acceptance["extension_days"])'
# the mediation deadline 10 days instead of 15 (extensions still counted)
TEN_DAYS = 'deadline_days(acceptance["accepted_at"], 10 + acceptance["extension_days"])'


def replaced(files: Mapping[str, str], file: str, old: str, new: str, count: int = -1) -> dict[str, str]:
    assert old in files[file], old
    return {**files, file: files[file].replace(old, new, count)}


def ten_day_mediation(files: Mapping[str, str]) -> dict[str, str]:
    """Both mediation timers (the deadline and the warning a working day before it) on 10 days."""
    return replaced(files, "referral.bpmn", MEDIATION_DEADLINE, TEN_DAYS)


def without_risk_handling(files: Mapping[str, str]) -> dict[str, str]:
    """The risk report goes straight to its end: the user task 风险处置 (handle_risk) is removed."""
    text = files["referral.bpmn"]
    text = text.replace("        <bpmn:flowNodeRef>handle_risk</bpmn:flowNodeRef>\n", "")
    text = re.sub(r'\s*<bpmn:userTask id="handle_risk".*?</bpmn:userTask>', "", text, flags=re.S)
    text = re.sub(r'\s*<bpmn:sequenceFlow id="f_risk_handled"[^>]*/>', "", text)
    # with it goes the warning of a late response, on its boundary
    for node in ("risk_response_late", "warn_risk_response", "end_risk_response_warning"):
        text = text.replace(f"        <bpmn:flowNodeRef>{node}</bpmn:flowNodeRef>\n", "")
        text = re.sub(
            rf'\s*<bpmn:(boundaryEvent|serviceTask|endEvent) id="{node}".*?</bpmn:\1>', "", text, flags=re.S
        )
        text = re.sub(rf'\s*<bpmndi:BPMNShape id="{node}_di".*?</bpmndi:BPMNShape>', "", text, flags=re.S)
    for flow in ("f_risk_response_late", "f_risk_response_warned"):
        text = re.sub(rf'\s*<bpmn:sequenceFlow id="{flow}"[^>]*/>', "", text)
        text = re.sub(rf'\s*<bpmndi:BPMNEdge id="{flow}_di".*?</bpmndi:BPMNEdge>', "", text, flags=re.S)
    text = text.replace(
        'sourceRef="notify_risk" targetRef="handle_risk"', 'sourceRef="notify_risk" targetRef="end_risk"'
    )
    text = text.replace(
        "<bpmn:incoming>f_risk_handled</bpmn:incoming>", "<bpmn:incoming>f_risk_notified</bpmn:incoming>"
    )
    text = re.sub(r'\s*<bpmndi:BPMNShape id="handle_risk_di".*?</bpmndi:BPMNShape>', "", text, flags=re.S)
    text = re.sub(r'\s*<bpmndi:BPMNEdge id="f_risk_handled_di".*?</bpmndi:BPMNEdge>', "", text, flags=re.S)
    assert "handle_risk" not in text and "f_risk_handled" not in text and "risk_response" not in text
    files = {**files, "referral.bpmn": text}
    del files["forms/handle_risk.json"]
    return files


def with_mediation_check(files: Mapping[str, str]) -> dict[str, str]:
    """A new boundary timer on 依法调解: a case in mediation cannot take it up mid-way."""
    event = (
        '<bpmn:boundaryEvent id="mediation_check" name="调解中期检查" attachedToRef="mediate" '
        'cancelActivity="false"><bpmn:outgoing>f_check</bpmn:outgoing><bpmn:timerEventDefinition>'
        '<bpmn:timeDate>deadline_days(acceptance["accepted_at"], 7)</bpmn:timeDate>'
        "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        '<bpmn:sequenceFlow id="f_check" sourceRef="mediation_check" targetRef="end_deadline_warning"/>'
    )
    files = replaced(
        files,
        "referral.bpmn",
        '<bpmn:boundaryEvent id="risk_reported"',
        event + '<bpmn:boundaryEvent id="risk_reported"',
        1,
    )
    return replaced(
        files,
        "referral.bpmn",
        "<bpmn:incoming>f_deadline_warned</bpmn:incoming>",
        "<bpmn:incoming>f_deadline_warned</bpmn:incoming><bpmn:incoming>f_check</bpmn:incoming>",
    )
