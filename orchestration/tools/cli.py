"""The `fangtiao` command: database, deployment, demo data, cases and tasks, timers, scenarios."""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from orchestration import logs
from orchestration.domain import text_input
from orchestration.domain.access import Viewer
from orchestration.domain.forms import FormDefinition, Upload
from orchestration.domain.procedure import DeployError, write_directories
from orchestration.engine.clock import SHANGHAI
from orchestration.engine.specs import PROCESS_ID
from orchestration.errors import FangtiaoError, InvalidData
from orchestration.read.queries import MAX_PER_PAGE, TaskFilter
from orchestration.services import Services, demo
from orchestration.settings import Settings, SettingsError
from orchestration.store import migrate
from orchestration.store.db import error_summary, make_engine, make_session_factory
from orchestration.store.models import OpenTask

USAGE_ERROR = 2
INT32_MAX = 2**31 - 1  # the largest id of an INTEGER column (PostgreSQL)
# Commands that run until stopped log at INFO by default; the others print their result and log only
# warnings and errors unless FANGTIAO_LOG_LEVEL says otherwise.
LONG_RUNNING = ("worker", "serve", "demo")


class CommandError(Exception):
    """Bad input on the command line: one line to stderr, exit status 2."""


def _json_arg(text: str) -> Any:
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"无法读取文件 {text[1:]}：{exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"无法读取文件 {text[1:]}：不是 UTF-8 编码") from exc
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"JSON 格式错误（第{exc.lineno}行第{exc.colno}列）：{exc.msg}") from exc
    except (RecursionError, ValueError) as exc:  # nested beyond the parser, an integer too long to read
        raise CommandError(
            f"JSON 无法读取：嵌套过深（最多 {text_input.MAX_JSON_DEPTH} 层）或数字过长"
        ) from exc
    try:
        text_input.check(value)
    except text_input.UnusableInput as exc:
        raise CommandError(str(exc)) from exc
    if not isinstance(value, dict):
        raise CommandError("JSON 数据必须是一个对象（{...}）")
    return value


def _uploads(form: FormDefinition, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Upload]]]:
    """A file field takes only files stored with the case: on the command line its values are the paths
    of the files to upload with the step ("consent_documents": ["scans/同意书.pdf"])."""
    rest = dict(data)
    files: dict[str, list[Upload]] = {}
    for form_field in form.fields:
        if form_field.widget != "file" or form_field.name not in rest:
            continue
        paths = rest.pop(form_field.name)
        paths = paths if isinstance(paths, list) else [paths]
        files[form_field.name] = []
        for raw in paths:
            path = Path(str(raw))
            try:
                content = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"{form_field.label}：无法读取文件 {raw}（{exc.strerror}）") from exc
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            files[form_field.name].append(Upload(path.name, kind, content))
    return rest, files


def _user(services: Services, username: str) -> Viewer:
    user = services.users.viewer(username)
    if user is None:
        raise CommandError(f"未知用户：{username}")
    return user


def _open_task(services: Services, case_no: str, task: str) -> OpenTask:
    rows = services.cases.open_tasks(case_no)
    matches = [r for r in rows if task in (r.id, r.task_name)]
    if len(matches) != 1:
        current = "、".join(f"{r.task_name}（{r.title}）" for r in rows) or "无"
        raise CommandError(f"案件 {case_no} 没有待办任务“{task}”；当前待办：{current}")
    return matches[0]


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _services(args: argparse.Namespace) -> Services:
    return Services.open(args.settings)


def cmd_migrate(args: argparse.Namespace) -> None:
    migrate.upgrade(make_engine(args.database))
    print("数据库已升级到最新版本")


def cmd_db(args: argparse.Namespace) -> None:
    path = migrate.revision(make_engine(args.database), args.message)
    print(f"已生成迁移：{path}" if path else "模型与数据库一致，无需新迁移")


