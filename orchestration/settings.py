"""The configuration of a process, read once from the environment (FANGTIAO_*) by whoever starts it: the web
app factory, the `fangtiao` command, the worker and the benches. Nothing else reads os.environ for it."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]

LOG_FORMATS = ("text", "json")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


# the variable of the environment for each setting
VARIABLES = {
    "database_url": "FANGTIAO_DATABASE_URL",
    "instance_path": "FANGTIAO_INSTANCE_PATH",
    "secret_key": "FANGTIAO_SECRET_KEY",
    "secure_cookies": "FANGTIAO_SECURE_COOKIES",
    "processes_dir": "FANGTIAO_PROCESSES_DIR",
    "forms_dir": "FANGTIAO_FORMS_DIR",
    "log_level": "FANGTIAO_LOG_LEVEL",
    "log_format": "FANGTIAO_LOG_FORMAT",
    "worker_poll_seconds": "FANGTIAO_WORKER_POLL",
    "retention_years": "FANGTIAO_RETENTION_YEARS",
    "session_hours": "FANGTIAO_SESSION_HOURS",
    "login_max_failures": "FANGTIAO_LOGIN_MAX_FAILURES",
    "login_max_failures_per_address": "FANGTIAO_LOGIN_MAX_FAILURES_PER_ADDRESS",
    "login_lockout_minutes": "FANGTIAO_LOGIN_LOCKOUT_MINUTES",
    "collective_headcount": "FANGTIAO_COLLECTIVE_HEADCOUNT",
}
# the settings that are whole positive numbers
_COUNTS = (
    "session_hours",
    "login_max_failures",
    "login_max_failures_per_address",
    "login_lockout_minutes",
    "collective_headcount",
)


class SettingsError(ValueError):
    """A variable of the environment that cannot be used; the message names it."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    instance_path: Path = PROJECT_ROOT / "instance"
    # None: the web app generates one into the instance folder (see webapp/settings.py)
    secret_key: str | None = field(default=None, repr=False)
    # Behind HTTPS only: the embedded demo runs on plain http://127.0.0.1, where a Secure cookie would never
    # be sent back.
    secure_cookies: bool = False
    processes_dir: Path = PROJECT_ROOT / "processes"
    forms_dir: Path = PROJECT_ROOT / "forms"
    # None: INFO for the web app, the worker and `serve`; WARNING for the one-shot commands, whose result is
    # the line they print.
    log_level: str | None = None
    log_format: str = "text"
    worker_poll_seconds: float = 0.5
    # How long the personal data of a closed case is kept before `fangtiao retention` may anonymise or
    # purge it: the shorter fixed period (定期10年) of the archive rules for organs' records (国家档案局令
    # 第8号 art 6), since no rule fixes one for 人民调解卷宗; the privacy notice states the same period.
    retention_years: int = 10
    # A signed-in session ends this many hours after the login, however busy it is (the absolute lifetime).
    session_hours: int = 8
    # Failed logins within the lockout window that lock a name typed (whether it exists or not) or an
    # address (the client's, as the app server sees it: behind a proxy, configure it to pass the client's)
    # until the window from the oldest counted failure has passed.
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_lockout_minutes: int = 15
    # A petition by this many people or more is registered as 集体访: five is where 信访工作条例第十八条
    # has several petitioners choose representatives (no more than five), so more is a group petition.
    collective_headcount: int = 5

    def __post_init__(self) -> None:
        if self.log_level is not None and not isinstance(logging.getLevelName(self.log_level), int):
            raise SettingsError(
                f"FANGTIAO_LOG_LEVEL 无效：{self.log_level}（应为 DEBUG、INFO、WARNING、ERROR 或 CRITICAL）"
            )
        if self.log_format not in LOG_FORMATS:
            raise SettingsError(f"FANGTIAO_LOG_FORMAT 无效：{self.log_format}（应为 text 或 json）")
        if not self.worker_poll_seconds > 0:
            raise SettingsError(
                f"轮询间隔必须大于 0 秒（FANGTIAO_WORKER_POLL 或 --poll）：{self.worker_poll_seconds}"
            )
        if self.retention_years < 1:
            raise SettingsError(f"FANGTIAO_RETENTION_YEARS 无效：{self.retention_years}（应为正整数年数）")
        for name in _COUNTS:
            if getattr(self, name) < 1:
                raise SettingsError(f"{VARIABLES[name]} 无效：{getattr(self, name)}（应为正整数）")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, **overrides: Any) -> Settings:
        """The settings the variables of `environ` give, with `overrides` (by field name, e.g. the
        command line's --database) winning over them. An empty variable counts as unset."""
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        raw = {name: environ.get(variable) or None for name, variable in VARIABLES.items()}
        values: dict[str, Any] = {}
        for name in ("instance_path", "processes_dir", "forms_dir"):
            folder = raw[name]
            if folder is not None:
                values[name] = Path(folder).expanduser().resolve()
        if raw["secret_key"] is not None:
            values["secret_key"] = raw["secret_key"]
        if raw["secure_cookies"] is not None:
            values["secure_cookies"] = _flag("secure_cookies", raw["secure_cookies"])
        if raw["log_level"] is not None:
            values["log_level"] = raw["log_level"].upper()
        if raw["log_format"] is not None:
            values["log_format"] = raw["log_format"].lower()
        if raw["worker_poll_seconds"] is not None:
            values["worker_poll_seconds"] = _seconds("worker_poll_seconds", raw["worker_poll_seconds"])
        if raw["retention_years"] is not None:
            values["retention_years"] = _years("retention_years", raw["retention_years"])
        for name in _COUNTS:
            text = raw[name]
            if text is not None:
                values[name] = _count(name, text)
        values.update(overrides)
        if "database_url" not in values:
            # the embedded database lives in the instance folder, wherever that is
            instance = Path(values.get("instance_path", cls.instance_path))
            values["database_url"] = raw["database_url"] or f"sqlite:///{instance / 'fangtiao.sqlite'}"
        return cls(**values)


def _flag(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{VARIABLES[name]} 无效：{text}（应为 1 或 0）")


def _seconds(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise SettingsError(f"{VARIABLES[name]} 无效：{text}（应为秒数，如 0.5）") from exc


def _years(name: str, text: str) -> int:
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise SettingsError(f"{VARIABLES[name]} 无效：{text}（应为正整数年数，如 10）")
    return int(value)


def _count(name: str, text: str) -> int:
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 6 or int(value) < 1:
        raise SettingsError(f"{VARIABLES[name]} 无效：{text}（应为正整数）")
    return int(value)
