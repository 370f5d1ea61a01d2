"""The petition's own time limit as the petition office keeps it: an extension is its responsible person's
decision, with a reason, told to the petitioner in a 延期告知书 (信访工作条例第三十四条)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orchestration.domain import petition_clock
from orchestration.domain.access import Viewer, handles_case
from orchestration.domain.calendar import SHANGHAI
from orchestration.engine import documents as issuing
from orchestration.errors import Forbidden, InvalidData
from orchestration.services.base import Service
from orchestration.store import audit
from orchestration.store.models import Case, Notification
from orchestration.vocabulary import AuditAction, Role

REASON_LIMIT = 1000


@dataclass(frozen=True)
class Extension:
    case_no: str
    old_deadline: datetime
    new_deadline: datetime
    document: str


class PetitionService(Service):
    def may_extend(self, viewer: Viewer, case: Case) -> bool:
        return viewer.role == Role.PETITION_LEADER and viewer.org_id == case.petition_office_id

    def extend(self, viewer: Viewer, case_no: str, reason: str) -> Extension:
        """Extends the running limit by 30 days, once, before it expires; issues the 延期告知书 to the
        petitioner, tells the clerks, and audits it — all in one transaction."""
        reason = (reason or "").strip()
        if not reason:
            raise InvalidData(
                "提交的内容有误，请按提示修改", {"extension_reason": "请填写延长办理期限的理由"}
            )
        if len(reason) > REASON_LIMIT:
            raise InvalidData(
                "提交的内容有误，请按提示修改", {"extension_reason": f"延长理由不能超过{REASON_LIMIT}字"}
            )
        with self.runtime.transaction() as session:
            case = self.visible_case(session, viewer, case_no)
            session.refresh(case, with_for_update=True)
            if not handles_case(viewer, case) or not self.may_extend(viewer, case):
                raise Forbidden("只有承办信访部门的分管领导可以批准延长信访办理期限")
            now = self.now()
            calendar = self.calendar(session)
            clock = petition_clock.compute(petition_clock.events(session, case.id), calendar)
            refusal = petition_clock.extension(clock, now)
            if refusal or clock is None or clock.deadline is None:
                raise InvalidData(refusal or "信访办理期限不能延长")
            petition_clock.record(session, case.id, "extend", now, case.revision)
            after = petition_clock.compute(petition_clock.events(session, case.id), calendar)
            assert after is not None and after.deadline is not None
            case.petition_deadline = after.deadline
            case.petition_warning = 0
            data = self.runtime.case_data(session, case)
            decided_on = now.astimezone(SHANGHAI).date().isoformat()
            document = issuing.issue(
                session,
                case,
                "extension_notice",
                {
                    "case_no": case.case_no,
                    "matter": data.get("matter"),
                    "petitioner_name": data.get("petitioner_name"),
                    "reason": reason,
                    "old_deadline": clock.deadline.isoformat(),
                    "new_deadline": after.deadline.isoformat(),
                    "decided_by": viewer.display_name,
                    "decided_on": decided_on,
                },
                now,
                viewer.username,
            )
            audit.record(
                session,
                now,
                viewer.username,
                AuditAction.EXTEND_PETITION,
                case.id,
                reason=reason,
                old_deadline=clock.deadline.isoformat(),
                new_deadline=after.deadline.isoformat(),
                document=document.number,
            )
            session.add(
                Notification(
                    case_id=case.id,
                    org_id=case.petition_office_id,
                    role=Role.PETITION_CLERK,
                    kind="petition_extended",
                    message=(
                        f"案件 {case.case_no} 信访办理期限经分管领导批准延长30日，请向信访人送达延期告知书"
                    ),
                    created_at=now,
                )
            )
            return Extension(case.case_no, clock.deadline, after.deadline, document.number)
