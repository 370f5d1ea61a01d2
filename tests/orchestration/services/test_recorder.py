"""The scenario recorder (both databases hold the draft; the replays run on throwaway databases): a scenario
recorded step by step from the real forms, kept with the draft, passes as the draft's scenarios are run;
a failing step is refused with its errors; only policy officers record, only the author keeps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestration.domain.access import Viewer
from orchestration.domain.procedure import read_directories
from orchestration.engine.runtime import Runtime
from orchestration.errors import Conflict, Forbidden, InvalidData
from orchestration.services import scenarios
from orchestration.services.recorder import Recording, Refused
from orchestration.services.repository import RepositoryService
from orchestration.store.models import Draft
from tests.helpers import REGISTRATION, add_colleague, viewer
from tests.orchestration.services.procedure_edits import replaced

ROOT = Path(__file__).resolve().parents[3]
FILES = read_directories(ROOT / "processes", ROOT / "forms")
CLOCK = "2026-11-02T09:00:00+08:00"
# the registration as the browser sends it: every value a string, as typed
TYPED = {k: [str(v)] for k, v in REGISTRATION.items()}


@pytest.fixture
def repository(runtime: Runtime) -> RepositoryService:
    return RepositoryService(runtime)


class Recorder:
    """What the browser does: holds the steps, posts them with each proposal, adds what comes back."""

    def __init__(self, repository: RepositoryService, policy: Viewer, draft_id: int) -> None:
        self.repository, self.policy, self.draft_id = repository, policy, draft_id
        self.steps: list[dict[str, Any]] = []

    def show(self, form: dict[str, Any] | None = None) -> Recording:
        return self.repository.replay(self.policy, self.draft_id, CLOCK, self.steps, form_for=form)

    def propose(self, step: dict[str, Any]) -> Recording:
        recording = self.repository.replay(self.policy, self.draft_id, CLOCK, self.steps, step)
        assert recording.step is not None
        self.steps.append(recording.step)
        return recording


def test_a_scenario_recorded_from_the_forms_is_kept_and_passes_on_the_draft(
    runtime: Runtime, repository: RepositoryService
) -> None:
    policy = viewer(runtime, "policy")
    draft = repository.create_draft(policy, 1)
    # the draft's own files run: its form's title is what the recorder draws
    files = replaced(
        draft.files, "forms/screen_case.json", '"title": "甄别适用范围"', '"title": "甄别（草稿）"'
    )
    draft = repository.save_draft(policy, draft.id, files, draft.revision)
    recorder = Recorder(repository, policy, draft.id)

    empty = recorder.show({"do": "start", "as": "clerk"})
    assert empty.cases == [] and "clerk" in [p.username for p in empty.registrars]
    assert empty.form is not None
    assert (empty.form.form.name, empty.form.values["received_on"]) == ("register", "2026-11-02")

    registered = recorder.propose({"do": "start", "as": "clerk", "fields": TYPED})
    # typed as the runtime's validation types it, as a scenario file writes it
    assert registered.step == {"do": "start", "as": "clerk", "data": REGISTRATION}
    (case,) = registered.cases
    (task,) = case.tasks
    assert (task.task, task.role, task.org, [p.username for p in task.users]) == (
        "screen_case",
        "petition_clerk",
        "540102001-xf",
        ["clerk"],
    )

    screening = recorder.show({"do": "complete", "task": "screen_case", "as": "clerk"})
    assert screening.form is not None and screening.form.form.title == "甄别（草稿）"
    screened = recorder.propose(
        {
            "do": "complete",
            "task": "screen_case",
            "as": "clerk",
            "fields": {"dispute_category": ["citizen_property"], "in_legal_proceedings": []},
        }
    )
    assert screened.step is not None
    assert screened.step["data"]["dispute_category"] == "citizen_property"
    assert screened.step["data"]["in_legal_proceedings"] is False  # an unticked box: "no"
    assert [t.task for t in screened.cases[0].tasks] == ["guide_divert"]
    # a file field sends the names of the files chosen; the scenario keeps the names
    consent = {"explanation_given": ["true"], "privacy_notice_given": ["true"], "consent": ["agree"]}
    guided = recorder.propose(
        {
            "do": "complete",
            "task": "guide_divert",
            "as": "clerk",
            "fields": {**consent, "consent_documents": ["同意调解书.pdf", ""]},
        }
    )
    assert guided.step is not None
    assert guided.step["data"] == {
        "explanation_given": True,
        "privacy_notice_given": True,
        "consent": "agree",
        "consent_documents": ["同意调解书.pdf"],
    }

    moved = recorder.propose({"do": "advance", "by": {"days": 2}})
    assert moved.now.isoformat() == "2026-11-04T01:00:00+00:00"
    recorder.propose({"do": "timers"})
    captured = recorder.show().cases[0].expect
    assert captured["open_tasks"][0]["task"] == "respondent_consent" and "case" not in captured
    recorder.propose(captured)

    scenario = {"name": "录制：登记、甄别、引导分流，两日后", "clock": CLOCK, "steps": recorder.steps}
    name = repository.record_scenario(policy, draft.id, scenario, draft.revision)
    kept = repository.draft(policy, draft.id)
    assert json.loads(kept.files[name]) == scenario and kept.revision == draft.revision + 1
    # as 场景对比 runs it: on the draft and on the deployed version
    (compared,) = scenarios.compare({name: kept.files[name]}, kept.files, FILES)
    assert compared.draft.passed and compared.deployed.passed, compared


def test_a_failing_step_is_refused_with_its_errors_and_not_added(
    runtime: Runtime, repository: RepositoryService
) -> None:
    policy = viewer(runtime, "policy")
    draft = repository.create_draft(policy, 1)
    recorder = Recorder(repository, policy, draft.id)

    def refused(step: dict[str, Any]) -> InvalidData:
        with pytest.raises(InvalidData) as caught:
            recorder.propose(step)
        return caught.value

    missing = refused({"do": "start", "as": "clerk", "fields": {"matter": ["院墙纠纷"]}})
    assert missing.message == "提交的内容有误，请按提示修改"
    assert missing.errors["petitioner_name"] == "请填写信访人姓名"
    assert refused({"do": "start", "as": "mediator", "fields": TYPED}).message == (
        "只有信访部门经办人可以登记信访事项"
    )
    assert "场景中的用户不存在：nobody" in refused({"do": "start", "as": "nobody", "fields": TYPED}).message
    assert "表单内容" in refused({"do": "start", "as": "clerk", "fields": {"matter": "不是列表"}}).message
    recorder.propose({"do": "start", "as": "clerk", "fields": TYPED})

    wrong_user = {"do": "complete", "task": "screen_case", "as": "clerk2", "fields": {}}
    assert refused(wrong_user).message == "您无权办理该任务"
    assert "没有待办任务 mediate" in refused({**wrong_user, "task": "mediate", "as": "clerk"}).message
    assert "时钟不能倒退" in refused({"do": "clock", "to": "2026-11-01T09:00:00+08:00"}).message
    misspelt = refused({"do": "expect", "outcom": None})
    assert misspelt.message.startswith("步骤写法有误：第2步（expect）")
    assert "待办任务：期望 ['mediate']" in refused({"do": "expect", "open_tasks": ["mediate"]}).message
    assert "应为对象" in refused("advance").message  # type: ignore[arg-type]
    assert len(recorder.steps) == 1

    with pytest.raises(InvalidData, match="起始时间应为带时区的时间"):
        repository.replay(policy, draft.id, "2026-11-02T09:00:00", [])
    with pytest.raises(InvalidData, match="已录制的第1步（complete）在草稿上不再成立"):
        repository.replay(policy, draft.id, CLOCK, [{"do": "complete", "task": "screen_case", "as": "clerk"}])
    with pytest.raises(InvalidData, match="请选择要填写的表单"):
        repository.replay(policy, draft.id, CLOCK, recorder.steps, form_for={"do": "timers"})


def test_only_policy_officers_record_and_only_the_author_keeps_over_the_revision_loaded(
    runtime: Runtime, repository: RepositoryService
) -> None:
    add_colleague(runtime, "policy2", "周洁", of="policy")
    policy = viewer(runtime, "policy")
    draft = repository.create_draft(policy, 1)
    admin = viewer(runtime, "admin")
    with pytest.raises(Forbidden):
        repository.recorder_draft(admin, draft.id)
    with pytest.raises(Forbidden):
        repository.replay(admin, draft.id, CLOCK, [])
    recorded = Recorder(repository, viewer(runtime, "policy2"), draft.id)
    recorded.propose({"do": "start", "as": "clerk", "fields": TYPED})  # another officer may try it out
    scenario = {"name": "录制", "clock": CLOCK, "steps": recorded.steps}
    with pytest.raises(Forbidden, match="只有其作者可以修改"):
        repository.record_scenario(viewer(runtime, "policy2"), draft.id, scenario, draft.revision)
    repository.save_draft(policy, draft.id, draft.files, draft.revision)
    with pytest.raises(Conflict, match="您的修改基于第1版，未保存"):
        repository.record_scenario(policy, draft.id, scenario, draft.revision)
    with runtime.sessions() as session:
        kept = session.get(Draft, draft.id)
        assert kept is not None and kept.revision == 2 and kept.files == draft.files


def test_with_two_cases_a_step_and_a_check_name_the_earlier_case(
    runtime: Runtime, repository: RepositoryService
) -> None:
    policy = viewer(runtime, "policy")
    recorder = Recorder(repository, policy, repository.create_draft(policy, 1).id)
    recorder.propose({"do": "start", "as": "clerk", "fields": TYPED})
    second = recorder.propose({"do": "start", "as": "clerk2", "fields": {**TYPED, "matter": ["另一件纠纷"]}})
    assert [c.expect.get("case") for c in second.cases] == [0, None]  # the last case needs no `case`
    first = {"do": "complete", "task": "screen_case", "as": "clerk", "case": 0}
    drawn = recorder.show(first)
    assert drawn.form is not None and drawn.form.form.name == "screen_case"
    screened = recorder.propose({**first, "fields": {"dispute_category": ["citizen_property"]}})
    assert screened.step is not None and screened.step["case"] == 0
    assert [[t.task for t in c.tasks] for c in screened.cases] == [["guide_divert"], ["screen_case"]]
    recorder.propose(screened.cases[0].expect)
    assert recorder.steps[-1]["case"] == 0


def test_a_risk_is_reported_in_its_form_by_the_mediators_who_may(
    runtime: Runtime, repository: RepositoryService
) -> None:
    """Recording goes on from the steps of a scenario file: here up to mediation (scenario 19)."""
    policy = viewer(runtime, "policy")
    recorder = Recorder(repository, policy, repository.create_draft(policy, 1).id)
    existing = json.loads((ROOT / "processes/scenarios/19_risk_report.json").read_text(encoding="utf-8"))
    recorder.steps = existing["steps"][:11]  # accepted for mediation
    clock = existing["clock"]

    def replay(proposal: Any = None, form: Any = None) -> Recording:
        return repository.replay(policy, recorder.draft_id, clock, recorder.steps, proposal, form)

    (case,) = replay().cases
    assert [p.username for p in case.risk_reporters] == ["mediator"]
    with pytest.raises(InvalidData, match="此刻该用户不能报告风险"):
        replay(form={"do": "report_risk", "as": "clerk"})
    with pytest.raises(InvalidData, match="您无权查看该案件"):
        replay(form={"do": "report_risk", "as": "mediator2"})
    drawn = replay(form={"do": "report_risk", "as": "mediator"}).form
    assert drawn is not None and drawn.form.name == "report_risk"
    fields = {k: [str(v)] for k, v in existing["steps"][16]["data"].items()}
    reported = replay({"do": "report_risk", "as": "mediator", "fields": fields})
    assert reported.step == {"do": "report_risk", "as": "mediator", "data": existing["steps"][16]["data"]}
    assert [t.task for t in reported.cases[0].tasks] == ["handle_risk", "mediate"]


def test_a_refusal_is_recorded_as_expected_and_replays_as_the_runner_checks_it(
    runtime: Runtime, repository: RepositoryService
) -> None:
    """As scenario 29 does: a date out of range refused with its message, an invalid date with its field
    error; each recorded from what the runtime gave, then the valid step."""
    policy = viewer(runtime, "policy")
    draft = repository.create_draft(policy, 1)
    recorder = Recorder(repository, policy, draft.id)
    late = {"do": "start", "as": "clerk", "fields": {**TYPED, "received_on": ["9999-12-31"]}}
    with pytest.raises(Refused) as caught:
        recorder.propose(late)
    assert caught.value.expected == {"error": "信访日期（9999年12月31日）不能晚于今天（2026年11月2日）"}
    kept = recorder.propose({**late, **caught.value.expected})
    assert kept.step is not None and kept.step["error"] == caught.value.expected["error"]
    assert kept.step["data"]["received_on"] == "9999-12-31" and kept.cases == []  # as the browser sent it
    recorder.propose({"do": "start", "as": "clerk", "fields": TYPED})

    screening = {
        "do": "complete",
        "task": "screen_case",
        "as": "clerk",
        "fields": {"petition_accepted_on": ["2026-11-31"], "dispute_category": ["citizen_property"]},
    }
    with pytest.raises(Refused) as caught:
        recorder.propose(screening)
    assert caught.value.expected == {
        "error": "提交的内容有误，请按提示修改",
        "field_errors": {"petition_accepted_on": "请输入有效的日期（如2026-11-28）"},
    }
    recorder.propose({**screening, **caught.value.expected})

    # what is not refused, or refused otherwise, is not recorded as refused
    valid = {**screening, "fields": {"dispute_category": ["citizen_property"]}}
    with pytest.raises(InvalidData, match=r"不能记为应被拒绝的步骤：应当出错.*但操作成功了"):
        recorder.propose({**valid, "error": "受理日期有误"})
    with pytest.raises(InvalidData, match="不能记为应被拒绝的步骤：字段错误：期望"):
        recorder.propose({**screening, "field_errors": {"dispute_category": "请选择纠纷类型"}})
    with pytest.raises(InvalidData) as other:
        recorder.propose({"do": "clock", "to": "2026-11-01T09:00:00+08:00"})
    assert not isinstance(other.value, Refused)  # the recording's own problem, not the runtime's refusal
    assert len(recorder.steps) == 3
    recorder.propose(valid)
    assert [t.task for t in recorder.show().cases[0].tasks] == ["guide_divert"]

    scenario = {"name": "录制：日期越界被拒绝", "clock": CLOCK, "steps": recorder.steps}
    name = repository.record_scenario(policy, draft.id, scenario, draft.revision)
    files = repository.draft(policy, draft.id).files
    (compared,) = scenarios.compare({name: files[name]}, files, FILES)
    assert compared.draft.passed and compared.deployed.passed, compared


def test_the_petition_office_leader_extends_the_limit_while_it_runs(
    runtime: Runtime, repository: RepositoryService
) -> None:
    """Scenario 27's case up to the accepted petition; the extension offered to its office's leader only
    while the limit runs and was not extended; a blank reason refused and recordable as such."""
    policy = viewer(runtime, "policy")
    recorder = Recorder(repository, policy, repository.create_draft(policy, 1).id)
    existing = json.loads(
        (ROOT / "processes/scenarios/27_petition_acceptance_and_extension.json").read_text(encoding="utf-8")
    )
    recorder.steps = [existing["steps"][0]]
    clock = existing["clock"]

    def replay(proposal: Any = None) -> Recording:
        recording = repository.replay(policy, recorder.draft_id, clock, recorder.steps, proposal)
        if recording.step is not None:
            recorder.steps.append(recording.step)
        return recording

    assert replay().cases[0].extenders == []  # not yet accepted: the limit has not started
    recorder.steps += existing["steps"][3:7]  # accepted on 2026-06-03
    (case,) = replay().cases
    assert [p.username for p in case.extenders] == ["leader"]
    with pytest.raises(Refused) as caught:
        replay({"do": "extend_petition", "as": "leader", "reason": "  "})
    assert caught.value.expected == {
        "error": "提交的内容有误，请按提示修改",
        "field_errors": {"extension_reason": "请填写延长办理期限的理由"},
    }
    replay({"do": "extend_petition", "as": "leader", "reason": "  ", **caught.value.expected})
    with pytest.raises(InvalidData, match="请选择办理人"):
        replay({"do": "extend_petition", "reason": "需核实"})
    with pytest.raises(InvalidData, match="延长理由应为文字"):
        replay({"do": "extend_petition", "as": "leader", "reason": 30})
    extended = replay({"do": "extend_petition", "as": "leader", "reason": "需会同住建部门核实", "extra": 1})
    assert extended.step == {"do": "extend_petition", "as": "leader", "reason": "需会同住建部门核实"}
    (case,) = extended.cases
    assert case.documents == ["extension_notice"] and case.extenders == []
    (title,) = case.document_titles
    assert title.startswith("信访事项延期办理告知书（(2026)") and title.endswith("号）"), title
    (notice,) = case.in_force
    assert (notice.kind, [p.username for p in notice.correctors]) == ("extension_notice", ["clerk", "leader"])


def test_a_document_in_force_is_corrected_by_the_issuing_body(
    runtime: Runtime, repository: RepositoryService
) -> None:
    """Scenario 40's case up to the written agreement: the agreement is offered to the mediation
    organisation's mediators with its text contents; the correction's rows are checked in Chinese, a
    later correction corrects the new document."""
    policy = viewer(runtime, "policy")
    draft = repository.create_draft(policy, 1)
    recorder = Recorder(repository, policy, draft.id)
    existing = json.loads(
        (ROOT / "processes/scenarios/40_several_parties_agreement_corrected.json").read_text(encoding="utf-8")
    )
    recorder.steps = existing["steps"][:11]
    agreement = next(d for d in recorder.show().cases[0].in_force if d.kind == "agreement")
    assert [p.username for p in agreement.correctors] == ["mediator"]
    assert ("performance_deadline", "2026-11-30") in agreement.texts
    assert "parties" not in dict(agreement.texts)  # a list: not a text the form changes

    correction = {"do": "correct_document", "as": "mediator", "kind": "agreement", "reason": "履行期限有误"}
    for rows, message in [
        (None, "更正的内容应为若干行"),
        ([["performance_deadline"]], "更正的内容应为若干行"),
        ([["", ""], ["  ", "2026-12-05"]], "更正内容第2行：请选择要更正的字段"),
        ([["terms", "x"], ["terms", "y"]], "更正内容第2行：字段“terms”已在前面填写过"),
        ([["", " "]], "请至少填写一项更正的内容"),
    ]:
        with pytest.raises(InvalidData, match=message):
            recorder.propose({**correction, "rows": rows})
    with pytest.raises(InvalidData, match="请选择要更正的文书"):
        recorder.propose({**correction, "kind": "", "rows": [["terms", "x"]]})
    with pytest.raises(InvalidData, match="案件没有现行有效的 mediation_record 文书"):
        recorder.propose({**correction, "kind": "mediation_record", "rows": [["terms", "x"]]})
    with pytest.raises(Refused) as caught:
        recorder.propose({**correction, "rows": [["no_such_key", "x"]]})
    assert caught.value.expected == {"error": "文书中没有这些内容，不能更正：no_such_key"}
    assert len(recorder.steps) == 11

    corrected = recorder.propose({**correction, "rows": [["", ""], [" performance_deadline", "2026-12-05 "]]})
    assert corrected.step == {**correction, "changes": {"performance_deadline": "2026-12-05"}}
    (case,) = corrected.cases
    assert case.documents[-2:] == ["agreement", "agreement"]
    new = next(d for d in case.in_force if d.kind == "agreement")
    assert new.number == "(2026)城八人调字第2号" and new.number != agreement.number
    assert ("performance_deadline", "2026-12-05") in new.texts
    recorder.propose(
        {
            "do": "expect",
            "document_numbers": [
                "(2026)城八访调移字第1号",
                "(2026)城八访调受字第1号",
                "(2026)城八人调告字第1号",
                "(2026)城八人调字第1号 → (2026)城八人调字第2号",
                "(2026)城八人调字第2号",
            ],
            "document_content": {"agreement.performance_deadline": "2026-12-05"},
        }
    )
    scenario = {"name": "录制：更正协议书的履行期限", "clock": existing["clock"], "steps": recorder.steps}
    name = repository.record_scenario(policy, draft.id, scenario, draft.revision)
    files = repository.draft(policy, draft.id).files
    (compared,) = scenarios.compare({name: files[name]}, files, FILES)
    assert compared.draft.passed, compared
