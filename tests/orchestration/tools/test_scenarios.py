"""Every scenario in processes/scenarios passes on each database."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.tools.scenarios import default_files, run_scenario

FILES = default_files()


def test_there_are_scenarios() -> None:
    assert len(FILES) >= 1


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_scenario(path: Path, database_url: str) -> None:
    result = run_scenario(path, None if database_url.startswith("sqlite") else database_url)
    assert result.passed, result.message


def test_a_wrong_expectation_is_reported(tmp_path: Path, database_url: str) -> None:
    original = FILES[0].read_text(encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text(
        original.replace('"due": "2026-11-05T23:59:59+08:00"', '"due": "2026-11-06T23:59:59+08:00"')
    )
    result = run_scenario(broken, None if database_url.startswith("sqlite") else database_url)
    assert not result.passed
    assert "期望 2026-11-06T23:59:59+08:00" in result.message
