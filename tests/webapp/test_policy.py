"""流程管理's pages and the editor's JSON calls (both databases): versions with what changed and the cases on
each; drafts saved over the revision loaded (a conflict is a 409 naming who saved), only by their owner;
the check's findings pointing at elements; the form preview drawn by the task pages' template; a refused
deployment answered with its findings; deployment and migration."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from orchestration.engine.runtime import Runtime
from orchestration.store.models import Case, Draft, Timer
from tests.helpers import REGISTRATION, add_colleague, advance_to, start
from tests.orchestration.services.procedure_edits import MEDIATION_DEADLINE, TEN_DAYS, replaced
from tests.webapp.helpers import login, text

ROOT = Path(__file__).resolve().parents[2]


def _new_draft(client: FlaskClient) -> tuple[int, dict[str, Any]]:
    created = client.post("/policy/versions/1/draft")
    assert created.status_code == 302
    draft_id = int(created.location.rstrip("/").rsplit("/", 1)[1])
    loaded = client.get(f"/policy/drafts/{draft_id}/files.json").get_json()
    return draft_id, loaded


def _save(client: FlaskClient, draft_id: int, files: dict[str, str], revision: int) -> Any:
    return client.post(
        f"/policy/drafts/{draft_id}/files.json", json={"files": files, "expected_revision": revision}
    )


def test_the_versions_page_lists_versions_changes_and_running_cases(
    client: FlaskClient, runtime: Runtime
) -> None:
    advance_to(runtime, start(runtime), "mediate")
    login(client, "policy")
    assert "流程管理" in text(client.get("/tasks"))  # in the navigation
    page = text(client.get("/policy/processes/fangtiao_referral"))
    assert "第1版" in page and "首个版本" in page and "黄强" in page
    exported = client.get("/policy/versions/1/export.zip")
    assert exported.status_code == 200
    assert "processes/referral.bpmn" in zipfile.ZipFile(io.BytesIO(exported.data)).namelist()
    assert 'data-xml-url="/policy/versions/1/diagram.bpmn"' in client.get("/policy/versions/1").get_data(
        as_text=True
    )
    assert 'id="fangtiao_referral"' in client.get("/policy/versions/1/diagram.bpmn").get_data(as_text=True)


def test_saving_over_an_older_revision_is_a_conflict_and_only_the_owner_saves(
    client: FlaskClient, runtime: Runtime
) -> None:
    add_colleague(runtime, "policy2", "周洁", of="policy")
    login(client, "policy")
    draft_id, loaded = _new_draft(client)
    files = replaced(loaded["files"], "referral.bpmn", MEDIATION_DEADLINE, TEN_DAYS)
    first = _save(client, draft_id, files, loaded["revision"])
    assert first.status_code == 200 and first.get_json()["revision"] == loaded["revision"] + 1
    # a second window still on the revision it loaded: refused, nothing overwritten
    stale = _save(client, draft_id, loaded["files"], loaded["revision"])
    assert stale.status_code == 409
    assert "黄强" in stale.get_json()["error"] and "未保存" in stale.get_json()["error"]
    with runtime.sessions() as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None and TEN_DAYS in draft.files["referral.bpmn"]

    login(client, "policy2")
    other = _save(client, draft_id, files, first.get_json()["revision"])
    assert other.status_code == 403 and "只有其作者可以保存" in other.get_json()["error"]
    assert "您只能查看" in text(client.get(f"/policy/drafts/{draft_id}"))
    bad = client.post(f"/policy/drafts/{draft_id}/files.json", json={"files": files})
    assert bad.status_code == 422 and "修订号" in bad.get_json()["error"]


def test_the_check_points_at_elements_and_a_refused_deployment_lists_the_findings(
    client: FlaskClient, runtime: Runtime
) -> None:
    login(client, "policy")
    draft_id, loaded = _new_draft(client)
    broken = replaced(loaded["files"], "referral.bpmn", MEDIATION_DEADLINE, 'open("/etc/passwd")')
    assert _save(client, draft_id, broken, loaded["revision"]).status_code == 200
    findings = client.post(f"/policy/drafts/{draft_id}/check", json={}).get_json()["findings"]
    errors = {f["element_id"]: f for f in findings if f["severity"] == "error"}
    assert {"mediation_deadline_reached", "mediation_deadline_near"} <= set(errors)
    assert errors["mediation_deadline_reached"]["element_name"] == "调解期限届满"
    assert errors["mediation_deadline_reached"]["line"].startswith("错误：referral.bpmn 调解期限届满")

    refused = client.post(f"/policy/drafts/{draft_id}/deploy", json={})
    assert refused.status_code == 422
    assert any(f["element_id"] == "mediation_deadline_reached" for f in refused.get_json()["findings"])
    assert "第2版" not in text(client.get("/policy/processes/fangtiao_referral"))


def test_the_form_preview_is_drawn_like_a_task_page(client: FlaskClient) -> None:
    login(client, "policy")
    form = json.dumps(
        {
            "title": "测试表单",
            "schema": {
                "type": "object",
                "required": ["note"],
                "properties": {"note": {"type": "string", "title": "备注"}},
            },
            "ui": {"order": ["note"], "fields": {"note": {"widget": "textarea"}}},
        },
        ensure_ascii=False,
    )
    shown = client.post("/policy/form-preview", json={"name": "note_form", "text": form})
    assert shown.status_code == 200
    body = shown.get_data(as_text=True)
    assert "测试表单" in body and 'id="f-note"' in body and "备注" in body
    wrong = client.post("/policy/form-preview", json={"name": "x", "text": '{"title": '})
    assert wrong.status_code == 422 and "不是有效的 JSON" in wrong.get_data(as_text=True)


def test_deploy_then_migrate_a_running_case(client: FlaskClient, runtime: Runtime) -> None:
    case_id = start(runtime)
    advance_to(runtime, case_id, "mediate")
    login(client, "policy")
    draft_id, loaded = _new_draft(client)
    files = replaced(loaded["files"], "referral.bpmn", MEDIATION_DEADLINE, TEN_DAYS)
    assert _save(client, draft_id, files, loaded["revision"]).status_code == 200
    deployed = client.post(f"/policy/drafts/{draft_id}/deploy", json={})
    assert deployed.status_code == 200 and deployed.get_json()["number"] == 2
    page = text(client.get("/policy/processes/fangtiao_referral"))
    assert "已部署第2版" not in page and "调解期限届满" in page  # the change summary of version 2

    with runtime.sessions() as session:
        case_no = session.get(Case, case_id).case_no  # type: ignore[union-attr]
    preview = text(client.get("/policy/migrate?from=1&to=2"))
    assert (
        case_no in preview and "可以迁移" in preview and "2026-11-17" in preview and "2026-11-12" in preview
    )
    done = client.post("/policy/migrate", data={"from": "1", "to": "2", "case_no": [case_no]})
    assert done.status_code == 200 and f"已迁移 1 件：{case_no}" in text(done)
    with runtime.sessions() as session:
        timer = session.scalar(select(Timer).where(Timer.case_id == case_id, Timer.name == "调解期限届满"))
        assert timer is not None and session.get(Case, case_id).version_id == 2  # type: ignore[union-attr]

    login(client, "admin")  # administrators read, but do not change
    assert client.get("/policy/processes/fangtiao_referral").status_code == 200
    assert client.post("/policy/versions/2/draft").status_code == 403


def test_a_hostile_file_is_refused_with_a_clear_message(client: FlaskClient) -> None:
    login(client, "policy")
    draft_id, loaded = _new_draft(client)
    entity = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    refused = _save(client, draft_id, {**loaded["files"], "referral.bpmn": entity}, loaded["revision"])
    assert refused.status_code == 422 and "DOCTYPE" in refused.get_json()["error"]
    named = _save(client, draft_id, {**loaded["files"], "../x.bpmn": "<x/>"}, loaded["revision"])
    assert named.status_code == 422 and "文件名" in named.get_json()["error"]
    again = client.get(f"/policy/drafts/{draft_id}/files.json").get_json()
    assert again["revision"] == loaded["revision"] and again["files"] == loaded["files"]


def _next_scenario_number(files: dict[str, str]) -> int:
    """A recorded scenario is numbered after the highest numbered one the draft holds."""
    numbers = [re.match(r"scenarios/(\d+)_", name) for name in files]
    return max(int(m.group(1)) for m in numbers if m) + 1


def test_a_scenario_written_in_the_editor_is_kept_with_the_draft(
    client: FlaskClient, runtime: Runtime
) -> None:
    login(client, "policy")
    draft_id, loaded = _new_draft(client)
    scenario = json.loads(loaded["files"]["scenarios/05_unsuitable_category_other.json"])
    scenario["name"] = "新场景：其他类型纠纷不适宜调解"
    kept = client.post(
        f"/policy/drafts/{draft_id}/scenarios/new",
        json={"scenario": scenario, "expected_revision": loaded["revision"]},
    )
    assert kept.status_code == 200
    recorded = f"scenarios/{_next_scenario_number(loaded['files'])}_recorded.json"
    assert kept.get_json()["file"] == recorded
    assert kept.get_json()["revision"] == loaded["revision"] + 1
    assert json.loads(kept.get_json()["files"][recorded])["name"] == scenario["name"]
    wrong = client.post(
        f"/policy/drafts/{draft_id}/scenarios/new",
        json={"scenario": {"name": "缺少步骤"}, "expected_revision": loaded["revision"] + 1},
    )
    assert wrong.status_code == 422 and "场景写法有误" in wrong.get_json()["error"]


def test_the_recorder_draws_the_real_forms_records_steps_and_refuses_bad_ones(
    client: FlaskClient, runtime: Runtime
) -> None:
    login(client, "policy")
    draft_id, loaded = _new_draft(client)
    page = client.get(f"/policy/drafts/{draft_id}/recorder")
    assert page.status_code == 200 and "录制场景" in text(page)
    assert f'id="open-recorder" href="/policy/drafts/{draft_id}/recorder"' in client.get(
        f"/policy/drafts/{draft_id}"
    ).get_data(as_text=True)
    url, clock = f"/policy/drafts/{draft_id}/recorder", "2026-11-02T09:00:00+08:00"

    drawn = client.post(url, json={"clock": clock, "steps": [], "form": {"do": "start", "as": "clerk"}})
    assert drawn.status_code == 200
    form = drawn.get_json()["form_html"]
    assert (
        'id="f-petitioner_name"' in form
        and 'id="f-received_on" name="received_on" value="2026-11-02"' in form
    )
    assert drawn.get_json()["registrars"][0] == {"username": "clerk", "name": "王芳"}

    typed = {k: [str(v)] for k, v in REGISTRATION.items()}
    registered = client.post(
        url, json={"clock": clock, "steps": [], "propose": {"do": "start", "as": "clerk", "fields": typed}}
    ).get_json()
    assert registered["step"] == {"do": "start", "as": "clerk", "data": REGISTRATION}
    (case,) = registered["cases"]
    (task,) = case["tasks"]
    assert (task["task"], task["role_name"], task["due_text"]) == (
        "screen_case",
        "信访部门经办人",
        "2026年11月17日 23:59",
    )
    assert case["status_text"] == "办理中" and case["expect"]["open_tasks"][0]["task"] == "screen_case"

    refused = client.post(
        url,
        json={
            "clock": clock,
            "steps": [registered["step"]],
            "propose": {"do": "complete", "task": "screen_case", "as": "clerk", "fields": {}},
        },
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"] == "提交的内容有误，请按提示修改"
    assert refused.get_json()["errors"]["dispute_category"] == "请选择纠纷类型"
    for body in ({"steps": []}, {"clock": clock, "steps": "无"}, [1]):
        bad = client.post(url, json=body)
        assert bad.status_code == 422 and re.search(r"[\u4e00-\u9fff]", bad.get_json()["error"]), body

    # kept over the revision the page loaded; an older one is a conflict and nothing is saved
    scenario = {"name": "录制：登记", "clock": clock, "steps": [registered["step"]]}
    save = f"/policy/drafts/{draft_id}/scenarios/new"
    kept = client.post(save, json={"scenario": scenario, "expected_revision": loaded["revision"]})
    assert (
        kept.status_code == 200 and json.loads(kept.get_json()["files"][kept.get_json()["file"]]) == scenario
    )
    stale = client.post(save, json={"scenario": scenario, "expected_revision": loaded["revision"]})
    assert stale.status_code == 409 and "未保存" in stale.get_json()["error"]
    missing = client.post(save, json={"scenario": scenario})
    assert missing.status_code == 422 and "expected_revision" in missing.get_json()["error"]
    with runtime.sessions() as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None and draft.revision == loaded["revision"] + 1

    login(client, "admin")  # administrators read drafts but do not record
    assert client.get(f"/policy/drafts/{draft_id}/recorder").status_code == 403
    forbidden = client.post(url, json={"clock": clock, "steps": []})
    assert forbidden.status_code == 403 and "只有流程管理员" in forbidden.get_json()["error"]


def test_the_recorder_answers_a_refusal_with_its_error_keys_and_records_corrections_and_extensions(
    client: FlaskClient, runtime: Runtime
) -> None:
    """A refused step's answer carries what records it as expected; the correction's and the extension's
    inputs are checked (a 422 with a Chinese message); nothing is saved with the draft by recording."""
    login(client, "policy")
    draft_id, loaded = _new_draft(client)
    url = f"/policy/drafts/{draft_id}/recorder"
    existing = json.loads(
        (ROOT / "processes/scenarios/40_several_parties_agreement_corrected.json").read_text()
    )
    clock, steps = existing["clock"], existing["steps"][:11]  # up to the written agreement

    answer = client.post(url, json={"clock": clock, "steps": steps}).get_json()
    (case,) = answer["cases"]
    assert [u["username"] for u in case["extenders"]] == ["leader"]  # the limit runs again after mediation
    agreement = next(d for d in case["in_force"] if d["kind"] == "agreement")
    assert agreement["title"] == "人民调解协议书" and agreement["correctors"][0]["username"] == "mediator"
    assert {"key": "performance_deadline", "label": "履行期限", "value": "2026-11-30"} in agreement["texts"]

    correction = {"do": "correct_document", "as": "mediator", "kind": "agreement", "reason": " "}
    rows = [["performance_deadline", "2026-12-05"]]
    refused = client.post(url, json={"clock": clock, "steps": steps, "propose": {**correction, "rows": rows}})
    assert refused.status_code == 422 and refused.get_json()["errors"] == {
        "correction_reason": "请填写更正原因"
    }
    refusal = refused.get_json()["refusal"]
    assert refusal == {
        "error": "提交的内容有误，请按提示修改",
        "field_errors": {"correction_reason": "请填写更正原因"},
    }
    recorded = client.post(
        url, json={"clock": clock, "steps": steps, "propose": {**correction, "rows": rows, **refusal}}
    )
    assert recorded.status_code == 200
    assert recorded.get_json()["step"] == {**correction, "changes": dict(rows), **refusal}

    for rows, message in [
        ("performance_deadline=2026-12-05", "更正的内容应为若干行“字段名、新值”"),
        ([["", "2026-12-05"]], "更正内容第1行：请选择要更正的字段"),
        ([], "请至少填写一项更正的内容（字段和新值）"),
    ]:
        bad = client.post(url, json={"clock": clock, "steps": steps, "propose": {**correction, "rows": rows}})
        assert (
            bad.status_code == 422 and bad.get_json()["error"] == message and "refusal" not in bad.get_json()
        )
    for proposal, message in [
        ({"do": "extend_petition", "as": "leader", "reason": ["理由"]}, "延长理由应为文字"),
        ({"do": "extend_petition", "as": "", "reason": "需核实"}, "请选择办理人"),
        ({**correction, "case": "0", "rows": [["terms", "x"]]}, "请选择案件"),
    ]:
        bad = client.post(url, json={"clock": clock, "steps": steps, "propose": proposal})
        assert bad.status_code == 422 and bad.get_json()["error"] == message
    extension = {"do": "extend_petition", "as": "leader", "reason": "需核实"}
    paused = client.post(url, json={"clock": clock, "steps": steps[:10], "propose": extension})
    assert paused.status_code == 422 and paused.get_json()["refusal"] == {
        "error": "信访事项调解期间办理期限暂停计算，调解结束后方可延长"
    }
    with runtime.sessions() as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None and (draft.revision, draft.files) == (loaded["revision"], loaded["files"])


def test_the_timer_builder_reads_and_evaluates_an_expression_with_the_sample_data(
    client: FlaskClient,
) -> None:
    login(client, "policy")
    draft_id, _ = _new_draft(client)
    url = f"/policy/drafts/{draft_id}/timer"
    shown = client.post(url, json={"expression": f"warning_time({MEDIATION_DEADLINE}, 1)"})
    assert shown.status_code == 200
    answer = shown.get_json()
    assert answer["parts"] == {
        "function": "deadline_days",
        "anchor": 'acceptance["accepted_at"]',
        "count": 15,
        "term": 'acceptance["extension_days"]',
        "lead": 1,
    }
    assert answer["error"] is None and answer["value"].startswith("2026-11-17")
    assert answer["display"] == "2026年11月17日 00:00"
    anchors = {a["path"]: a["label"] for a in answer["anchors"]}
    assert anchors["registered_at"] == "案件登记时间"
    assert anchors['acceptance["accepted_at"]'] == "受理并出具回执 › accepted_at"
    assert 'acceptance["extension_days"]' in {n["path"] for n in answer["numbers"]}

    # an expression giving no moment: why, in Chinese; the data still offered to the builder
    broken = client.post(url, json={"expression": "deadline_days(accepted_at, 15)"})
    assert broken.status_code == 200 and broken.get_json()["value"] is None
    assert broken.get_json()["error"].endswith("无法用示例数据计算：没有数据 accepted_at")
    assert broken.get_json()["parts"]["anchor"] == "accepted_at" and broken.get_json()["anchors"]
    refused = client.post(url, json={"expression": '__import__("os")'})
    assert refused.status_code == 200 and "不符合表达式规则" in refused.get_json()["error"]
    assert refused.get_json()["parts"] is None

    for body in ({}, {"expression": 15}, ["deadline_days"]):
        wrong = client.post(url, json=body)
        assert wrong.status_code == 422 and wrong.get_json()["error"].startswith("请以 JSON 提交定时表达式")
    not_json = client.post(url, data="expression=x", headers={"Accept": "application/json"})
    assert not_json.status_code == 422 and "请以 JSON 提交定时表达式" in not_json.get_json()["error"]
    empty = client.post(url, json={"expression": "  "})  # a new timer: the builder still gets the data
    assert empty.status_code == 200 and empty.get_json()["error"] == "请填写定时表达式，或用构建器生成"
    assert empty.get_json()["anchors"] and empty.get_json()["parts"] is None
    assert client.post("/policy/drafts/9999/timer", json={"expression": "x"}).status_code == 404
