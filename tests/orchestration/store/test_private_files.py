"""The embedded database holds personal data (issue 11, finding 6): created 0600 in a folder created
0700, whatever the umask; an existing file or folder keeps its mode."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration.settings import Settings
from orchestration.store import migrate
from orchestration.store.db import make_engine
from webapp import create_app
from webapp.context import SERVICES_KEY


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_the_embedded_database_and_its_folder_are_private(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "instance" / "data" / "fangtiao.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    assert not any(mode(p) & 0o077 for p in path.parent.iterdir())  # -wal and -shm too


def test_an_existing_file_and_folder_keep_their_mode(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "shared.sqlite"
    path.touch(mode=0o640)
    path.chmod(0o640)
    make_engine(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o640


def test_the_web_apps_instance_folder_is_private(tmp_path: Path, open_umask: None) -> None:
    instance = tmp_path / "instance"
    app = create_app(
        {"INSTANCE_PATH": str(instance), "TESTING": True},
        Settings.from_env(
            {}, instance_path=instance, database_url=f"sqlite:///{instance / 'fangtiao.sqlite'}"
        ),
    )
    app.extensions[SERVICES_KEY].close()
    assert mode(instance) == 0o700 and mode(instance / "secret_key") == 0o600
    assert mode(instance / "fangtiao.sqlite") == 0o600
