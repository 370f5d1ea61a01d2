"""How values read in the UI: dates as 2026年11月28日 in Asia/Shanghai, due states in colour and words."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask

from orchestration.domain.assignment import ROLE_NAMES
from orchestration.domain.calendar import SHANGHAI
from orchestration.vocabulary import CaseStatus, DueState

OVERDUE, NEAR, NORMAL, DONE = DueState.OVERDUE, DueState.NEAR, DueState.NORMAL, DueState.DONE

DUE_LABELS: dict[str, str] = {OVERDUE: "超期", NEAR: "临期", NORMAL: "正常", DONE: "已结束"}
CASE_STATUS: dict[str, str] = {
    CaseStatus.RUNNING: "办理中",
    CaseStatus.COMPLETED: "已办结",
    CaseStatus.SUSPENDED: "已暂停",
    CaseStatus.TERMINATED: "已终止",
}
OUTCOMES = {"mediated": "调解成功", "terminated": "调解终止", "ordinary": "转信访程序办理"}


def _as_local(value: Any) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        if value.tzinfo is None:  # never stored so; shown as-is rather than guessed
            return value
        return value.astimezone(SHANGHAI)
    if isinstance(value, date):
        return value
    return None


def cn_date(value: Any) -> str:
    local = _as_local(value)
    if local is None:
        return "—" if value in (None, "") else str(value)
    return f"{local.year}年{local.month}月{local.day}日"


def cn_datetime(value: Any) -> str:
    local = _as_local(value)
    if local is None:
        return "—" if value in (None, "") else str(value)
    if not isinstance(local, datetime):
        return cn_date(local)
    return f"{cn_date(local)} {local:%H:%M}"


def iso_date(value: Any) -> str:
    local = _as_local(value)
    if local is None:
        return ""
    return (local.date() if isinstance(local, datetime) else local).isoformat()


def due_words(due: datetime | None, state: str | None, now: datetime) -> str:
    """The due state in words, so colour is never the only signal (colour-blind users, printouts)."""
    if due is None:
        return "无期限"
    if state == DONE:
        return "该环节已结束"
    due_day = due.astimezone(SHANGHAI).date()
    today = now.astimezone(SHANGHAI).date()
    days = (due_day - today).days
    if state == OVERDUE:
        late = -days
        return "超期（今日已过期限）" if late <= 0 else f"超期（已超{late}天）"
    if state == NEAR:
        return (
            "临期（今日到期）"
            if days <= 0
            else ("临期（明日到期）" if days == 1 else f"临期（{days}天后到期）")
        )
    return f"正常（剩余{days}天）"


def seconds(value: float | None) -> str:
    """A duration in words: 45秒, 3分钟, 2小时5分钟, 1天3小时."""
    if value is None:
        return "—"
    total = round(value)
    if total < 60:
        return f"{total}秒"
    minutes, hours, days = total // 60, total // 3600, total // 86400
    if total < 3600:
        return f"{minutes}分钟"
    if total < 86400:
        rest = minutes % 60
        return f"{hours}小时{rest}分钟" if rest else f"{hours}小时"
    rest = hours % 24
    return f"{days}天{rest}小时" if rest else f"{days}天"


def role_name(role: str | None) -> str:
    return ROLE_NAMES.get(role or "", role or "")


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        cn_date=cn_date,
        cn_datetime=cn_datetime,
        iso_date=iso_date,
        role_name=role_name,
        seconds=seconds,
        due_label=lambda state: DUE_LABELS.get(state or "", ""),
        case_status=lambda status: CASE_STATUS.get(status or "", status or ""),
        outcome=lambda outcome: OUTCOMES.get(outcome or "", outcome or ""),
    )
    app.jinja_env.globals.update(due_words=due_words)
