"""Importing this module registers every service operation the diagrams may call."""

from handlers import (  # noqa: F401
    consent,
    eligibility,
    follow_up,
    locality,
    mediation,
    ordinary,
    petition,
    referral,
    risk,
)
