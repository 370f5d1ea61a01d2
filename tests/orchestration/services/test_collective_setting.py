"""The 集体访 threshold reaches the handlers from the settings (FANGTIAO_COLLECTIVE_HEADCOUNT)."""

from __future__ import annotations

from orchestration.services import Services
from orchestration.settings import Settings


def test_the_services_pass_the_collective_headcount_to_the_runtime() -> None:
    settings = Settings.from_env({"FANGTIAO_COLLECTIVE_HEADCOUNT": "8"}, database_url="sqlite://")
    services = Services.open(settings)
    try:
        assert services.runtime.collective_headcount == 8
        assert (
            Services.open(Settings.from_env({}, database_url="sqlite://")).runtime.collective_headcount == 5
        )
    finally:
        services.engine.dispose()
