"""What the scope table cannot see: an earlier mediation of the same parties and matter (第五部分(二)3)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from sqlalchemy import select

from handlers.context import HandlerContext
from handlers.registry import operation
from orchestration.store.models import Case

# Outcomes in which a people's mediation committee reached agreement or terminated mediation.
CONCLUDED_OUTCOMES = ("mediated", "terminated")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[\s\W_]+", "", text).lower()


def parties_key(names: list[str]) -> str:
    joined = "\x1f".join(sorted(_normalise(n) for n in names if n))
    return hashlib.sha256(joined.encode()).hexdigest()


def same_matter(a: str, b: str) -> bool:
    """A restated petition rarely repeats itself word for word: one containing the other counts."""
    na, nb = _normalise(a), _normalise(b)
    return bool(na and nb) and (na in nb or nb in na)


@operation("check_prior_mediation")
def check_prior_mediation(ctx: HandlerContext, parties: list[str], matter: str) -> dict[str, Any]:
    earlier = ctx.session.execute(
        select(Case.case_no, Case.title).where(
            Case.parties_key == parties_key(parties),
            Case.id != ctx.case.id,
            Case.outcome.in_(CONCLUDED_OUTCOMES),
        )
    )
    found = [case_no for case_no, title in earlier if same_matter(title, matter)]
    return {"found": bool(found), "cases": found}
