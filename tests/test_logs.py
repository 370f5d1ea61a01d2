"""The log: one line per committed step with the request or worker, the case, the step and the time taken;
a handler's fault with its traceback (which the user never sees), a handler's refusal without one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from handlers import api
from orchestration import logs
from orchestration.engine.clock import SHANGHAI, FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.settings import Settings
from orchestration.store.models import Case
from tests.helpers import advance_to, start

Entries = Callable[[], list[dict[str, Any]]]
# the warning of the mediation deadline is due then, the deadline itself not yet (see test_worker.py)
WARNING_DUE = datetime(2026, 11, 17, 8, 0, tzinfo=SHANGHAI)


def case_no(runtime: Runtime, case_id: int) -> str:
    with runtime.sessions() as session:
        number = session.scalar(select(Case.case_no).where(Case.id == case_id))
        assert number is not None
        return number


def test_each_committed_step_is_one_line_with_request_case_step_and_time(
    runtime: Runtime, log_entries: Entries
) -> None:
    with logs.bound(logs.request_id, "req-0001"):
        case_id = start(runtime)
        advance_to(runtime, case_id, "guide_divert")
    entries = log_entries()
    steps = [e for e in entries if e["logger"] == "fangtiao.runtime"]
    # the engine's own trace (a line per task state) stays out at INFO
    assert steps and not [e for e in entries if e["logger"].startswith("spiff")]
    number = case_no(runtime, case_id)
    assert [(e["level"], e["message"], e["step"], e["case"], e["request"]) for e in steps] == [
        ("INFO", "已提交：start", "register", number, "req-0001"),
        ("INFO", "已提交：complete", "screen_case", number, "req-0001"),
    ]
    assert all(isinstance(e["ms"], float) and e["ms"] > 0 for e in steps)
    assert "worker" not in steps[0]
    # the case number was the step's own: nothing after it is stamped with it
    assert logs.case_no.get() is None


def test_a_timer_firing_is_logged_with_the_worker_and_the_timers(
    runtime: Runtime, clock: FrozenClock, log_entries: Entries
) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    log_entries()
    clock.set(WARNING_DUE)
    with logs.bound(logs.worker_id, "w-test"):
        assert runtime.run_due_timers() == 1
    [entry] = [e for e in log_entries() if e["logger"] == "fangtiao.runtime"]
    assert (entry["message"], entry["step"], entry["case"], entry["worker"]) == (
        "已提交：timer",
        "调解期限临近",
        case_no(runtime, case_id),
        "w-test",
    )


def test_a_handler_fault_is_logged_with_its_traceback_and_the_user_gets_a_message(
    runtime: Runtime, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, log_entries: Entries
) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")

    def broken_notifier(ctx: object, **params: object) -> dict[str, object]:
        raise RuntimeError("通知服务不可用")

    monkeypatch.setitem(api.OPERATIONS, "fangtiao/warn_mediation_deadline", broken_notifier)
    clock.set(WARNING_DUE)
    log_entries()
    with logs.bound(logs.worker_id, "w-test"):
        result = runtime.fire_next()
    assert result is not None and result.error is not None and "通知服务不可用" in result.error
    assert "Traceback" not in result.error
    [entry] = [e for e in log_entries() if e["level"] == "ERROR"]
    assert entry["logger"] == "fangtiao.runtime" and "通知服务不可用" in entry["message"]
    assert (entry["case"], entry["worker"]) == (case_no(runtime, case_id), "w-test")
    assert entry["step"]  # the service task that called the handler
    # the handler's own frame and exception, not the engine's wrapper
    assert "in broken_notifier" in entry["traceback"]
    assert entry["traceback"].rstrip().endswith("RuntimeError: 通知服务不可用")


def test_a_handler_refusal_is_logged_without_a_traceback(
    runtime: Runtime, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, log_entries: Entries
) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")

    def refusing(ctx: object, **params: object) -> dict[str, object]:
        raise api.HandlerError("本案不予提醒")

    monkeypatch.setitem(api.OPERATIONS, "fangtiao/warn_mediation_deadline", refusing)
    clock.set(WARNING_DUE)
    log_entries()
    result = runtime.fire_next()
    assert result is not None and result.error == "本案不予提醒"
    [entry] = [e for e in log_entries() if "本案不予提醒" in e["message"]]
    assert entry["level"] == "INFO" and "traceback" not in entry


def test_configure_twice_keeps_one_handler_and_the_text_format_has_the_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    others = [h for h in handlers if not isinstance(h, logs.StderrHandler)]
    try:
        root.handlers[:] = others
        logs.configure(Settings.from_env({}, log_format="json"))
        logs.configure(Settings.from_env({}, log_level="DEBUG"))
        [ours] = [h for h in root.handlers if h not in others]
        assert isinstance(ours, logs.StderrHandler) and len(root.handlers) == len(others) + 1
        assert root.level == logging.DEBUG
        capsys.readouterr()
        with logs.bound(logs.request_id, "req-9"), logs.bound(logs.case_no, "FT2026-000001"):
            logging.getLogger("fangtiao.test").warning("你好", extra={"step": "screen_case", "ms": 1.5})
        line = capsys.readouterr().err.strip()
        assert line.endswith(
            " WARNING fangtiao.test request=req-9 case=FT2026-000001 step=screen_case ms=1.5 你好"
        ), line
        assert datetime.fromisoformat(line.split(" ", 1)[0]).tzinfo is not None
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


def test_one_shot_commands_default_to_warnings_and_long_running_ones_to_info() -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        logs.configure(Settings.from_env({}), default_level="WARNING")
        assert root.level == logging.WARNING
        logs.configure(Settings.from_env({"FANGTIAO_LOG_LEVEL": "info"}), default_level="WARNING")
        assert root.level == logging.INFO
        logs.configure(Settings.from_env({}))
        assert root.level == logging.INFO
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
