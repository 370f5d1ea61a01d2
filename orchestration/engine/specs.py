"""Deployed versions: parsing a version's files, storing a new version, and the in-memory cache of each
version's parsed spec and forms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestration.domain.forms import FormError, FormRegistry
from orchestration.domain.procedure import (
    DMN,
    DeployError,
    content_hash,
    form_texts,
    parse_xml,
    process_files,
)
from orchestration.store.models import ProcessVersion
from orchestration.store.numbering import next_value

PROCESS_ID = "fangtiao_referral"


@dataclass(frozen=True)
class ParsedVersion:
    version_id: int
    spec: BpmnProcessSpec
    subprocess_specs: Mapping[str, BpmnProcessSpec]
    forms: FormRegistry


def parser_with(files: Mapping[str, str]) -> SpiffBpmnParser:
    """A parser holding the version's BPMN and DMN documents, each parsed safely and checked against the
    BPMN schema."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, text in process_files(files).items():
        root = parse_xml(name, text)
        if name.endswith(DMN):
            parser.add_dmn_xml(root, name)
        else:
            parser.add_bpmn_xml(root, name)
    return parser


def parse_files(
    files: Mapping[str, str], process_id: str = PROCESS_ID
) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    try:
        parser = parser_with(files)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise DeployError(f"流程文件校验失败：{exc}") from exc
    except KeyError as exc:
        raise DeployError(f"找不到流程 {process_id}：{exc}") from exc
    return spec, subprocess_specs


def parse_forms(files: Mapping[str, str], where: str) -> FormRegistry:
    try:
        return FormRegistry.from_texts(form_texts(files), where)
    except FormError as exc:
        raise DeployError(str(exc)) from exc


def latest_version(session: Session, process_id: str = PROCESS_ID) -> ProcessVersion | None:
    return session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.process_id == process_id)
        .order_by(ProcessVersion.id.desc())
        .limit(1)
    )


def store_version(
    session: Session, files: Mapping[str, str], process_id: str, actor: str, now: datetime
) -> tuple[ProcessVersion, bool]:
    """A new version of the process with these files, numbered after the last one; or the latest version
    itself when it holds exactly these files (created False). Files equal to an older version's make a new
    version: deploying them again is a return to that procedure for new cases."""
    digest = content_hash(files)
    latest = latest_version(session, process_id)
    if latest is not None and latest.content_hash == digest:
        return latest, False
    version = ProcessVersion(
        process_id=process_id,
        number=next_value(session, f"version:{process_id}"),
        content_hash=digest,
        files=dict(files),
        deployed_at=now,
        deployed_by=actor,
    )
    session.add(version)
    session.flush()
    return version, True


class SpecCache:
    """Parsed specs and forms per version: parsing costs milliseconds and must not happen per request."""

    def __init__(self) -> None:
        self._parsed: dict[int, ParsedVersion] = {}

    def cached(self, version_id: int) -> ParsedVersion | None:
        return self._parsed.get(version_id)

    def get(self, version: ProcessVersion) -> ParsedVersion:
        parsed = self._parsed.get(version.id)
        if parsed is None:
            spec, subprocess_specs = parse_files(version.files, version.process_id)
            forms = parse_forms(version.files, f"流程版本 {version.number}")
            parsed = ParsedVersion(version.id, spec, subprocess_specs, forms)
            self._parsed[version.id] = parsed
        return parsed