def cmd_deploy(args: argparse.Namespace) -> int:
    """Deploys the processes and forms folders through the same checks as a draft in the browser."""
    try:
        version, created, findings = _services(args).admin.deploy()
    except DeployError as exc:
        if not exc.findings:
            raise
        errors = [f for f in exc.findings if f.severity == "error"]
        print(f"错误：流程检查发现 {len(errors)} 处错误，未部署", file=sys.stderr)
        for finding in exc.findings:
            kind = "错误" if finding.severity == "error" else "提示"
            print(f"  {kind} {finding.where()}：{finding.message}", file=sys.stderr)
        return USAGE_ERROR
    print(
        f"已部署第 {version.number} 版（版本 {version.id}，{version.content_hash[:12]}）"
        if created
        else f"流程文件未变化，当前为第 {version.number} 版（版本 {version.id}）"
    )
    for finding in findings:
        print(f"  提示 {finding.where()}：{finding.message}")
    return 0


def cmd_export(args: argparse.Namespace) -> None:
    """Writes a version's files as processes/… and forms/… under DIR, to review and commit them."""
    files = _services(args).admin.version_files(args.process, args.version)
    written, removed = write_directories(files, Path(args.dir))
    print(f"已导出第 {args.version} 版的 {len(written)} 个文件到 {args.dir}")
    for path in removed:
        print(f"  已删除该版本中没有的文件：{path}")


def cmd_seed_demo(args: argparse.Namespace) -> None:
    sessions = make_session_factory(make_engine(args.database))
    with sessions() as session, session.begin():
        added = demo.seed(session)
    print("已写入演示数据" if added else "演示数据已存在")


def cmd_start(args: argparse.Namespace) -> None:
    services = _services(args)
    data = _json_arg(args.data)
    print(services.cases.register(_user(services, args.as_user), data).case_no)


def cmd_tasks(args: argparse.Namespace) -> None:
    services = _services(args)
    listing = services.tasks.inbox(_user(services, args.as_user), TaskFilter(per_page=MAX_PER_PAGE))
    _print(
        [
            {
                "case": t.case.case_no,
                "task": t.task_name,
                "title": t.title,
                "id": t.id,
                "due": t.due_at.astimezone(SHANGHAI).isoformat() if t.due_at else None,
            }
            for t in listing.tasks.page.items
        ]
    )


def cmd_complete(args: argparse.Namespace) -> None:
    services = _services(args)
    data = _json_arg(args.data)
    user = _user(services, args.as_user)
    task = _open_task(services, args.case.upper(), args.task)
    data, files = _uploads(services.tasks.page(user, task.id).form, data)
    done = services.tasks.complete(user, task.id, data, None, files or None)
    print(f"已办理：{done.case_no} {task.title}")


def cmd_report_risk(args: argparse.Namespace) -> None:
    services = _services(args)
    data = _json_arg(args.data)
    done = services.cases.report_risk(_user(services, args.as_user), args.case, data)
    print(f"已报告风险：{done.case_no}")


def cmd_extend_petition(args: argparse.Namespace) -> None:
    services = _services(args)
    done = services.petitions.extend(_user(services, args.as_user), args.case, args.reason)
    day = done.new_deadline.astimezone(SHANGHAI)
    when = f"{day.year}年{day.month}月{day.day}日"
    print(f"已延长：{done.case_no} 信访办理期限至{when}，延期告知书 {done.document}")


def cmd_timers(args: argparse.Namespace) -> None:
    print(f"已触发 {_services(args).admin.fire_due_timers(limit=args.limit)} 个到期定时器")


def cmd_worker(args: argparse.Namespace) -> None:
    from orchestration.engine.worker import TimerWorker

    worker = TimerWorker(_services(args).runtime, poll_seconds=args.settings.worker_poll_seconds)
    worker.stop_on_signals()
    worker.run()
    print(f"定时器工作进程已停止：触发 {worker.stats.fired} 个，失败 {worker.stats.failed} 次")


