"""Notifications carry no personal data beyond names and case numbers: the rule, the redaction every
handler's notification passes through, and the check every scenario run makes of every stored message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from orchestration.domain.personal_data import REDACTED, findings, identifying_values, redact
from orchestration.engine import handler_context
from orchestration.engine.runtime import Runtime
from orchestration.services.scenarios import SCENARIO_DIR, run_scenario
from orchestration.store.models import Notification
from tests.helpers import actor, advance_to, open_task, start

ADDRESS = "八廓街道冲赛康社区"


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("身份证540102199001011234", ["居民身份证号码"]),
        ("身份证54010219900101123X。", ["居民身份证号码"]),
        ("请拨13800138000", ["手机号码"]),
        ("请拨 138 0013 8000", ["手机号码"]),
        ("请拨+86-138-0013-8000", ["手机号码"]),
        ("座机0891-6321234", ["固定电话"]),
        ("座机6321234", ["长数字串"]),
        ("住北京中路12号", ["门牌号"]),
        ("住3栋2单元501室", ["门牌号", "门牌号", "门牌号"]),
    ],
)
def test_identifiers_are_found(text: str, kinds: list[str]) -> None:
    assert [f.split("：")[0] for f in findings(text)] == kinds
    assert findings(redact(text)) == []


@pytest.mark.parametrize(
    "text",
    [
        "收到访调对接移送案件 FT2026-000001，请在3日内决定受理或者退回",
        "案件 FT2026-000123 信访事项办理期限将于2026年12月31日届满",
        "已出具（2026）访调退字第12号退回函",
        "张三与李四邻里纠纷，涉及二十余户、标的120000元",
        "任务 3f2a9c1e-5b7d-4e1a-9c3f-138001380001 已完成",
    ],
)
def test_case_numbers_dates_names_and_document_numbers_are_allowed(text: str) -> None:
    assert findings(text) == []
    assert redact(text) == text


def test_the_cases_own_identifiers_are_found_wherever_they_are() -> None:
    data = {
        "petitioner_address": ADDRESS,
        "respondent_phone": "13900139000",
        "parties": [{"role": "respondent", "name": "李四", "address": "东嘎街道", "phone": ""}],
        "contact_phone": "13800138001",  # the petition office's, not a party's
    }
    known = identifying_values(data)
    assert known == {ADDRESS, "13900139000", "东嘎街道"}
    assert findings(f"当事人住{ADDRESS}", known) == [f"当事人信息：{ADDRESS}"]
    assert redact("李四住东嘎街道，电话13900139000", known) == f"李四住{REDACTED}，电话{REDACTED}"


def test_a_reason_with_a_phone_and_an_address_reaches_the_clerk_without_them(runtime: Runtime) -> None:
    case_id = start(runtime, petitioner_address=ADDRESS)
    task = advance_to(runtime, case_id, "review_referral")
    reason = f"信访人住{ADDRESS}，电话13800138000，纠纷涉及不动产登记，不属于人民调解范围"
    runtime.complete_task(
        task.id, {"review_decision": "return", "return_reason": reason}, actor(runtime, "mediator")
    )
    with runtime.sessions() as session:
        messages = list(
            session.scalars(
                select(Notification.message).where(
                    Notification.case_id == case_id, Notification.kind == "return"
                )
            )
        )
    assert len(messages) == 1
    assert "不动产登记" in messages[0]  # the reason is told
    assert ADDRESS not in messages[0] and "13800138000" not in messages[0]
    assert messages[0].count(REDACTED) == 2
    assert open_task(runtime, case_id, "decide_return")


def test_a_scenario_fails_when_a_notification_carries_personal_data(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check every scenario run makes bites: without the redaction, a typed phone number is caught."""
    scenario = json.loads((SCENARIO_DIR / "10_return_accepted.json").read_text(encoding="utf-8"))
    text = json.dumps(scenario, ensure_ascii=False).replace(
        "不属于人民调解范围（实施意见第五部分(二)1）。", "不属于人民调解范围，请联系13800138000。"
    )
    changed = tmp_path / "changed.json"
    changed.write_text(text, encoding="utf-8")
    url = None if database_url.startswith("sqlite") else database_url
    assert run_scenario(changed, url).passed  # the redaction keeps the number out

    monkeypatch.setattr(handler_context, "redact", lambda message, known=(): message)
    result = run_scenario(changed, url)
    assert not result.passed
    assert "的通知含有个人信息（手机号码：13800138000）" in result.message
