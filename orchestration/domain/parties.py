"""When two cases are of the same parties: the matching of the earlier-mediation check (第五部分(二)3),
shared by the handlers' context and the pages that show a clerk the other cases before the check runs."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_

from orchestration.store.models import Case


def same_parties(case: Case, parties_key: str | None = None) -> ColumnElement[bool]:
    """A WHERE clause on Case: the other cases of the same names (the digest `parties_key`, the case's own
    when not given) or, when both ID numbers were given on both cases, of the same two ID numbers (cases
    keep only digests of them): a name typed differently is still the same person."""
    same = Case.parties_key == (parties_key or case.parties_key)
    if case.petitioner_id_key and case.respondent_id_key:
        same = or_(
            same,
            and_(
                Case.petitioner_id_key == case.petitioner_id_key,
                Case.respondent_id_key == case.respondent_id_key,
            ),
        )
    return and_(same, Case.id != case.id)
