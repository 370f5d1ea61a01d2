"""The procedure as a set of files: what a deployed version, a draft and an export hold.

A version is the BPMN and DMN files of ``processes/`` (by bare name), the task forms (``forms/<name>.json``)
and the scenarios kept with the model (``scenarios/<name>.json``, from ``processes/scenarios/``). Files
come from policy officers' browsers, so every name, size and XML document is checked here before anything
parses it further: a name that could leave a folder, a file too large, or XML with a document type
declaration (the carrier of external entities and of entity expansion, "billion laughs") is refused with a
Chinese message naming the file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lxml import etree

from orchestration.errors import FangtiaoError

# Forms the runtime itself uses, outside any user task: every version must have them.
START_FORM = "register"
RISK_FORM = "report_risk"

FORMS = "forms/"
SCENARIOS = "scenarios/"
BPMN, DMN, JSON = ".bpmn", ".dmn", ".json"
# files in processes/scenarios/ that are tooling, not scenarios
SCENARIO_TOOLING = ("scenario.schema.json",)

# The procedure's files are tens of kilobytes (referral.bpmn ≈ 65 KB); these limits leave room for many
# times that and still refuse a file meant to exhaust memory.
MAX_FILE_BYTES = 1_000_000
MAX_TOTAL_BYTES = 8_000_000
MAX_FILES = 300

# one path segment: no folders, no "..", no hidden files
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
# What an XML document never needs here and what every XML bomb starts with.
_DECLARATIONS = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)

Severity = Literal["error", "warning"]
Kind = Literal["bpmn", "dmn", "form", "scenario"]


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a procedure, pointing at the file and the element (id and name) it is about."""

    severity: Severity
    file: str
    element_id: str | None
    element_name: str | None
    message: str

    def where(self) -> str:
        element = f" {self.element_name or ''}（{self.element_id}）" if self.element_id else ""
        return f"{self.file or '流程文件'}{element}"

    def line(self) -> str:
        return f"{'错误' if self.severity == 'error' else '提示'}：{self.where()}：{self.message}"


class DeployError(FangtiaoError):
    """The procedure files cannot be deployed; the message says why, and `findings` point at the elements."""

    status = 422

    def __init__(self, message: str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


class UnsafeFile(FangtiaoError):
    """A file refused before it is parsed: a bad name, too large, or XML that declares a document type."""

    status = 422


def kind(name: str) -> Kind:
    """What the file is, from its name; a name that is none of them is refused."""
    folder, _, leaf = name.rpartition("/")
    if not _SEGMENT.match(leaf) or (folder and f"{folder}/" not in (FORMS, SCENARIOS)):
        raise UnsafeFile(
            f"文件名“{name}”不可用：只能是 processes 中的 .bpmn/.dmn 文件、forms/<名称>.json 或 "
            "scenarios/<名称>.json，名称由字母、数字、下划线、点和连字符组成"
        )
    if folder == FORMS.rstrip("/") and leaf.endswith(JSON):
        return "form"
    if folder == SCENARIOS.rstrip("/") and leaf.endswith(JSON):
        return "scenario"
    if not folder and leaf.endswith(BPMN):
        return "bpmn"
    if not folder and leaf.endswith(DMN):
        return "dmn"
    raise UnsafeFile(f"文件“{name}”的类型不可用：流程文件应为 .bpmn 或 .dmn，表单和场景应为 .json")


def check_files(files: Mapping[str, str]) -> None:
    """Names, count, sizes and XML declarations of a whole file set, before anything parses it."""
    if len(files) > MAX_FILES:
        raise UnsafeFile(f"文件过多：{len(files)} 个，上限 {MAX_FILES} 个")
    total = 0
    for name, text in files.items():
        if not isinstance(text, str):
            raise UnsafeFile(f"文件“{name}”的内容应为文本")
        file_kind = kind(name)
        size = len(text.encode("utf-8"))
        if size > MAX_FILE_BYTES:
            raise UnsafeFile(f"文件“{name}”过大：{size:,} 字节，单个文件上限 {MAX_FILE_BYTES:,} 字节")
        total += size
        if file_kind in ("bpmn", "dmn") and _DECLARATIONS.search(text):
            raise UnsafeFile(_declaration_message(name))
    if total > MAX_TOTAL_BYTES:
        raise UnsafeFile(f"文件合计过大：{total:,} 字节，上限 {MAX_TOTAL_BYTES:,} 字节")


def _declaration_message(name: str) -> str:
    return (
        f"文件“{name}”含有 DOCTYPE 或 ENTITY 声明，已拒绝：流程文件不需要它们，而它们可用于读取服务器上的"
        "文件（XML 外部实体）或以实体膨胀耗尽内存"
    )


# No DTD loaded, no entity resolved, nothing fetched, libxml2's limits on depth and text size kept.
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)


