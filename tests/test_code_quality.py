"""The tree stays ruff clean and formatted, and mypy finds nothing (tool versions pinned in pyproject)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


PACKAGES = ["orchestration", "handlers", "webapp", "tests", "bench"]


def _run(*command: str) -> None:
    result = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_check() -> None:
    _run("ruff", "check", *PACKAGES)


def test_ruff_format() -> None:
    _run("ruff", "format", "--check", *PACKAGES)


def test_mypy() -> None:
    _run("mypy", "orchestration", "handlers", "webapp")