def cmd_calendar(args: argparse.Namespace) -> None:
    from orchestration.services.calendar_admin import parse_schedule

    services = _services(args)
    if args.action == "show":
        view = services.calendar.year(args.year)
        print(f"{args.year}年：{'估算（未载入国务院正式安排）' if view.estimated else '正式安排'}")
        for row in view.days:
            kind = "上班" if row.working else "休息"
            print(f"{row.day.isoformat()} {kind} {row.name or row.note} [{row.source}]")
        return
    admin = _user(services, args.as_user)
    if args.action == "set":
        try:
            day = date.fromisoformat(args.date)
        except ValueError as exc:
            raise CommandError(f"日期格式错误：{args.date}（应为 2027-02-20）") from exc
        result = services.calendar.set_day(admin, day, args.kind == "work", args.note)
    else:
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取日历文件 {args.file}：{exc}") from exc
        result = services.calendar.load_year(admin, args.year, parse_schedule(args.year, text))
    print(f"日历已更新；重新计算了 {result.cases} 个案件的期限，{result.moved} 个期限变动")


def cmd_org(args: argparse.Namespace) -> None:
    services = _services(args)
    if args.action == "show":
        _print([vars(o) for o in services.people.organisations()])
        return
    settings = services.people.set_document_settings(
        _user(services, args.as_user), args.code, args.prefix, args.seal, args.court
    )
    _print(vars(settings))


def cmd_dossier(args: argparse.Namespace) -> None:
    from webapp.dossier import dossier_pdf  # WeasyPrint is loaded only by the command that needs it

    services = _services(args)
    started = time.perf_counter()
    pdf = dossier_pdf(services.documents.dossier(_user(services, args.as_user), args.case))
    try:
        Path(args.output).write_bytes(pdf)
    except OSError as exc:
        raise CommandError(f"无法写入 {args.output}：{exc.strerror}") from exc
    print(f"卷宗已导出：{args.output}（{len(pdf)} 字节，用时 {time.perf_counter() - started:.2f} 秒）")


def cmd_incidents(args: argparse.Namespace) -> None:
    services = _services(args)
    if args.retry is not None:
        if not 1 <= args.retry <= INT32_MAX:
            raise CommandError(f"事件不存在：{args.retry}")
        services.admin.retry_incident(_user(services, args.as_user), args.retry)
        print(f"已重新安排事件 {args.retry}")
        return
    _print(
        [
            {"id": i.id, "case_id": i.case_id, "kind": i.kind, "message": i.message, "at": i.created_at}
            for i in services.admin.incidents()
        ]
    )


def cmd_suspend(args: argparse.Namespace) -> None:
    services = _services(args)
    suspend = args.command == "suspend"
    services.admin.set_suspended(_user(services, args.as_user), args.case, suspend)
    print(f"案件 {args.case} 已{'暂停' if suspend else '恢复'}")


def cmd_token(args: argparse.Namespace) -> None:
    """Integration tokens for /api/v1: the secret is printed once, at creation, and never again."""
    services = _services(args)
    admin = _user(services, args.as_user)
    if args.action == "create":
        made = services.api_tokens.create(admin, args.user, args.name, args.days)
        expires = f"{made.info.expires_at:%Y-%m-%d %H:%M} UTC"
        print(f"令牌 {made.info.id}（{made.info.name}）已创建，有效期至 {expires}")
        print("令牌只显示这一次，请立即妥善保存：")
        print(made.secret)
    elif args.action == "list":
        _print(
            [
                {
                    "id": t.id,
                    "name": t.name,
                    "prefix": t.prefix,
                    "user": t.username,
                    "role": t.role,
                    "organisation": t.org_name,
                    "state": t.state,
                    "expires_at": t.expires_at.isoformat(),
                    "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
                }
                for t in services.api_tokens.tokens(admin)
            ]
        )
    else:
        revoked = services.api_tokens.revoke(admin, args.id)
        print(f"令牌 {revoked.id}（{revoked.name}）已吊销")


