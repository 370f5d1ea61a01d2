"""Importing this module registers every service operation the diagrams may call."""

from handlers import consultation, eligibility, follow_up, locality, mediation, ordinary, referral, risk  # noqa: F401
