"""One Settings object from the environment, used by the web app, the command line and the benches; no other
module reads os.environ for configuration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.settings import PROJECT_ROOT, VARIABLES, Settings, SettingsError
from orchestration.tools.cli import main
from webapp import create_app
from webapp.context import SERVICES_KEY

FULL = {
    "FANGTIAO_DATABASE_URL": "postgresql://fangtiao@db.example/fangtiao",
    "FANGTIAO_INSTANCE_PATH": "/srv/fangtiao/instance",
    "FANGTIAO_SECRET_KEY": "s3cret",
    "FANGTIAO_SECURE_COOKIES": "1",
    "FANGTIAO_PROCESSES_DIR": "/srv/fangtiao/processes",
    "FANGTIAO_FORMS_DIR": "/srv/fangtiao/forms",
    "FANGTIAO_LOG_LEVEL": "debug",
    "FANGTIAO_LOG_FORMAT": "JSON",
    "FANGTIAO_WORKER_POLL": "2.5",
    "FANGTIAO_RETENTION_YEARS": "30",
    "FANGTIAO_SESSION_HOURS": "4",
    "FANGTIAO_LOGIN_MAX_FAILURES": "3",
    "FANGTIAO_LOGIN_MAX_FAILURES_PER_ADDRESS": "50",
    "FANGTIAO_LOGIN_LOCKOUT_MINUTES": "30",
    "FANGTIAO_COLLECTIVE_HEADCOUNT": "10",
}


def test_defaults_are_the_embedded_demo() -> None:
    settings = Settings.from_env({})
    assert settings == Settings(
        database_url=f"sqlite:///{PROJECT_ROOT / 'instance' / 'fangtiao.sqlite'}",
        instance_path=PROJECT_ROOT / "instance",
        secret_key=None,
        secure_cookies=False,
        processes_dir=PROJECT_ROOT / "processes",
        forms_dir=PROJECT_ROOT / "forms",
        log_level=None,
        log_format="text",
        worker_poll_seconds=0.5,
        retention_years=10,
        session_hours=8,
        login_max_failures=5,
        login_max_failures_per_address=20,
        login_lockout_minutes=15,
        collective_headcount=5,
    )


def test_every_variable_is_read() -> None:
    assert set(FULL) == set(VARIABLES.values())
    settings = Settings.from_env(FULL)
    assert settings == Settings(
        database_url="postgresql://fangtiao@db.example/fangtiao",
        instance_path=Path("/srv/fangtiao/instance"),
        secret_key="s3cret",
        secure_cookies=True,
        processes_dir=Path("/srv/fangtiao/processes"),
        forms_dir=Path("/srv/fangtiao/forms"),
        log_level="DEBUG",
        log_format="json",
        worker_poll_seconds=2.5,
        retention_years=30,
        session_hours=4,
        login_max_failures=3,
        login_max_failures_per_address=50,
        login_lockout_minutes=30,
        collective_headcount=10,
    )
    assert "s3cret" not in repr(settings)


def test_the_embedded_database_follows_the_instance_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"FANGTIAO_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'fangtiao.sqlite'}"
    assert Settings.from_env({}, instance_path=tmp_path).database_url == settings.database_url


def test_overrides_win_and_empty_variables_count_as_unset() -> None:
    settings = Settings.from_env(
        {**FULL, "FANGTIAO_SECRET_KEY": "", "FANGTIAO_LOG_LEVEL": ""}, database_url="sqlite://"
    )
    assert settings.database_url == "sqlite://"
    assert settings.secret_key is None and settings.log_level is None
    with pytest.raises(TypeError, match="database"):
        Settings.from_env({}, database="sqlite://")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FANGTIAO_SECURE_COOKIES", "maybe"),
        ("FANGTIAO_LOG_LEVEL", "LOUD"),
        ("FANGTIAO_LOG_FORMAT", "xml"),
        ("FANGTIAO_WORKER_POLL", "fast"),
        ("FANGTIAO_WORKER_POLL", "0"),
        ("FANGTIAO_RETENTION_YEARS", "十年"),
        ("FANGTIAO_RETENTION_YEARS", "0"),
        ("FANGTIAO_RETENTION_YEARS", "2.5"),
        ("FANGTIAO_SESSION_HOURS", "0"),
        ("FANGTIAO_SESSION_HOURS", "８"),
        ("FANGTIAO_LOGIN_MAX_FAILURES", "-1"),
        ("FANGTIAO_LOGIN_LOCKOUT_MINUTES", "9" * 30),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})


def test_no_other_module_reads_the_environment() -> None:
    """Configuration comes through Settings; the benches may read the tests' own FANGTIAO_TEST_* variables,
    and hand the whole environment on to a process they start (the mutation checks' pytest runs)."""
    reads = re.compile(r"os\.environ|getenv|environ\.get")
    bench_may = ("FANGTIAO_TEST_", "dict(os.environ)")
    offenders = []
    for folder in ("orchestration", "handlers", "webapp", "bench"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            if path == PROJECT_ROOT / "orchestration" / "settings.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if reads.search(line) and not (folder == "bench" and any(may in line for may in bench_may)):
                    offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_web_app_takes_its_configuration_from_the_environment(
    database_url: str, runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    processes = tmp_path / "processes"
    processes.mkdir()
    monkeypatch.setenv("FANGTIAO_DATABASE_URL", database_url)
    monkeypatch.setenv("FANGTIAO_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("FANGTIAO_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("FANGTIAO_SECURE_COOKIES", "yes")
    monkeypatch.setenv("FANGTIAO_PROCESSES_DIR", str(processes))
    app: Flask = create_app({"TESTING": True})
    try:
        assert app.config["DATABASE_URL"] == database_url
        assert app.instance_path == str(tmp_path / "instance")
        assert app.config["SECRET_KEY"] == "from-the-environment"
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.extensions[SERVICES_KEY].runtime.processes_dir == processes
    finally:
        app.extensions[SERVICES_KEY].close()
    explicit = create_app({"TESTING": True}, Settings.from_env({}, database_url=database_url))
    try:
        assert explicit.config["SESSION_COOKIE_SECURE"] is False  # the given settings, not the environment
    finally:
        explicit.extensions[SERVICES_KEY].close()


def test_the_command_line_reads_the_environment_and_database_overrides_it(
    database_url: str,
    runtime: Runtime,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FANGTIAO_DATABASE_URL", database_url)
    capsys.readouterr()
    assert main(["tasks", "--as", "clerk"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    # a variable pointing nowhere loses to --database
    monkeypatch.setenv("FANGTIAO_DATABASE_URL", f"sqlite:///{tmp_path}")  # a folder: no database
    assert main(["--database", database_url, "tasks", "--as", "clerk"]) == 0
    assert capsys.readouterr().out.strip() == "[]"


def test_a_bad_variable_stops_the_command_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FANGTIAO_WORKER_POLL", "soon")
    assert main(["tasks", "--as", "clerk"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：FANGTIAO_WORKER_POLL 无效：soon") and len(err.splitlines()) == 1
    monkeypatch.delenv("FANGTIAO_WORKER_POLL")
    assert main(["worker", "--poll", "0"]) == 2
    assert "--poll" in capsys.readouterr().err