def cmd_retention(args: argparse.Namespace) -> int:
    from orchestration.services.retention import RetentionMode

    services = _services(args)
    years = args.settings.retention_years
    if args.apply is not None and args.as_user is None:
        raise CommandError("匿名化或删除须以系统管理员身份执行：请加 --as 管理员用户名")
    user = _user(services, args.as_user) if args.as_user is not None else None
    report = services.retention.report(years, user)
    cutoff = report.cutoff.astimezone(SHANGHAI)
    print(
        f"保存期限：结案后{years}年（FANGTIAO_RETENTION_YEARS）；"
        f"{cutoff.year}年{cutoff.month}月{cutoff.day}日及以前结案的案件已届满"
    )
    notice = services.notices.current(services.clock.now().astimezone(SHANGHAI).date())
    if notice.retention_years != years:
        print(
            f"注意：现行个人信息处理告知书（{notice.label}）告知的保存期限为{notice.retention_years}年，"
            "与设定不一致；请发布新版告知书或调整设定"
        )
    if report.oldest_case_no is None or report.oldest_closed_at is None:
        print("已届满、尚未处理的案件：0 件")
        return 0
    closed = report.oldest_closed_at.astimezone(SHANGHAI)
    print(
        f"已届满、尚未处理的案件：{report.count} 件；最早：{report.oldest_case_no}"
        f"（{closed.year}年{closed.month}月{closed.day}日结案）"
    )
    if args.apply is None:
        print("加 --apply anonymise（匿名化）或 --apply purge（删除）并以 --as 管理员 执行处理")
        return 0
    assert user is not None
    outcomes = services.retention.apply(user, years, RetentionMode(args.apply))
    verb = "已匿名化" if args.apply == RetentionMode.ANONYMISE else "已删除"
    for outcome in outcomes:
        print(
            f"{verb}：{outcome.case_no}"
            if outcome.done
            else f"处理失败：{outcome.case_no}（{outcome.error}）"
        )
    failed = sum(not o.done for o in outcomes)
    print(f"共处理 {len(outcomes) - failed} 件，失败 {failed} 件")
    return 1 if failed else 0


