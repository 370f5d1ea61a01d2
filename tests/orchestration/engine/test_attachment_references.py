"""A file field takes only files stored for the case (issue 11, finding 4): a required consent document
is satisfied by an upload, not by any text, nor by another case's file."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from orchestration.domain.forms import Upload
from orchestration.engine.runtime import Runtime
from orchestration.errors import InvalidData
from orchestration.store.models import Attachment
from tests.helpers import actor, advance_to, case_snapshot, start

CONSENT = {"explanation_given": True, "consent": "agree", "privacy_notice_given": True}
SCAN = Upload("同意书.pdf", "application/pdf", b"%PDF-1.4 scan")


def _attachment_of(runtime: Runtime, case_id: int) -> str:
    with runtime.sessions() as session:
        found = session.scalar(select(Attachment.id).where(Attachment.case_id == case_id))
    assert found is not None
    return str(found)


@pytest.mark.parametrize("reference", [["同意书.pdf"], ["x" * 200], ["999999"], ["1e3"], [""] * 2])
def test_text_is_no_consent_document(runtime: Runtime, reference: list[str]) -> None:
    case_id = start(runtime)
    task = advance_to(runtime, case_id, "guide_divert")
    before = case_snapshot(runtime, case_id)
    with pytest.raises(InvalidData) as refused:
        runtime.complete_task(task.id, {**CONSENT, "consent_documents": reference}, actor(runtime, "clerk"))
    assert "consent_documents" in refused.value.errors
    assert case_snapshot(runtime, case_id) == before


def test_another_cases_file_is_no_consent_document(runtime: Runtime) -> None:
    other = start(runtime)
    other_task = advance_to(runtime, other, "guide_divert")
    runtime.complete_task(
        other_task.id, CONSENT, actor(runtime, "clerk"), files={"consent_documents": [SCAN]}
    )
    foreign = _attachment_of(runtime, other)

    case_id = start(runtime)
    task = advance_to(runtime, case_id, "guide_divert")
    with pytest.raises(InvalidData, match="上传的文件有误") as refused:
        runtime.complete_task(task.id, {**CONSENT, "consent_documents": [foreign]}, actor(runtime, "clerk"))
    assert "只能是本案已上传的文件" in refused.value.errors["consent_documents"]

    done = runtime.complete_task(
        task.id, CONSENT, actor(runtime, "clerk"), files={"consent_documents": [SCAN]}
    )
    assert done.case_id == case_id and _attachment_of(runtime, case_id) != foreign
