"""Our stored-state format's versions, and the steps that bring an older state up to the current one.

A state names two versions: ours (`version`: what this module knows) and the SpiffWorkflow serializer's
(`serializer_version`: what the library's own `migration/` package knows). The codec runs the library's
migrations first, on the state as the library wrote it, and ours after them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestration.errors import FangtiaoError

FORMAT = "fangtiao-state"
VERSION = 2

# Version 1 named itself "fangtiao-state/1" and stored no serializer version: every such state was
# written by SpiffWorkflow 3.2 (the project has pinned >=3.2,<3.3 from its first commit), whose
# serializer writes version 1.5.
FORMAT_1 = "fangtiao-state/1"
SERIALIZER_VERSION_1 = "1.5"


class StateVersionError(FangtiaoError):
    """A stored state this program cannot read; a deployment problem, not the user's."""

    status = 500


def _typename(state: dict[str, Any]) -> None:
    """Version 1 left out the typename by which the library's restore finds the workflow converter."""
    state["typename"] = "BpmnWorkflow"


# STEPS[n - 1] brings version n to version n + 1; a new version appends its step and bumps VERSION.
STEPS: list[Callable[[dict[str, Any]], None]] = [_typename]


def read_versions(state: dict[str, Any]) -> tuple[int, str]:
    """Takes our format marker and version off the state; returns (our version, serializer version),
    leaving the serializer version on the state for the library's own migration to read."""
    marker = state.pop("format", None)
    if marker == FORMAT_1:
        return 1, SERIALIZER_VERSION_1
    if marker != FORMAT:
        raise StateVersionError(f"实例状态格式无法识别（{marker!r}）")
    version = state.pop("version", None)
    if not isinstance(version, int) or not 1 <= version <= VERSION:
        raise StateVersionError(
            f"实例状态格式版本 {version!r} 无法识别：本程序只能读取第 1 至 {VERSION} 版，"
            "它可能由更新的访调通写入，请升级后再办理"
        )
    serializer_version = state.get("serializer_version")
    if not isinstance(serializer_version, str):
        raise StateVersionError("实例状态未记录 SpiffWorkflow 序列化版本，无法读取")
    return version, serializer_version


def upgrade(state: dict[str, Any], version: int) -> None:
    """Runs our steps from `version` to the current one, in order."""
    for step in STEPS[version - 1 :]:
        step(state)
