"""What the scope table cannot see: an earlier mediation of the same parties and matter (第五部分(二)3)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from handlers.api import HandlerContext, operation

# Outcomes in which a people's mediation committee reached agreement or terminated mediation.
CONCLUDED_OUTCOMES = ("mediated", "terminated")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[\s\W_]+", "", text).lower()


def parties_key(names: list[str]) -> str:
    joined = "\x1f".join(sorted(_normalise(n) for n in names if n))
    return hashlib.sha256(joined.encode()).hexdigest()


def id_key(id_number: object) -> str | None:
    """The digest of an ID number as typed (spaces and case ignored), None when none was given."""
    text = _normalise(id_number) if isinstance(id_number, str) else ""
    return hashlib.sha256(f"id:{text}".encode()).hexdigest() if text else None


def same_matter(a: str, b: str) -> bool:
    """A restated petition rarely repeats itself word for word: one containing the other counts."""
    na, nb = _normalise(a), _normalise(b)
    return bool(na and nb) and (na in nb or nb in na)


@operation("check_prior_mediation")
def check_prior_mediation(ctx: HandlerContext, parties: list[str], matter: str) -> dict[str, Any]:
    key = parties_key(parties)
    earlier = ctx.earlier_cases(key, CONCLUDED_OUTCOMES)
    found = [case.case_no for case in earlier if same_matter(case.title, matter)]
    # A case of the same parties and matter still being handled does not make this one unsuitable by
    # itself (no mediation has ended), but screening must see it: the two are one dispute.
    running = [
        case.case_no
        for case in ctx.running_cases(key)
        if same_matter(case.title, matter) and case.case_no not in found
    ]
    return {"found": bool(found), "cases": found, "running": running}
