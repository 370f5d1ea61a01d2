"""A procedure's files: which names are accepted, the limits, and XML that could attack the server refused
before it is parsed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from orchestration.domain.procedure import (
    MAX_FILE_BYTES,
    DeployError,
    UnsafeFile,
    check_files,
    content_hash,
    form_texts,
    kind,
    layout,
    parse_xml,
    read_directories,
    scenario_texts,
)

ROOT = Path(__file__).resolve().parents[3]
PLAIN = '<?xml version="1.0"?><definitions id="d"/>'

XXE = """<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<definitions id="d">&secret;</definitions>"""

LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + ']>\n<definitions id="d">&lol9;</definitions>'
)


def test_the_project_folders_make_one_file_set() -> None:
    files = read_directories(ROOT / "processes", ROOT / "forms")
    assert {"referral.bpmn", "scope.dmn"} <= set(files)
    assert set(form_texts(files)) == {p.stem for p in (ROOT / "forms").glob("*.json")}
    scenarios = scenario_texts(files)
    assert "scenarios/01_success_full_path.json" in scenarios
    assert "scenarios/scenario.schema.json" not in files, "the schema is tooling, not a scenario"
    assert {layout(n) for n in files} >= {"processes/referral.bpmn", "forms/mediate.json"}
    assert layout("scenarios/01_success_full_path.json") == "processes/scenarios/01_success_full_path.json"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("referral.bpmn", "bpmn"),
        ("scope.dmn", "dmn"),
        ("forms/mediate.json", "form"),
        ("scenarios/01_a-b.json", "scenario"),
    ],
)
def test_kinds_of_file(name: str, expected: str) -> None:
    assert kind(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "../referral.bpmn",
        "/etc/passwd.bpmn",
        "forms/../../x.json",
        "forms/sub/x.json",
        ".hidden.bpmn",
        "other/x.json",
        "referral.xml",
        "forms/x.bpmn",
        "x.json",
        "",
    ],
)
def test_names_that_could_leave_a_folder_or_mean_nothing_are_refused(name: str) -> None:
    with pytest.raises(UnsafeFile, match="文件"):
        kind(name)


def test_a_huge_file_is_refused_with_its_size() -> None:
    with pytest.raises(UnsafeFile, match="过大"):
        check_files({"referral.bpmn": "<a>" + "x" * MAX_FILE_BYTES + "</a>"})
    with pytest.raises(UnsafeFile, match="过大"):
        parse_xml("referral.bpmn", "<a>" + "x" * MAX_FILE_BYTES + "</a>")


def test_too_many_files_or_too_much_in_all_is_refused() -> None:
    with pytest.raises(UnsafeFile, match="文件过多"):
        check_files({f"forms/f{i}.json": "{}" for i in range(301)})
    big = "x" * (MAX_FILE_BYTES - 10)
    with pytest.raises(UnsafeFile, match="合计过大"):
        check_files({f"forms/f{i}.json": big for i in range(9)})


@pytest.mark.parametrize("text", [XXE, LAUGHS], ids=["external entity", "billion laughs"])
def test_xml_declaring_entities_is_refused_before_parsing(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(UnsafeFile, match="DOCTYPE 或 ENTITY"):
        parse_xml("referral.bpmn", text)
    with pytest.raises(UnsafeFile, match="DOCTYPE 或 ENTITY"):
        check_files({"referral.bpmn": text})
    assert time.perf_counter() - started < 1


def test_malformed_xml_is_a_deploy_error_naming_the_file() -> None:
    with pytest.raises(DeployError, match=r"scope\.dmn.*不是有效的 XML"):
        parse_xml("scope.dmn", "<definitions>")
    assert parse_xml("scope.dmn", PLAIN).get("id") == "d"


def test_the_hash_covers_names_and_texts() -> None:
    files = {"a.bpmn": PLAIN, "forms/x.json": "{}"}
    assert content_hash(files) == content_hash(dict(reversed(files.items())))
    assert content_hash(files) != content_hash({**files, "forms/x.json": "{ }"})
    assert content_hash(files) != content_hash({"b.bpmn": PLAIN, "forms/x.json": "{}"})
