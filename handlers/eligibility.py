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


def same_matter(a: str, b: str) -> bool:
    """A restated petition rarely repeats itself word for word: one containing the other counts."""
    na, nb = _normalise(a), _normalise(b)
    return bool(na and nb) and (na in nb or nb in na)


@operation("check_prior_mediation")
def check_prior_mediation(ctx: HandlerContext, parties: list[str], matter: str) -> dict[str, Any]:
    earlier = ctx.earlier_cases(parties_key(parties), CONCLUDED_OUTCOMES)
    found = [case.case_no for case in earlier if same_matter(case.title, matter)]
    return {"found": bool(found), "cases": found}
