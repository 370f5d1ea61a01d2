"""审计日志: the audit log searched by case, user, action and period, and the same selection exported as
CSV (UTF-8 with a byte-order mark, so that Excel reads the Chinese; ID numbers and phones masked)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date

from flask import render_template, request
from werkzeug.wrappers import Response

from orchestration.domain.calendar import SHANGHAI
from orchestration.services.admin_audit import AuditFilter, AuditRow
from orchestration.vocabulary import AuditAction
from webapp.admin import bp
from webapp.context import now, services, viewer

Page = str | tuple[str, int] | Response

ACTION_NAMES: dict[str, str] = {
    AuditAction.START: "登记",
    AuditAction.COMPLETE: "办理任务",
    AuditAction.RISK_REPORT: "报告风险",
    AuditAction.TIMER: "期限届满自动处理",
    AuditAction.ERROR: "出错",
    AuditAction.RECOMPUTE: "期限重新计算",
    AuditAction.DEPLOY: "部署流程",
    AuditAction.MIGRATE: "迁移到其他版本",
    AuditAction.SUSPEND: "暂停案件",
    AuditAction.RESUME: "恢复案件",
    AuditAction.RETRY: "重试故障事件",
    AuditAction.CLAIM: "认领任务",
    AuditAction.RELEASE: "释放任务",
    AuditAction.REASSIGN: "改派任务",
    AuditAction.CALENDAR: "修改日历",
    AuditAction.VIEW_PII: "查看完整个人信息",
    AuditAction.DOWNLOAD: "下载附件",
    AuditAction.ANONYMISE: "匿名化",
    AuditAction.PURGE: "删除案件",
    AuditAction.CORRECT_DOCUMENT: "更正文书",
    AuditAction.EXTEND_PETITION: "延长信访办理期限",
    AuditAction.USER_CREATE: "新建用户",
    AuditAction.USER_UPDATE: "修改用户",
    AuditAction.USER_DEACTIVATE: "停用用户",
    AuditAction.USER_REACTIVATE: "重新启用用户",
    AuditAction.PASSWORD_RESET: "重置密码",
    AuditAction.PASSWORD_CHANGE: "修改本人密码",
    AuditAction.LOGIN_FAILURE: "登录失败",
    AuditAction.SESSIONS_END: "结束用户全部登录",
    AuditAction.ORGANISATION_CREATE: "新建机构",
    AuditAction.ORGANISATION: "修改机构",
    AuditAction.ORGANISATION_DELETE: "删除机构",
    AuditAction.REGION_CREATE: "新建区域",
    AuditAction.REGION_UPDATE: "修改区域",
    AuditAction.REGION_DELETE: "删除区域",
    AuditAction.TOKEN_CREATE: "创建接口令牌",
    AuditAction.TOKEN_REVOKE: "吊销接口令牌",
    AuditAction.TERMINATE: "终止案件",
    AuditAction.FIRE_TIMER: "立即触发定时器",
    AuditAction.RESET: "退回到先前环节",
    AuditAction.WITHDRAW_DOCUMENT: "撤回文书",
}
CSV_HEADER = ("编号", "时间（北京时间）", "操作人", "操作", "案件编号", "环节", "详情")


def _date_arg(name: str, errors: dict[str, str]) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = "日期格式应为 2026-11-02"
        return None


def _filters() -> tuple[AuditFilter, dict[str, str]]:
    errors: dict[str, str] = {}
    since, until = _date_arg("since", errors), _date_arg("until", errors)
    action = request.args.get("action") or None
    if action is not None and action not in ACTION_NAMES:
        errors["action"] = "请选择列表中的操作"
    raw_page = request.args.get("page", "")
    page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() and len(raw_page) < 10 else 1
    filters = AuditFilter(
        case_no=request.args.get("case_no") or None,
        actor=request.args.get("actor") or None,
        action=action,
        since=since,
        until=until,
        page=page,
    )
    return filters, errors


def detail_text(detail: dict[str, object]) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)


def _search_page(filters: AuditFilter, errors: dict[str, str]) -> Page:
    found = None if errors else services().audit_log.search(viewer(), filters)
    return (
        render_template(
            "admin/audit.html",
            found=found,
            filters=filters,
            errors=errors,
            actions=ACTION_NAMES,
            detail_text=detail_text,
        ),
        422 if errors else 200,
    )


@bp.get("/audit")
def audit() -> Page:
    return _search_page(*_filters())


@bp.get("/audit.csv")
def audit_export() -> Page:
    filters, errors = _filters()
    if errors:
        return _search_page(filters, errors)
    rows = services().audit_log.export(viewer(), filters)
    name = f"audit-log-{now().astimezone(SHANGHAI):%Y%m%d-%H%M}.csv"
    return Response(
        _csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _csv(rows: Iterable[AuditRow]) -> Iterator[bytes]:
    """The rows as CSV, streamed: the byte-order mark and header first, then a line per event."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(
            (
                row.id,
                f"{row.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}",
                row.actor,
                ACTION_NAMES.get(row.action, row.action),
                row.case_no or "",
                row.task_name or "",
                detail_text(row.detail),
            )
        )
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
