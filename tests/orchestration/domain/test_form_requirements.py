"""Every required and conditionally required field of every form in forms/ is enforced by the runtime.

The cases are generated from the form files when the tests are collected: one per name in
``schema.required`` and one per condition of ``ui.required_when`` (with the condition made true), plus
any in ``REVIEWED`` that the files no longer have. Each submits a complete, valid sample through the
runtime (start_case, complete_task or report_risk) with just that field left out, and expects the
refusal to name that field alone, with the form's own Chinese message, and nothing to be written to
the database. A new required field is covered without a new test; a new form, or a condition no
sample meets, needs a row in ``SAMPLES`` (its cases fail until it has one).

Speed: per database, a case is driven to each task once and kept; a refused submission must leave the
whole database as it was (each case checks that), so the next case can use the same task. Taking the
field away is the only difference from the sample, and each sample's acceptance is asserted once
(``test_complete_sample_is_accepted``), on a case of its own: that is the positive control for every
field taken from it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from orchestration.domain.forms import Upload
from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.errors import InvalidData
from orchestration.store.db import make_engine
from orchestration.store.models import Attachment, AuditEvent, Base, Case, OpenTask
from tests.conftest import START, wipe
from tests.helpers import REGISTRATION, SUCCESS_PATH, actor, complete, deployed_runtime

FORMS_DIR = Path(__file__).resolve().parents[3] / "forms"
FORM_FILES = sorted(FORMS_DIR.glob("*.json"))
# Forms not behind a user task: the start form, and the risk report, a signal sent during mediation.
START_FORM = "register"
RISK_FORM = "report_risk"


def _pdf(name: str) -> tuple[Upload, ...]:
    return (Upload(name, "application/pdf", f"%PDF-1.4 {name}".encode()),)


@dataclass(frozen=True)
class Sample:
    """A complete, valid submission of one form, who submits it, and where its task is reached:
    ``after`` is the sample whose acceptance opens the task (None for the start form)."""

    key: str  # the form's name, then "/variant" for a second sample of the same form
    user: str
    data: Mapping[str, Any]
    after: str | None
    files: Mapping[str, tuple[Upload, ...]] = field(default_factory=dict)

    @property
    def form(self) -> str:
        return self.key.split("/")[0]

    def without(self, name: str) -> tuple[dict[str, Any], dict[str, tuple[Upload, ...]]]:
        data = {key: value for key, value in self.data.items() if key != name}
        return data, {key: value for key, value in self.files.items() if key != name}


# Uploads on the success path, so that a refused step also shows its files are not kept.
SUCCESS_UPLOADS = {
    "guide_divert": {"consent_documents": _pdf("当事人同意调解书.pdf")},
    "respondent_consent": {"respondent_consent_documents": _pdf("对方当事人同意调解书.pdf")},
    "draft_referral": {"legal_documents": _pdf("法律文书复印件.pdf")},
    "feedback_success": {"agreement_copy": _pdf("调解协议书复印件.pdf")},
}


def _success_path() -> list[Sample]:
    samples = [Sample(START_FORM, "clerk", REGISTRATION, None)]
    for name, user, data in SUCCESS_PATH:
        samples.append(Sample(name, user, data, samples[-1].key, SUCCESS_UPLOADS.get(name, {})))
    return samples


SAMPLES: list[Sample] = [
    *_success_path(),
    Sample(
        "guide_divert/refuse",
        "clerk",
        {
            "explanation_given": True,
            "privacy_notice_given": True,
            "consent": "refuse",
            "refusal_reason": "信访人坚持要求行政机关处理。",
        },
        "screen_case",
    ),
    Sample(
        "respondent_consent/refuse",
        "clerk",
        {
            "privacy_notice_given": True,
            "respondent_decision": "refuse",
            "respondent_refusal_reason": "对方当事人认为无需调解。",
        },
        "guide_divert",
    ),
    Sample(
        "approve_referral/send_back",
        "leader",
        {"approval": "send_back", "approval_comments": "移送函未附相关证明材料，请补充后重新报送。"},
        "draft_referral",
    ),
    Sample(
        "review_referral/return",
        "mediator",
        {"review_decision": "return", "return_reason": "涉及不动产登记更正，不属于人民调解范围。"},
        "approve_referral",
    ),
    Sample("decide_return", "clerk", {"return_decision": "accept_return"}, "review_referral/return"),
    Sample(
        "decide_return/dispute",
        "clerk",
        {"return_decision": "dispute", "return_opinion": "属于民事纠纷，可以调解。"},
        "review_referral/return",
    ),
    Sample(
        "consultation_petition_opinion",
        "clerk",
        {
            "petition_proposal": "mediation_accepts",
            "petition_opinion": "属于民事纠纷，应由原人民调解组织受理调解。",
            "petition_representative": "八廓街道信访办 王芳",
        },
        "decide_return/dispute",
    ),
    Sample(
        "consultation_petition_opinion/transfer",
        "clerk",
        {
            "petition_proposal": "transfer",
            "petition_transfer_org": "540102-tj",
            "petition_opinion": "纠纷疑难复杂，宜改由城关区人民调解工作指导中心调解。",
            "petition_representative": "八廓街道信访办 王芳",
        },
        "decide_return/dispute",
    ),
    Sample(
        "joint_consultation",
        "justice",
        {
            "consultation_date": "2026-11-02",
            "participants": "八廓街道信访办、八廓街道司法所、八廓街道人民调解委员会",
            "consultation_outcome": "mediation_accepts",
            "justice_opinion": "会商认为属于民事纠纷，由原人民调解组织受理调解。",
            "justice_representative": "八廓街道司法所 张伟",
        },
        "consultation_petition_opinion",
    ),
    Sample(
        # differs from the petition office's opinion: the question goes to the level above
        "joint_consultation/transfer",
        "justice",
        {
            "consultation_date": "2026-11-02",
            "participants": "八廓街道信访办、八廓街道司法所、八廓街道人民调解委员会",
            "consultation_outcome": "transfer",
            "transfer_org": "540102-tj",
            "justice_opinion": "纠纷疑难复杂，改由城关区人民调解工作指导中心调解。",
            "justice_representative": "八廓街道司法所 张伟",
        },
        "consultation_petition_opinion",
    ),
    Sample(
        "escalated_consultation",
        "county_justice",
        {
            "escalated_date": "2026-11-04",
            "escalated_participants": "城关区信访局孙丽、城关区司法局次旦",
            "escalated_outcome": "mediation_accepts",
            "escalated_reasons": "属于民事纠纷，由原人民调解组织受理调解。",
        },
        "joint_consultation/transfer",
    ),
    Sample(
        "escalated_consultation/transfer",
        "county_justice",
        {
            "escalated_date": "2026-11-04",
            "escalated_participants": "城关区信访局孙丽、城关区司法局次旦",
            "escalated_outcome": "transfer",
            "escalated_transfer_org": "540102-tj",
            "escalated_reasons": "纠纷疑难复杂，改由城关区人民调解工作指导中心调解。",
        },
        "joint_consultation/transfer",
    ),
    Sample(
        "mediate/extend",
        "mediator",
        {
            "session_record": "双方对损失数额分歧较大，已委托评估。",
            "mediation_outcome": "extend",
            "extension_days": 10,
            "extension_reason": "需等待评估结论。",
        },
        "review_referral",
    ),
    Sample(
        "mediate/hand_up",
        "mediator",
        {
            "session_record": "双方对诊疗过错各执一词。",
            "mediation_outcome": "hand_up",
            "handover_org": "540102-tj",
            "handover_reason": "专业性强，申请报送区人民调解工作指导中心。",
        },
        "review_referral",
    ),
    Sample(
        "decide_handover",
        "justice",
        {"handover_decision": "refuse", "handover_opinion": "先委托专家出具意见后继续调解。"},
        "mediate/hand_up",
    ),
    Sample(
        "mediate/terminate",
        "mediator",
        {
            "session_record": "信访人当场表示不再接受调解。",
            "mediation_outcome": "terminate",
            "termination_reason": "信访人要求终止调解（人民调解法第二十三条）。",
        },
        "review_referral",
    ),
    Sample(
        "feedback_failure",
        "mediator",
        {
            "fed_back_on": "2026-11-02",
            "failure_reasons": "信访人要求终止调解。",
            "materials_returned": "移送函、同意调解书、调解记录、调解终止告知书",
        },
        "mediate/terminate",
        {"materials": _pdf("调解记录.pdf")},
    ),
    Sample(
        "receive_failure",
        "clerk",
        {"received_by": "王芳", "next_steps": "按信访程序答复信访人。"},
        "feedback_failure",
    ),
    Sample(
        "receive_failure/follow_up",
        "clerk",
        {"received_by": "王芳", "next_steps": "按信访程序答复信访人。", "follow_up_requested": True},
        "feedback_failure",
    ),
    Sample(
        "follow_up_after_termination",
        "mediator",
        {
            "visited_on": "2026-11-02",
            "visit_method": "phone",
            "mediation_visitors": "次仁卓玛",
            "petition_visitors": "王芳",
            "social_effect": "信访人已起诉，未再信访。",
        },
        "receive_failure/follow_up",
    ),
    Sample(
        RISK_FORM,
        "mediator",
        {
            "risk_type": "mass_incident",
            "description": "业主相约到开发商售楼处聚集维权。",
            "police_recipient": "八廓派出所",
            "government_recipient": "八廓街道办事处",
            "receipt": "值班人员接收",
        },
        "review_referral",
    ),
    Sample(
        "handle_risk",
        "clerk",
        {"risk_assessment": "存在聚集风险，需提前介入。", "measures": "已约见业主代表释明调解进展。"},
        RISK_FORM,
    ),
]
SAMPLES_BY_KEY = {sample.key: sample for sample in SAMPLES}


@dataclass(frozen=True)
class Requirement:
    """One field a form requires: always, or only when another field has the value ``when``."""

    form: str
    field: str
    when: tuple[str, str] | None = None

    @classmethod
    def parse(cls, text: str) -> Requirement:
        match = re.fullmatch(r"(\w+)\.(\w+)(?:\[(\w+)=(\w+)\])?", text)
        assert match is not None, text
        form, name, other, value = match.groups()
        return cls(form, name, (other, value) if other else None)

    def __str__(self) -> str:
        condition = f"[{self.when[0]}={self.when[1]}]" if self.when else ""
        return f"{self.form}.{self.field}{condition}"

    def sample(self) -> Sample:
        """The first sample of the form that meets the condition (for a plain requirement, the first)."""
        for sample in SAMPLES:
            if sample.form == self.form and (
                self.when is None or sample.data.get(self.when[0]) == self.when[1]
            ):
                return sample
        raise AssertionError(f"SAMPLES has no valid data for {self}: add a row")


def _read_requirements() -> list[Requirement]:
    # From the files themselves rather than from what orchestration/forms.py makes of them, so that a
    # requirement the parser loses is still tested.
    requirements = []
    for path in FORM_FILES:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
        requirements += [Requirement(path.stem, name) for name in document["schema"].get("required", [])]
        for name, conditions in document.get("ui", {}).get("required_when", {}).items():
            requirements += [
                Requirement(path.stem, name, (other, value))
                for other, values in conditions.items()
                for value in values
            ]
    return requirements


# The requirements as last reviewed. Policy officers edit the form files; a requirement an edit drops
# (the policy may demand it, e.g. the reasons a mediation failed) is still tested from this list, and
# fails, instead of leaving with its test. New requirements are tested from the files straight away;
# test_reviewed_requirements_match_the_files asks for them to be added here.
REVIEWED = [
    "approve_referral.approval",
    "approve_referral.approval_comments[approval=send_back]",
    "decide_return.return_decision",
    "decide_return.return_opinion[return_decision=dispute]",
    "draft_referral.mediation_org",
    "draft_referral.referral_summary",
    "draft_referral.contact_person",
    "draft_referral.contact_phone",
    "feedback_failure.fed_back_on",
    "feedback_failure.failure_reasons",
    "feedback_failure.materials_returned",
    "feedback_success.fed_back_on",
    "feedback_success.agreement_copy",
    "follow_up_visit.visited_on",
    "follow_up_visit.visit_method",
    "follow_up_visit.mediation_visitors",
    "follow_up_visit.petition_visitors",
    "follow_up_after_termination.visited_on",
    "follow_up_after_termination.visit_method",
    "follow_up_after_termination.mediation_visitors",
    "follow_up_after_termination.petition_visitors",
    "follow_up_after_termination.social_effect",
    "follow_up_visit.performance",
    "follow_up_visit.social_effect",
    "guide_divert.explanation_given",
    "guide_divert.consent",
    "guide_divert.refusal_reason[consent=refuse]",
    "guide_divert.consent_documents[consent=agree]",
    "guide_divert.privacy_notice_given",
    "handle_risk.risk_assessment",
    "handle_risk.measures",
    "consultation_petition_opinion.petition_proposal",
    "consultation_petition_opinion.petition_opinion",
    "consultation_petition_opinion.petition_representative",
    "consultation_petition_opinion.petition_transfer_org[petition_proposal=transfer]",
    "escalated_consultation.escalated_date",
    "escalated_consultation.escalated_participants",
    "escalated_consultation.escalated_outcome",
    "escalated_consultation.escalated_reasons",
    "escalated_consultation.escalated_transfer_org[escalated_outcome=transfer]",
    "joint_consultation.consultation_date",
    "joint_consultation.participants",
    "joint_consultation.consultation_outcome",
    "joint_consultation.justice_opinion",
    "joint_consultation.justice_representative",
    "joint_consultation.transfer_org[consultation_outcome=transfer]",
    "mediate.session_record",
    "mediate.mediation_outcome",
    "mediate.agreement_form[mediation_outcome=agreement]",
    "mediate.agreement_facts[mediation_outcome=agreement]",
    "mediate.agreement_terms[mediation_outcome=agreement]",
    "mediate.agreement_effective_on[mediation_outcome=agreement]",
    "mediate.extension_days[mediation_outcome=extend]",
    "mediate.extension_reason[mediation_outcome=extend]",
    "mediate.termination_reason[mediation_outcome=terminate]",
    "mediate.handover_org[mediation_outcome=hand_up]",
    "mediate.handover_reason[mediation_outcome=hand_up]",
    "decide_handover.handover_decision",
    "decide_handover.handover_opinion",
    "receive_failure.received_by",
    "receive_success.received_by",
    "register.petitioner_name",
    "register.petitioner_id_number",
    "register.petitioner_phone",
    "register.respondent_name",
    "register.respondent_type",
    "register.locality",
    "register.petition_channel",
    "register.received_on",
    "register.matter",
    "register.facts",
    "report_risk.risk_type",
    "report_risk.description",
    "report_risk.police_recipient",
    "report_risk.government_recipient",
    "report_risk.receipt",
    "review_referral.review_decision",
    "review_referral.return_reason[review_decision=return]",
    "review_referral.mediator_name[review_decision=accept]",
    "respondent_consent.privacy_notice_given",
    "respondent_consent.respondent_decision",
    "respondent_consent.respondent_refusal_reason[respondent_decision=refuse]",
    "respondent_consent.respondent_consent_documents[respondent_decision=agree]",
    "screen_case.dispute_category",
    "conclude_petition.concluded_on",
]
IN_FILES = _read_requirements()
REQUIREMENTS = [*IN_FILES, *(r for r in map(Requirement.parse, REVIEWED) if r not in IN_FILES)]


class CaseBank:
    """Cases standing at a task, built through the runtime and kept while nothing has changed them."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._built = 0
        self._kept: dict[str, tuple[int, int]] = {}  # key of the sample accepted last -> (case, revision)

    def at(self, after: str) -> int:
        kept = self._kept.get(after)
        if kept is not None and self.revision(kept[0]) == kept[1]:
            return kept[0]
        case_id = self.build(after)
        self._kept[after] = (case_id, self.revision(case_id))
        return case_id

    def take(self, after: str) -> int:
        """A case at the task that the caller may move on (it is no longer kept)."""
        case_id = self.at(after)
        del self._kept[after]
        return case_id

    def build(self, after: str) -> int:
        path = [SAMPLES_BY_KEY[after]]
        while path[-1].after is not None:
            path.append(SAMPLES_BY_KEY[path[-1].after])
        self._built += 1
        # The same parties and matter as a case already mediated would be screened out as mediated before.
        start = {**path.pop().data, "petitioner_name": f"张{self._built}号"}
        case_id = self.submit(SAMPLES_BY_KEY[START_FORM], None, start, {})
        for sample in reversed(path):
            self.submit(sample, case_id, dict(sample.data), sample.files)
        return case_id

    def submit(
        self,
        sample: Sample,
        case_id: int | None,
        data: Mapping[str, Any],
        files: Mapping[str, Sequence[Upload]],
    ) -> int:
        who = actor(self.runtime, sample.user)
        if sample.form == START_FORM:
            return self.runtime.start_case(data, who).case_id
        assert case_id is not None
        if sample.form == RISK_FORM:
            return self.runtime.report_risk(case_id, data, who).case_id
        with self.runtime.sessions() as session:
            task_id = session.scalar(
                select(OpenTask.id).where(OpenTask.case_id == case_id, OpenTask.form_name == sample.form)
            )
        assert task_id is not None, f"case {case_id} has no open task with form {sample.form}"
        return complete(self.runtime, task_id, data, who, files=files).case_id

    def revision(self, case_id: int) -> int:
        with self.runtime.sessions() as session:
            revision = session.scalar(select(Case.revision).where(Case.id == case_id))
        assert revision is not None
        return revision

    def attachments(self, case_id: int) -> int:
        with self.runtime.sessions() as session:
            return (
                session.scalar(
                    select(func.count()).select_from(Attachment).where(Attachment.case_id == case_id)
                )
                or 0
            )

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table: a refused submission must not have written anything anywhere."""
        with self.runtime.sessions() as session:
            return {
                table.name: [
                    tuple(row) for row in session.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for table in Base.metadata.sorted_tables
            }


@pytest.fixture(scope="module")
def bank(database_url: str) -> Iterator[CaseBank]:
    engine = make_engine(database_url)
    wipe(engine)
    yield CaseBank(deployed_runtime(engine, FrozenClock(START)))
    engine.dispose()


def test_reviewed_requirements_match_the_files() -> None:
    in_files = {str(requirement) for requirement in IN_FILES}
    assert sorted(in_files - set(REVIEWED)) == [], "new requirements: add them to REVIEWED"
    assert sorted(set(REVIEWED) - in_files) == [], "no longer required by the files"


def test_every_form_has_a_sample() -> None:
    assert len(FORM_FILES) >= 16, FORMS_DIR  # a wrong directory would generate no cases at all
    assert {path.stem for path in FORM_FILES} == {sample.form for sample in SAMPLES}


@pytest.mark.parametrize("requirement", REQUIREMENTS, ids=str)
def test_missing_required_field_is_refused_and_nothing_written(
    bank: CaseBank, requirement: Requirement
) -> None:
    sample = requirement.sample()
    assert requirement.field in sample.data or requirement.field in sample.files, (
        f"the sample {sample.key} must hold {requirement.field} so that leaving it out is the one change"
    )
    form_field = bank.runtime.current_forms().get(requirement.form).field(requirement.field)
    assert form_field.label in form_field.required_message
    case_id = bank.at(sample.after) if sample.after is not None else None
    data, files = sample.without(requirement.field)
    before = bank.snapshot()

    with pytest.raises(InvalidData) as refused:
        bank.submit(sample, case_id, data, files)

    assert refused.value.errors == {requirement.field: form_field.required_message}
    after = bank.snapshot()
    # Per changed table, its new or altered rows (a table that only lost rows shows an empty list).
    changed = {
        name: [r for r in rows if r not in before[name]]
        for name, rows in after.items()
        if rows != before[name]
    }
    assert changed == {}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.key)
def test_complete_sample_is_accepted(bank: CaseBank, sample: Sample) -> None:
    case_id = bank.take(sample.after) if sample.after is not None else None
    revision = bank.revision(case_id) if case_id is not None else 0
    attachments = bank.attachments(case_id) if case_id is not None else 0

    case_id = bank.submit(sample, case_id, dict(sample.data), sample.files)

    assert bank.revision(case_id) == revision + 1
    assert bank.attachments(case_id) == attachments + sum(len(files) for files in sample.files.values())
    with bank.runtime.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id.desc()).limit(1)
        ).one()
    expected = {START_FORM: ("start", START_FORM), RISK_FORM: ("risk_report", None)}
    assert (event.action, event.task_name) == expected.get(sample.form, ("complete", sample.form))
    assert set(sample.data) | set(sample.files) <= set(event.detail["data"])