def cmd_scenario(args: argparse.Namespace) -> int:
    from orchestration.services.scenarios import default_files, run_files

    files = [Path(f) for f in args.files] or default_files()
    if args.database_given and not args.database.startswith("sqlite") and not args.wipe:
        raise CommandError("场景运行会清空所给数据库中的全部数据；确认无误请加 --wipe")
    results = run_files(files, args.database if args.database_given else None)
    for result in results:
        print(result.line())
    failed = sum(not r.passed for r in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def cmd_layout(args: argparse.Namespace) -> int:
    from orchestration.tools import layout

    return layout.main(args.files)


def cmd_serve(args: argparse.Namespace) -> None:
    import threading

    from werkzeug.serving import WSGIRequestHandler

    from orchestration.engine.worker import TimerWorker
    from webapp import create_app

    class QuietRequestHandler(WSGIRequestHandler):
        """The app logs each request itself, with its request id; werkzeug's own line would repeat it."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass

    app = create_app(settings=args.settings)
    if not args.no_worker:
        # One worker beside the web app, so timers fire with no extra set-up (SQLite allows one).
        worker = TimerWorker(_services(args).runtime, poll_seconds=args.settings.worker_poll_seconds)
        threading.Thread(target=worker.run, name="timer-worker", daemon=True).start()
    app.run(host=args.host, port=args.port, request_handler=QuietRequestHandler)


def cmd_demo(args: argparse.Namespace) -> None:
    cmd_migrate(args)
    cmd_seed_demo(args)
    cmd_deploy(args)
    cmd_serve(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fangtiao", description="访调通：访调对接流程系统")
    parser.add_argument(
        "--database", default=None, help="数据库地址（默认环境变量 FANGTIAO_DATABASE_URL 或内置 SQLite）"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, func: Any, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.set_defaults(func=func)
        return p

    command("migrate", cmd_migrate, "创建或升级数据库")
    p = command("db", cmd_db, "开发者用：数据库迁移")
    db_sub = p.add_subparsers(dest="db_command", required=True)
    revision = db_sub.add_parser("revision", help="按模型与（已升级到最新的）数据库之差生成下一个迁移文件")
    revision.add_argument("-m", "--message", required=True, help="迁移说明（英文，用作文件名）")
    command("deploy", cmd_deploy, "检查并部署 processes/ 与 forms/ 中的流程文件、场景和表单")
    p = command("export", cmd_export, "把某一版本的流程文件、场景和表单导出为 processes/ 与 forms/ 目录")
    p.add_argument("version", type=int, help="版本序号（第几版）")
    p.add_argument("dir", help="导出到的目录（其中的 processes/ 与 forms/）")
    p.add_argument("--process", default=PROCESS_ID, help=f"流程标识（默认 {PROCESS_ID}）")
    command("seed-demo", cmd_seed_demo, "写入演示数据")
    p = command("start", cmd_start, "登记信访事项并启动流程")
    p.add_argument("--as", dest="as_user", required=True)
    p.add_argument("data", help="JSON 对象，@文件 或 - 表示标准输入")
    p = command("tasks", cmd_tasks, "列出用户的待办任务")
    p.add_argument("--as", dest="as_user", required=True)
    p = command("complete", cmd_complete, "以某用户身份办理任务")
    p.add_argument("--as", dest="as_user", required=True)
    p.add_argument("case", help="案件编号")
    p.add_argument("task", help="任务编号或任务名（如 screen_case）")
    p.add_argument("data", help="JSON 对象，@文件 或 - 表示标准输入")
    p = command("report-risk", cmd_report_risk, "调解期间报告风险")
    p.add_argument("--as", dest="as_user", required=True)
    p.add_argument("case")
    p.add_argument("data")
    p = command("extend-petition", cmd_extend_petition, "分管领导批准延长信访办理期限30日（出具延期告知书）")
    p.add_argument("--as", dest="as_user", required=True)
    p.add_argument("case")
    p.add_argument("reason")
    p = command("timers", cmd_timers, "触发一次所有到期的定时器")
    p.add_argument("--limit", type=int, default=1000)
    p = command("worker", cmd_worker, "定时器工作进程：按时触发到期定时器，直到收到 SIGTERM")
    p.add_argument(
        "--poll", type=float, default=None, help="最长轮询间隔（秒；默认 FANGTIAO_WORKER_POLL 或 0.5）"
    )
    p = command("calendar", cmd_calendar, "工作日日历：查看、设置某日、载入某年正式安排")
    cal = p.add_subparsers(dest="action", required=True)
    c = cal.add_parser("show")
    c.add_argument("year", type=int)
    c = cal.add_parser("set")
    c.add_argument("--as", dest="as_user", required=True)
    c.add_argument("date")
    c.add_argument("kind", choices=["work", "rest"])
    c.add_argument("--note", default="")
    c = cal.add_parser("load")
    c.add_argument("--as", dest="as_user", required=True)
    c.add_argument("year", type=int)
    c.add_argument(
        "file", help='JSON：{"holidays": {"2027-01-01": "元旦"}, "workdays": {"2027-02-20": "春节调休"}}'
    )
    p = command("org", cmd_org, "机构的文书设置：文号前缀、印章名称、所在地基层人民法院")
    org = p.add_subparsers(dest="action", required=True)
    org.add_parser("show")
    o = org.add_parser("set")
    o.add_argument("--as", dest="as_user", required=True)
    o.add_argument("code", help="机构代码，如 540102001-tw")
    o.add_argument("--prefix", default=None, help="文号前缀，如 城八 → (2026)城八人调字第1号")
    o.add_argument("--seal", default=None, help="印章上的名称（与机构名称不同时）")
    o.add_argument("--court", default=None, help="机构所在地的基层人民法院（司法确认告知用）")
    p = command("dossier", cmd_dossier, "把案件卷宗导出为一个 PDF 文件")
    p.add_argument("--as", dest="as_user", required=True)
    p.add_argument("case")
    p.add_argument("output")
    p = command("incidents", cmd_incidents, "列出未处理的失败事件，或重新安排一个")
    p.add_argument("--retry", type=int, default=None)
    p.add_argument("--as", dest="as_user", default="admin")
    for name in ("suspend", "resume"):
        p = command(
            name, cmd_suspend, "暂停案件（定时器一并暂停）" if name == "suspend" else "恢复暂停的案件"
        )
        p.add_argument("--as", dest="as_user", required=True)
        p.add_argument("case")
    p = command("token", cmd_token, "接口（/api/v1）令牌：创建、列出、吊销")
    tok = p.add_subparsers(dest="action", required=True)
    t = tok.add_parser("create", help="以某用户的身份、机构和角色创建令牌（只显示一次）")
    t.add_argument("--as", dest="as_user", required=True, help="系统管理员")
    t.add_argument("--user", required=True, help="令牌代表的用户")
    t.add_argument("--name", required=True, help="令牌名称，如“省信访信息系统”")
    t.add_argument("--days", type=int, default=90, help="有效天数（默认 90，最多 366）")
    t = tok.add_parser("list", help="列出全部令牌")
    t.add_argument("--as", dest="as_user", required=True, help="系统管理员")
    t = tok.add_parser("revoke", help="吊销令牌")
    t.add_argument("--as", dest="as_user", required=True, help="系统管理员")
    t.add_argument("id", type=int, help="令牌编号")
    p = command("retention", cmd_retention, "报告超过保存期限的已结案案件；--apply 匿名化或删除")
    p.add_argument(
        "--apply", choices=["anonymise", "purge"], default=None, help="anonymise 匿名化，purge 删除"
    )
    p.add_argument("--as", dest="as_user", default=None, help="系统管理员（--apply 时必填）")
    p = command("scenario", cmd_scenario, "运行流程场景")
    p.add_argument("action", choices=["run"])
    p.add_argument("files", nargs="*")
    p.add_argument("--wipe", action="store_true", help="允许清空 --database 所给的数据库来运行场景")
    p = command("layout", cmd_layout, "为 BPMN 文件生成图形布局（BPMN DI）")
    p.add_argument("files", nargs="+")
    for name, func, help in (
        ("serve", cmd_serve, "启动网页服务"),
        ("demo", cmd_demo, "初始化演示数据并启动网页服务"),
    ):
        p = command(name, func, help)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=5000)
        p.add_argument("--no-worker", action="store_true", help="不在同一进程中运行定时器工作进程")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    # an argument no field can hold (NUL; an undecodable byte, which Python turns into a lone surrogate)
    # would fail only in the database driver
    if any(text_input.unusable(argument) for argument in arguments):
        print(f"错误：命令行参数{text_input.UNUSABLE_MESSAGE}", file=sys.stderr)
        return USAGE_ERROR
    args = build_parser().parse_args(arguments)
    args.database_given = args.database is not None
    overrides = {"database_url": args.database, "worker_poll_seconds": getattr(args, "poll", None)}
    try:
        args.settings = Settings.from_env(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return USAGE_ERROR
    logs.configure(args.settings, default_level="INFO" if args.command in LONG_RUNNING else "WARNING")
    args.database = args.settings.database_url
    try:
        result = args.func(args)
    except CommandError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return USAGE_ERROR
    except InvalidData as exc:
        details = "；".join(f"{k}：{v}" for k, v in exc.errors.items())
        print(f"错误：{exc.message}{'（' + details + '）' if details else ''}", file=sys.stderr)
        return USAGE_ERROR
    except FangtiaoError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return USAGE_ERROR
    except (DBAPIError, OSError) as exc:
        # a database that cannot be reached or opened: its own first line, without the statement
        print(
            f"错误：数据库无法连接或无法打开（{args.settings.database_url.split('@')[-1]}）：{error_summary(exc)}",
            file=sys.stderr,
        )
        return USAGE_ERROR
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