def parse_xml(name: str, text: str) -> etree._Element:
    """A BPMN or DMN document parsed safely; refused with a Chinese message when unsafe or malformed."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise UnsafeFile(f"文件“{name}”过大：{size:,} 字节，单个文件上限 {MAX_FILE_BYTES:,} 字节")
    if _DECLARATIONS.search(text):
        raise UnsafeFile(_declaration_message(name))
    try:
        root = etree.fromstring(text.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as exc:
        raise DeployError(f"文件“{name}”不是有效的 XML：{exc}") from exc
    if root.getroottree().docinfo.internalDTD is not None:
        raise UnsafeFile(_declaration_message(name))
    return root


def process_files(files: Mapping[str, str]) -> dict[str, str]:
    """The BPMN and DMN files."""
    return {name: text for name, text in files.items() if "/" not in name}


def form_texts(files: Mapping[str, str]) -> dict[str, str]:
    """Form name -> its JSON text."""
    return {
        name[len(FORMS) : -len(JSON)]: text
        for name, text in files.items()
        if name.startswith(FORMS) and name.endswith(JSON)
    }


def scenario_texts(files: Mapping[str, str]) -> dict[str, str]:
    return {name: text for name, text in files.items() if name.startswith(SCENARIOS)}


def read_directories(processes_dir: Path, forms_dir: Path) -> dict[str, str]:
    """The files `fangtiao deploy` deploys: processes/*.bpmn|dmn, processes/scenarios/*.json, forms/*.json."""
    paths = sorted([*processes_dir.glob(f"*{BPMN}"), *processes_dir.glob(f"*{DMN}")])
    if not paths:
        raise DeployError(f"目录 {processes_dir} 中没有 BPMN 或 DMN 文件")
    files = {p.name: _read(p) for p in paths}
    for path in sorted((processes_dir / "scenarios").glob(f"*{JSON}")):
        if path.name not in SCENARIO_TOOLING:
            files[SCENARIOS + path.name] = _read(path)
    files.update({FORMS + p.name: _read(p) for p in sorted(forms_dir.glob(f"*{JSON}"))})
    check_files(files)
    return files


def _read(path: Path) -> str:
    try:
        # utf-8-sig: files saved by Windows Notepad start with a BOM
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DeployError(f"文件 {path} 不是 UTF-8 编码") from exc


def layout(name: str) -> str:
    """Where a version's file lives in the project (and in an export): processes/… or forms/…."""
    return name if name.startswith(FORMS) else f"processes/{name}"


def write_directories(files: Mapping[str, str], root: Path) -> tuple[list[str], list[str]]:
    """Writes a version's files under `root` as the project holds them (processes/…, forms/…) and removes
    the procedure files there that the version does not have, so that `read_directories` of root/processes
    and root/forms gives exactly `files`. Returns (written, removed), as paths under root."""
    check_files(files)
    wanted = {layout(name) for name in files}
    present = [
        *(root / "processes").glob(f"*{BPMN}"),
        *(root / "processes").glob(f"*{DMN}"),
        *(p for p in (root / "processes" / "scenarios").glob(f"*{JSON}") if p.name not in SCENARIO_TOOLING),
        *(root / "forms").glob(f"*{JSON}"),
    ]
    removed = sorted(str(p.relative_to(root)) for p in present if str(p.relative_to(root)) not in wanted)
    for path in removed:
        (root / path).unlink()
    for name, text in files.items():
        target = root / layout(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return sorted(wanted), removed


def content_hash(files: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(files[name].encode())
        digest.update(b"\0")
    return digest.hexdigest()
