"""Demo data: a city, two counties, their townships, the offices, and a user per role (Chinese names)."""

from __future__ import annotations

from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from orchestration.store.models import Organisation, Region, User

DEMO_PASSWORD = "fangtiao-demo"

REGIONS = [
    ("540100", "拉萨市", "city", None),
    ("540102", "城关区", "county", "540100"),
    ("540103", "堆龙德庆区", "county", "540100"),
    ("540102001", "八廓街道", "township", "540102"),
    ("540102002", "吉日街道", "township", "540102"),
    ("540103001", "东嘎街道", "township", "540103"),
    ("540103002", "乃琼镇", "township", "540103"),
]

# (code, name, kind, region)
ORGANISATIONS = [
    ("540100-xf", "拉萨市信访局", "petition_office", "540100"),
    ("540100-tj", "拉萨市人民调解工作指导中心“访调对接”工作室", "guidance_centre", "540100"),
    ("540100-yl", "拉萨市医疗纠纷人民调解委员会", "trade_mediation", "540100"),
    ("540100-sf", "拉萨市司法局", "justice_bureau", "540100"),
]
for _code, _name, _level, _parent in REGIONS[1:3]:
    ORGANISATIONS += [
        (f"{_code}-xf", f"{_name}信访局", "petition_office", _code),
        (f"{_code}-tj", f"{_name}人民调解工作指导中心“访调对接”工作室", "guidance_centre", _code),
        (f"{_code}-sf", f"{_name}司法局", "justice_bureau", _code),
    ]
for _code, _name, _level, _parent in REGIONS[3:]:
    ORGANISATIONS += [
        (f"{_code}-xf", f"{_name}信访办", "petition_office", _code),
        (f"{_code}-tw", f"{_name}人民调解委员会“访调对接”工作室", "mediation_committee", _code),
        (f"{_code}-sf", f"{_name}司法所", "justice_office", _code),
    ]

# The prefix of document numbers per place ((2026)城八人调字第N号); organisations of one place share it,
# apart from a second mediation organisation of the city, and their kinds issue different words.
PREFIXES = {"540100": "拉", "540102": "城", "540103": "堆", "540102001": "城八", "540102002": "城吉"}
PREFIXES |= {"540103001": "堆东", "540103002": "堆乃", "540100-yl": "拉医"}
# The basic people's court where the organisations of a county (and the city's, which sit in 城关区) are.
COURTS = {
    "540100": "拉萨市城关区人民法院",
    "540102": "拉萨市城关区人民法院",
    "540103": "拉萨市堆龙德庆区人民法院",
}


def document_settings(code: str, name: str, kind: str, region: str) -> dict[str, str]:
    """An organisation's document prefix, seal and court as an administrator would set them: a
    committee's 工作室 seals with its committee's seal; a guidance centre's with the centre's own."""
    seal = name.removesuffix("“访调对接”工作室")
    county = region if len(region) == 6 else region[:6]
    return {
        "document_prefix": PREFIXES.get(code) or PREFIXES[region],
        "seal_name": seal,
        "court_name": COURTS[county],
    }


# (username, display name, role, organisation code)
USERS = [
    ("clerk", "王芳", "petition_clerk", "540102001-xf"),
    ("leader", "李建国", "petition_leader", "540102001-xf"),
    ("mediator", "次仁卓玛", "mediator", "540102001-tw"),
    ("justice", "张伟", "justice_officer", "540102001-sf"),
    ("clerk2", "刘洋", "petition_clerk", "540103001-xf"),
    ("leader2", "陈静", "petition_leader", "540103001-xf"),
    ("mediator2", "扎西多吉", "mediator", "540103001-tw"),
    ("justice2", "赵磊", "justice_officer", "540103001-sf"),
    ("county_mediator", "周敏", "mediator", "540102-tj"),
    ("city_mediator", "格桑", "mediator", "540100-tj"),
    ("county_clerk", "孙丽", "petition_clerk", "540102-xf"),
    ("county_justice", "次旦", "justice_officer", "540102-sf"),
    ("policy", "黄强", "policy_officer", "540100-sf"),
    ("admin", "系统管理员", "admin", "540100-sf"),
]


@cache
def _hashed(password: str) -> str:
    """Hashing is deliberately slow; demo users share one password, so hash it once per process."""
    return generate_password_hash(password)


def seed(session: Session, password: str = DEMO_PASSWORD) -> bool:
    """Adds the demo network and users unless already there; returns whether it added them."""
    if session.scalar(select(Region).where(Region.code == REGIONS[0][0])) is not None:
        return False
    for code, name, level, parent in REGIONS:
        session.add(Region(code=code, name=name, level=level, parent_code=parent))
    session.flush()
    orgs = {}
    for code, name, kind, region in ORGANISATIONS:
        orgs[code] = Organisation(
            code=code, name=name, kind=kind, region_code=region, **document_settings(code, name, kind, region)
        )
        session.add(orgs[code])
    session.flush()
    hashed = _hashed(password)
    for username, display, role, org in USERS:
        session.add(
            User(
                username=username, display_name=display, role=role, org_id=orgs[org].id, password_hash=hashed
            )
        )
    session.flush()
    return True
