"""Who may see which case, who handles it, and masking of personal information.

Rules (属地管理, 分级负责):

* A user sees the cases their own organisation handles: the case's petition office, mediation
  organisation or justice organisation.
* Users of a supervising organisation at county or city level (信访局, 人民调解工作指导中心, 司法局) also see
  the cases whose locality lies in their region or below it — the regions form a tree via parent_code.
  A mediation committee, a trade mediation organisation or a township 司法所 supervises nobody.
* Mediation and justice users see a case only once it has been referred (the referral letter exists):
  mediation is voluntary, so a petitioner who refused it, or whose case is still being screened, must
  not have their particulars shown to a mediation organisation (人民调解法 arts 3, 15; PIPL art 34).
* The administrator watches every case of their region (to repair instances) but never handles one.
* The policy officer edits the procedure and sees no case.

ID numbers and phone numbers are sensitive personal information (PIPL art 28): shown masked everywhere,
and in full only to a user whose organisation handles the case who asks for it; each such view is
written to the audit log.

The respondent's ID number and phone reach the mediation side (mediation organisation, justice
administration) only once the respondent has been told how their personal information is processed
(PIPL arts 17, 23): until `respondent_consent.informed_at` is recorded, they stay masked there even on a
reveal, and task forms are not prefilled with them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import Session

from orchestration.store.models import Case, Document, OpenTask, Region, User
from orchestration.vocabulary import Role

# The document whose existence means the petition office has handed the case over.
REFERRAL_DOCUMENT = "referral_letter"

SUPERVISING_KINDS = frozenset({"petition_office", "guidance_centre", "justice_bureau"})
# Roles that may use the jurisdiction of their (supervising) organisation.
JURISDICTION_ROLES = frozenset(
    {Role.PETITION_CLERK, Role.PETITION_LEADER, Role.MEDIATOR, Role.JUSTICE_OFFICER}
)
# The 调 side of 访调对接: the mediation organisations and the justice administration guiding them.
MEDIATION_SIDE_ROLES = frozenset({Role.MEDIATOR, Role.JUSTICE_OFFICER})
# Roles that see a case only after it was referred to mediation.
AFTER_REFERRAL_ROLES = MEDIATION_SIDE_ROLES
CASE_ROLES = frozenset({*JURISDICTION_ROLES, Role.ADMIN})
LEADER_ROLES = frozenset({Role.PETITION_LEADER})

# Fields of the case data (and of documents) holding sensitive personal information, by kind; `id_number`
# and `phone` are those of a party object ({"role": "petitioner" | "respondent", "name", ...}).
ID_FIELDS = frozenset({"petitioner_id_number", "respondent_id_number", "id_number"})
PHONE_FIELDS = frozenset({"petitioner_phone", "respondent_phone", "phone"})
PII_FIELDS = ID_FIELDS | PHONE_FIELDS
# The respondent's own: these top-level fields, and the PII fields of a party object whose role is respondent.
RESPONDENT_FIELDS = frozenset({"respondent_id_number", "respondent_phone"})
RESPONDENT_ROLE = "respondent"
# Where the respondent's consent records that they were told (written by the consent step).
RESPONDENT_CONSENT = "respondent_consent"


class Disclosure(StrEnum):
    """How much of the parties' ID numbers and phones a reader sees."""

    MASKED = "masked"
    FULL = "full"
    FULL_BUT_RESPONDENT = "full_but_respondent"  # the respondent has not been told yet


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as access rules need them; built once per request, detached from any session."""

    user_id: int
    username: str
    display_name: str
    role: str
    org_id: int | None
    org_name: str
    org_kind: str | None
    region_code: str | None
    region_level: str | None

    @classmethod
    def of(cls, user: User) -> Viewer:
        org = user.org
        return cls(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            org_id=user.org_id,
            org_name=org.name if org else "",
            org_kind=org.kind if org else None,
            region_code=org.region_code if org else None,
            region_level=org.region.level if org else None,
        )

    @property
    def supervises(self) -> bool:
        return (
            self.role in JURISDICTION_ROLES
            and self.org_kind in SUPERVISING_KINDS
            and self.region_level in ("city", "county")
        )


def region_subtree(session: Session, code: str) -> set[str]:
    """The region and every region below it (the network has a few hundred regions at most)."""
    children: dict[str, list[str]] = {}
    for region_code, parent in session.execute(select(Region.code, Region.parent_code)):
        if parent is not None:
            children.setdefault(parent, []).append(region_code)
    found, pending = {code}, [code]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _referred() -> ColumnElement[bool]:
    return exists().where(Document.case_id == Case.id, Document.kind == REFERRAL_DOCUMENT)


def _own_org(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.org_id is None:
        return false()
    return or_(
        Case.petition_office_id == viewer.org_id,
        Case.mediation_org_id == viewer.org_id,
        Case.justice_org_id == viewer.org_id,
    )


def visible_cases(session: Session, viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on Case: the cases the viewer may see (for lists and search)."""
    if viewer.role not in CASE_ROLES:
        return false()
    if viewer.role == Role.ADMIN:
        if viewer.region_code is None:
            return false()
        return Case.locality_code.in_(region_subtree(session, viewer.region_code))
    clause = _own_org(viewer)
    if viewer.supervises and viewer.region_code is not None:
        clause = or_(clause, Case.locality_code.in_(region_subtree(session, viewer.region_code)))
    if viewer.role in AFTER_REFERRAL_ROLES:
        clause = and_(clause, _referred())
    return clause


