"""Importing this module registers every service operation the diagrams may call."""

from handlers import (  # noqa: F401
    consent,
    consultation,
    eligibility,
    follow_up,
    local_handling,
    locality,
    mediation,
    ordinary,
    petition,
    referral,
    risk,
)
