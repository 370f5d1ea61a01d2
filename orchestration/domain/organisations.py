"""The city → county → township network and which organisation a case belongs to (属地管理)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestration.store.models import Organisation, Region
from orchestration.vocabulary import Role

MEDIATION_KINDS = ("mediation_committee", "guidance_centre", "trade_mediation")
KIND_NAMES = {
    "petition_office": "信访部门",
    "mediation_committee": "人民调解委员会（访调对接工作室）",
    "guidance_centre": "人民调解工作指导中心（访调对接工作室）",
    "trade_mediation": "行业性、专业性人民调解组织",
    "justice_bureau": "司法局",
    "justice_office": "司法所",
}


JUSTICE_KINDS = ("justice_bureau", "justice_office")
# The kinds of organisation a user of each role may belong to: their tasks come to them through their
# organisation (a clerk's from the petition office handling the case, and so on). Administrators and
# policy officers may sit anywhere.
ROLE_KINDS: dict[str, tuple[str, ...]] = {
    Role.PETITION_CLERK: ("petition_office",),
    Role.PETITION_LEADER: ("petition_office",),
    Role.MEDIATOR: MEDIATION_KINDS,
    Role.JUSTICE_OFFICER: JUSTICE_KINDS,
}
# The level of region below each level (a township has none).
CHILD_LEVEL = {"city": "county", "county": "township"}
LEVEL_NAMES = {"city": "市", "county": "县（区）", "township": "乡镇（街道）"}


def side_kinds(kind: str) -> tuple[str, ...]:
    """The kinds that issue the same documents as an organisation of this kind (one side of a case)."""
    for group in (MEDIATION_KINDS, JUSTICE_KINDS):
        if kind in group:
            return group
    return (kind,)


class OrganisationError(ValueError):
    """No organisation fits; the message is Chinese."""


@dataclass(frozen=True)
class LocalOrganisations:
    petition_office: Organisation
    mediation_org: Organisation
    justice_org: Organisation


def _in_region(session: Session, region_code: str, kinds: tuple[str, ...]) -> Organisation | None:
    return session.scalar(
        select(Organisation)
        .where(Organisation.region_code == region_code, Organisation.kind.in_(kinds))
        .order_by(Organisation.id)
    )


def _nearest(session: Session, region: Region, kinds: tuple[str, ...]) -> Organisation | None:
    """The organisation of that kind in the region, or else in the nearest region above it."""
    current: Region | None = region
    while current is not None:
        found = _in_region(session, current.code, kinds)
        if found is not None:
            return found
        current = session.get(Region, current.parent_code) if current.parent_code else None
    return None


def for_locality(session: Session, region_code: str) -> LocalOrganisations:
    region = session.get(Region, region_code)
    if region is None:
        raise OrganisationError(f"未知的属地：{region_code}")
    petition = _nearest(session, region, ("petition_office",))
    mediation = _nearest(session, region, ("mediation_committee", "guidance_centre"))
    justice = _nearest(session, region, ("justice_office", "justice_bureau"))
    if petition is None or mediation is None or justice is None:
        raise OrganisationError(f"属地“{region.name}”未配置信访部门、人民调解组织或司法行政部门")
    return LocalOrganisations(petition, mediation, justice)


def above(session: Session, org_id: int | None) -> LocalOrganisations:
    """The organisations of the level above the region of the given organisation (a township's county,
    a county's city): where a question the two sides of a locality cannot settle goes next."""
    org = session.get(Organisation, org_id) if org_id is not None else None
    if org is None:
        raise OrganisationError("案件未确定司法行政部门，无法提请上一级")
    parent = org.region.parent_code
    if parent is None:
        raise OrganisationError(f"“{org.name}”已是最高一级，无法再提请上一级会商")
    return for_locality(session, parent)


def by_code(session: Session, code: str, kinds: tuple[str, ...] | None = None) -> Organisation:
    query = select(Organisation).where(Organisation.code == code)
    if kinds:
        query = query.where(Organisation.kind.in_(kinds))
    org = session.scalar(query)
    if org is None:
        raise OrganisationError(f"未知的机构：{code}")
    return org


def mediation_org_options(session: Session) -> list[tuple[str, str]]:
    rows = session.scalars(
        select(Organisation).where(Organisation.kind.in_(MEDIATION_KINDS)).order_by(Organisation.code)
    )
    return [(o.code, o.name) for o in rows]


def township_options(session: Session) -> list[tuple[str, str]]:
    rows = session.scalars(select(Region).where(Region.level == "township").order_by(Region.code))
    return [(r.code, r.name) for r in rows]