def can_view_case(session: Session, viewer: Viewer, case: Case) -> bool:
    found = session.scalar(select(Case.id).where(Case.id == case.id, visible_cases(session, viewer)))
    return found is not None


def handles_case(viewer: Viewer, case: Case) -> bool:
    """The viewer's organisation is one of those the case is assigned to (may reveal PII, download)."""
    if viewer.org_id is None or viewer.role not in JURISDICTION_ROLES:
        return False
    return viewer.org_id in (case.petition_office_id, case.mediation_org_id, case.justice_org_id)


def can_act_on(viewer: Viewer, task: OpenTask) -> bool:
    """Same test as the runtime's: the task's role in the task's organisation, and not claimed by another."""
    return (
        viewer.role == task.role
        and viewer.org_id == task.org_id
        and (task.claimed_by is None or task.claimed_by == viewer.user_id)
    )


def may_register(viewer: Viewer) -> bool:
    return viewer.role == Role.PETITION_CLERK


def registration_localities(session: Session, viewer: Viewer) -> set[str]:
    """The townships a clerk may register a petition for: those of their own office's region and below."""
    if not may_register(viewer) or viewer.region_code is None:
        return set()
    return region_subtree(session, viewer.region_code)


# ---- masking --------------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d")


def mask_id_number(value: str) -> str:
    """540102199001011234 -> 5401**********1234: the region prefix and the last four stay readable."""
    value = value.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """13800138000 -> 138****8000; 0891-6321234 -> 0891-***1234 (the area code stays readable)."""
    value = value.strip()
    if "-" in value:
        area, _, rest = value.partition("-")
        return f"{area}-{mask_phone(rest)}" if len(rest) > 4 else f"{area}-{'*' * len(rest)}"
    if len(value) >= 11:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    if len(value) > 4:
        return "*" * (len(value) - 4) + value[-4:]
    return _DIGITS.sub("*", value)


def mask_value(field: str, value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return value
    if field in ID_FIELDS:
        return mask_id_number(value)
    if field in PHONE_FIELDS:
        return mask_phone(value)
    return value


def mask_pii(data: Any, disclosure: Disclosure = Disclosure.MASKED) -> Any:
    """A copy of case data (nested dicts and lists too) with the PII fields the disclosure hides masked."""
    if disclosure == Disclosure.FULL:
        return data
    return _masked(data, disclosure == Disclosure.MASKED, False)


def _masked(data: Any, everyone: bool, respondents: bool) -> Any:
    if isinstance(data, Mapping):
        # everything below a respondent's party object is theirs (a representative's phone too)
        respondents = respondents or data.get("role") == RESPONDENT_ROLE
        masked = {}
        for key, value in data.items():
            inner = _masked(value, everyone, respondents)
            hidden = everyone or respondents or key in RESPONDENT_FIELDS
            masked[key] = mask_value(key, inner) if hidden else inner
        return masked
    if isinstance(data, list | tuple):
        return [_masked(item, everyone, respondents) for item in data]
    return data


def respondent_informed(data: Mapping[str, Any]) -> bool:
    """The respondent was told how their personal information is processed (their consent step says when)."""
    consent = data.get(RESPONDENT_CONSENT)
    return isinstance(consent, Mapping) and bool(consent.get("informed_at"))


def withholds_respondent(viewer: Viewer, data: Mapping[str, Any]) -> bool:
    """The respondent's ID number and phone are kept from this viewer for now."""
    return viewer.role in MEDIATION_SIDE_ROLES and not respondent_informed(data)


def respondent_pii_withheld(viewer: Viewer, data: Mapping[str, Any]) -> bool:
    """The data holds the respondent's ID number or phone, and they are kept from this viewer for now."""
    return withholds_respondent(viewer, data) and _without_respondent_pii(data, False) != dict(data)


def disclosure(viewer: Viewer, case: Case, data: Mapping[str, Any], reveal: bool) -> Disclosure:
    """What the viewer sees of the case's data (and documents): masked unless a handler of the case asks
    (and the caller audits it), and the respondent's kept from the mediation side until they were told."""
    if not (reveal and handles_case(viewer, case)):
        return Disclosure.MASKED
    return Disclosure.FULL_BUT_RESPONDENT if withholds_respondent(viewer, data) else Disclosure.FULL


def form_data(viewer: Viewer, data: Mapping[str, Any]) -> dict[str, Any]:
    """The case data a task form of the viewer is prefilled from: without the respondent's ID number and
    phone while they are withheld (a masked value in a form would be sent back as if typed)."""
    if not withholds_respondent(viewer, data):
        return dict(data)
    return _without_respondent_pii(data, False)


def _without_respondent_pii(data: Mapping[str, Any], respondents: bool) -> dict[str, Any]:
    respondents = respondents or data.get("role") == RESPONDENT_ROLE
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if key in RESPONDENT_FIELDS or (respondents and key in PII_FIELDS):
            continue
        if isinstance(value, Mapping):
            value = _without_respondent_pii(value, respondents)
        elif isinstance(value, list | tuple):
            value = [
                _without_respondent_pii(item, respondents) if isinstance(item, Mapping) else item
                for item in value
            ]
        kept[key] = value
    return kept


def contains_pii(data: Mapping[str, Any], fields: Iterable[str] = PII_FIELDS) -> bool:
    return any(data.get(name) for name in fields)
