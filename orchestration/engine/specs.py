"""Deploying the procedure files as versions, and the in-memory cache of parsed specs per version."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestration.domain.assignment import LANE_ROLES
from orchestration.store.models import ProcessVersion

PROCESS_ID = "fangtiao_referral"


class DeployError(ValueError):
    """The procedure files cannot be deployed; the message says why, in Chinese."""


@dataclass(frozen=True)
class ParsedVersion:
    version_id: int
    spec: BpmnProcessSpec
    subprocess_specs: Mapping[str, BpmnProcessSpec]


def read_process_files(directory: Path) -> dict[str, str]:
    files = sorted([*directory.glob("*.bpmn"), *directory.glob("*.dmn")])
    if not files:
        raise DeployError(f"目录 {directory} 中没有 BPMN 或 DMN 文件")
    return {f.name: f.read_text(encoding="utf-8") for f in files}


def content_hash(files: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(files[name].encode())
        digest.update(b"\0")
    return digest.hexdigest()


def parse_files(
    files: Mapping[str, str], process_id: str = PROCESS_ID
) -> tuple[BpmnProcessSpec, dict[str, Any]]:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        for name, text in files.items():
            tree = etree.fromstring(text.encode("utf-8"))
            if name.endswith(".bpmn"):
                parser.add_bpmn_xml(tree, name)
            else:
                parser.add_dmn_xml(tree, name)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise DeployError(f"流程文件校验失败：{exc}") from exc
    except etree.XMLSyntaxError as exc:
        raise DeployError(f"流程文件不是有效的 XML：{exc}") from exc
    except KeyError as exc:
        raise DeployError(f"找不到流程 {process_id}：{exc}") from exc
    return spec, subprocess_specs


def check_spec(spec: BpmnProcessSpec, form_names: set[str]) -> None:
    """Checks what the engine does not: every user task has a known lane and an existing form."""
    problems = []
    for task_spec in spec.task_specs.values():
        if not getattr(task_spec, "manual", False):
            continue
        label = f"{task_spec.bpmn_name or task_spec.name}（{task_spec.name}）"
        if task_spec.lane not in LANE_ROLES:
            problems.append(f"用户任务 {label} 所在泳道“{task_spec.lane}”未对应任何角色")
        form = task_spec.extensions.get("properties", {}).get("formName")
        if not form:
            problems.append(f"用户任务 {label} 未指定表单（formName）")
        elif form not in form_names:
            problems.append(f"用户任务 {label} 的表单 {form} 在 forms/ 中不存在")
    if problems:
        raise DeployError("；".join(problems))


def deploy(
    session: Session, files: Mapping[str, str], form_names: set[str], actor: str, now: datetime
) -> tuple[ProcessVersion, bool]:
    """Stores a new version unless identical files are already deployed; returns (version, created)."""
    digest = content_hash(files)
    existing = session.scalar(select(ProcessVersion).where(ProcessVersion.content_hash == digest))
    if existing is not None:
        return existing, False
    spec, _ = parse_files(files)
    check_spec(spec, form_names)
    version = ProcessVersion(
        process_id=PROCESS_ID, content_hash=digest, files=dict(files), deployed_at=now, deployed_by=actor
    )
    session.add(version)
    session.flush()
    return version, True


def latest_version(session: Session, process_id: str = PROCESS_ID) -> ProcessVersion | None:
    return session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.process_id == process_id)
        .order_by(ProcessVersion.id.desc())
    )


class SpecCache:
    """Parsed specs per version: parsing costs milliseconds and must not happen per request."""

    def __init__(self) -> None:
        self._parsed: dict[int, ParsedVersion] = {}

    def cached(self, version_id: int) -> ParsedVersion | None:
        return self._parsed.get(version_id)

    def get(self, version: ProcessVersion) -> ParsedVersion:
        parsed = self._parsed.get(version.id)
        if parsed is None:
            spec, subprocess_specs = parse_files(version.files, version.process_id)
            parsed = ParsedVersion(version.id, spec, subprocess_specs)
            self._parsed[version.id] = parsed
        return parsed
