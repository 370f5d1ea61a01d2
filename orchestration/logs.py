"""Logging, configured once per process: one line per event, stamped with the request (web) or the worker
it happened in and the case it concerns, plus the step and its duration where the event has them.

The request id, worker id and case number travel in context variables, so code deep down (a handler's
exception, a retry) is stamped without passing them along.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Protocol, TextIO

request_id: ContextVar[str | None] = ContextVar("fangtiao_request_id", default=None)
worker_id: ContextVar[str | None] = ContextVar("fangtiao_worker_id", default=None)
case_no: ContextVar[str | None] = ContextVar("fangtiao_case_no", default=None)

_CONTEXT = {"request_id": request_id, "worker_id": worker_id, "case_no": case_no}
# record attribute -> its name in a line; `step` and `ms` come with the event (logging's `extra`)
FIELDS = {"request_id": "request", "worker_id": "worker", "case_no": "case", "step": "step", "ms": "ms"}


class LogSettings(Protocol):
    """What of orchestration.settings.Settings logging needs (a base module imports no other)."""

    @property
    def log_level(self) -> str | None: ...

    @property
    def log_format(self) -> str: ...


@contextmanager
def bound(var: ContextVar[str | None], value: str | None) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


@contextmanager
def case_scope() -> Iterator[None]:
    """Whatever case number is set inside is forgotten on leaving, so the next transaction on this
    thread (a web server's or the worker's) is not stamped with it."""
    with bound(case_no, case_no.get()):
        yield


def elapsed_ms(started: float) -> float:
    """Milliseconds since `started`, a time.perf_counter() reading."""
    return round((time.perf_counter() - started) * 1000, 1)


def configure(settings: LogSettings, default_level: str = "INFO") -> None:
    """Sets the level and the format of the process's log; calling it again only changes them."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, StderrHandler)), None)
    if handler is None:
        handler = StderrHandler()
        handler.addFilter(_stamp)
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root.setLevel(settings.log_level or default_level)
    # SpiffWorkflow logs every task's change of state at INFO: dozens of lines per step, wanted only
    # when debugging.
    logging.getLogger("spiff").setLevel(logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING)


def _stamp(record: logging.LogRecord) -> bool:
    for name, var in _CONTEXT.items():
        if getattr(record, name, None) is None:
            setattr(record, name, var.get())
    return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    values = {label: getattr(record, name, None) for name, label in FIELDS.items()}
    return {label: value for label, value in values.items() if value is not None}


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """`time LEVEL logger request=… worker=… case=… step=… ms=… message`, a traceback below it."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{label}={value}" for label, value in _fields(record).items())
        line = " ".join(part for part in (_time(record), record.levelname, record.name, fields) if part)
        line = f"{line} {record.getMessage()}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line, the traceback (if any) a field of it, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            **_fields(record),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is when a line is written, not when the handler was made: a process
    configures logging once, while test runners replace sys.stderr for each test."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass
