"""The case's history in Chinese, from its audit events (the audit log is the one record of who did what)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestration.domain.access import Disclosure, mask_pii
from orchestration.services.cases import AuditEvent, History
from orchestration.vocabulary import AuditAction
from webapp.forms_ui import Label, describe

PII_VIEWS = {
    "case": "案件页面",
    "document": "文书",
    "attachment": "附件",
    "task": "任务页面",
    "draft": "移送函草稿",
    "dossier": "卷宗",
}


@dataclass(frozen=True)
class Entry:
    at: datetime
    actor: str
    action: str
    text: str
    details: list[tuple[str, str, str]] = field(default_factory=list)
    automatic: str = ""


def _title(event: AuditEvent, titles: Mapping[str, str]) -> str:
    detail_title = event.detail.get("title") if isinstance(event.detail, dict) else None
    return str(detail_title or titles.get(event.task_name or "", event.task_name or ""))


def _text(event: AuditEvent, titles: Mapping[str, str]) -> str:
    detail: dict[str, Any] = event.detail if isinstance(event.detail, dict) else {}
    title = _title(event, titles)
    match event.action:
        case AuditAction.START:
            return "登记信访事项，启动访调对接流程"
        case AuditAction.COMPLETE:
            return f"办理“{title}”"
        case AuditAction.CLAIM:
            return f"认领任务“{title}”"
        case AuditAction.RELEASE:
            return f"释放任务“{title}”" + (
                f"（原认领人：{detail['previous']}）" if detail.get("previous") else ""
            )
        case AuditAction.REASSIGN:
            return f"将任务“{title}”改派给{detail.get('to_name') or detail.get('to') or '他人'}"
        case AuditAction.TIMER:
            fired = "、".join(str(name) for name in detail.get("fired", []))
            return f"期限届满，自动处理：{fired}" if fired else "定时处理"
        case AuditAction.RISK_REPORT:
            return "报告风险（排查预警）"
        case AuditAction.VIEW_PII:
            where = PII_VIEWS.get(str(detail.get("what", "")).split(":")[0], str(detail.get("what", "")))
            return f"查看当事人完整个人信息（{where}）"
        case AuditAction.DOWNLOAD:
            return f"下载附件“{detail.get('filename', '')}”"
        case AuditAction.ANONYMISE:
            return f"保存期限（{detail.get('retention_years', '')}年）届满，当事人个人信息已匿名化"
        case AuditAction.CORRECT_DOCUMENT:
            return (
                f"更正文书：{detail.get('document', '')}取代{detail.get('supersedes', '')}"
                f"（{detail.get('reason', '')}）"
            )
        case AuditAction.EXTEND_PETITION:
            return (
                f"延长信访办理期限至{detail.get('new_deadline', '')[:10]}，出具{detail.get('document', '')}"
                f"（{detail.get('reason', '')}）"
            )
        case AuditAction.ERROR:
            return f"办理出错：{detail.get('message', '')}"
        case AuditAction.MIGRATE:
            moved = "、".join(str(m.get("timer", "")) for m in detail.get("moved", []))
            return f"由流程第{detail.get('from')}版迁移到第{detail.get('to')}版" + (
                f"，重新计算期限：{moved}" if moved else ""
            )
        case _:
            return event.action


def build(
    history: History,
    titles: Mapping[str, str],
    known: Mapping[str, Label],
    attachment_names: Mapping[str, str],
    disclosure: Disclosure,
) -> list[Entry]:
    """Entries oldest first; submitted data is labelled as on the forms and masked as the page is."""
    entries = []
    for event in history.events:
        detail: dict[str, Any] = event.detail if isinstance(event.detail, dict) else {}
        raw_data, raw_steps = detail.get("data"), detail.get("steps")
        submitted: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        if submitted:
            submitted = mask_pii(submitted, disclosure)
        steps: list[Any] = raw_steps if isinstance(raw_steps, list) else []
        entries.append(
            Entry(
                at=event.at,
                actor="系统" if event.actor == "system" else history.names.get(event.actor, event.actor),
                action=event.action,
                text=_text(event, titles),
                details=describe(submitted, list(submitted), known, attachment_names),
                automatic="、".join(str(s) for s in steps),
            )
        )
    return entries


def by_step(
    history: History, entries: list[Entry], titles: Mapping[str, str]
) -> dict[str, tuple[str, list[Entry]]]:
    """The entries about each step of the diagram (its BPMN id -> its title and its entries, oldest first),
    for the viewer's click on a step; the entries are `build`'s, so masked as the page is."""
    steps: dict[str, tuple[str, list[Entry]]] = {}
    for event, entry in zip(history.events, entries, strict=True):
        if event.task_name:
            title = titles.get(event.task_name, event.task_name)
            steps.setdefault(event.task_name, (title, []))[1].append(entry)
    return steps
