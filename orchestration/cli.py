"""The `fangtiao` command: database, deployment, demo data, cases and tasks, timers, scenarios."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestration import demo, migrate
from orchestration.clock import SHANGHAI
from orchestration.db import database_url, make_engine, make_session_factory
from orchestration.errors import FangtiaoError, InvalidData
from orchestration.models import Case, OpenTask, User
from orchestration.runtime import Actor, Runtime
from orchestration.specs import DeployError

USAGE_ERROR = 2


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
    if not isinstance(value, dict):
        raise CommandError("JSON 数据必须是一个对象（{...}）")
    return value


def _user(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        raise CommandError(f"未知用户：{username}")
    return Actor.of(user)


def _case(session: Session, case_no: str) -> Case:
    case = session.scalar(select(Case).where(Case.case_no == case_no))
    if case is None:
        raise CommandError(f"未知案件：{case_no}")
    return case


def _open_task(session: Session, case: Case, task: str) -> OpenTask:
    rows = list(session.scalars(select(OpenTask).where(OpenTask.case_id == case.id)))
    matches = [r for r in rows if task in (r.id, r.task_name)]
    if len(matches) != 1:
        current = "、".join(f"{r.task_name}（{r.title}）" for r in rows) or "无"
        raise CommandError(f"案件 {case.case_no} 没有待办任务“{task}”；当前待办：{current}")
    return matches[0]


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _runtime(args: argparse.Namespace) -> Runtime:
    return Runtime(make_session_factory(make_engine(args.database)))


def cmd_migrate(args: argparse.Namespace) -> None:
    migrate.upgrade(make_engine(args.database))
    print("数据库已升级到最新版本")


def cmd_deploy(args: argparse.Namespace) -> None:
    version, created = _runtime(args).deploy()
    print(
        f"已部署版本 {version.id}（{version.content_hash[:12]}）"
        if created
        else f"流程文件未变化，当前版本 {version.id}"
    )


def cmd_seed_demo(args: argparse.Namespace) -> None:
    sessions = make_session_factory(make_engine(args.database))
    with sessions() as session, session.begin():
        added = demo.seed(session)
    print("已写入演示数据" if added else "演示数据已存在")


def cmd_start(args: argparse.Namespace) -> None:
    runtime = _runtime(args)
    data = _json_arg(args.data)
    with runtime.sessions() as session:
        actor = _user(session, args.as_user)
    case = runtime.start_case(data, actor)
    print(case.case_no)


def cmd_tasks(args: argparse.Namespace) -> None:
    runtime = _runtime(args)
    with runtime.sessions() as session:
        actor = _user(session, args.as_user)
        tasks = runtime.tasks_for(session, actor)
        _print(
            [
                {
                    "case": t.case.case_no,
                    "task": t.task_name,
                    "title": t.title,
                    "id": t.id,
                    "due": t.due_at.astimezone(SHANGHAI).isoformat() if t.due_at else None,
                }
                for t in tasks
            ]
        )


def cmd_complete(args: argparse.Namespace) -> None:
    runtime = _runtime(args)
    data = _json_arg(args.data)
    with runtime.sessions() as session:
        actor = _user(session, args.as_user)
        case = _case(session, args.case)
        task = _open_task(session, case, args.task)
    runtime.complete_task(case.id, task.id, data, actor)
    print(f"已办理：{case.case_no} {task.title}")


def cmd_report_risk(args: argparse.Namespace) -> None:
    runtime = _runtime(args)
    data = _json_arg(args.data)
    with runtime.sessions() as session:
        actor = _user(session, args.as_user)
        case = _case(session, args.case)
    runtime.report_risk(case.id, data, actor)
    print(f"已报告风险：{case.case_no}")


def cmd_timers(args: argparse.Namespace) -> None:
    print(f"已触发 {_runtime(args).run_due_timers(limit=args.limit)} 个到期定时器")


def cmd_scenario(args: argparse.Namespace) -> int:
    from orchestration.scenarios import default_files, run_files

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
    from orchestration import bpmn_layout

    return bpmn_layout.main(args.files)


def cmd_serve(args: argparse.Namespace) -> None:
    from webapp import create_app

    app = create_app({"DATABASE_URL": args.database})
    app.run(host=args.host, port=args.port)


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
    command("deploy", cmd_deploy, "部署 processes/ 中的流程文件")
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
    p = command("timers", cmd_timers, "触发一次所有到期的定时器")
    p.add_argument("--limit", type=int, default=1000)
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.database_given = args.database is not None
    args.database = args.database or database_url()
    try:
        result = args.func(args)
    except CommandError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return USAGE_ERROR
    except InvalidData as exc:
        details = "；".join(f"{k}：{v}" for k, v in exc.errors.items())
        print(f"错误：{exc.message}{'（' + details + '）' if details else ''}", file=sys.stderr)
        return USAGE_ERROR
    except (FangtiaoError, DeployError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return USAGE_ERROR
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
