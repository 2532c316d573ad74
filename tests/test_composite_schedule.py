"""The composite schedule (§3.13, §5.7) from JSON fixtures: each input with the composite it
must give, worked out by hand from the spec and its errata, not from the code."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from ocpp.charge_point import camel_to_snake_case

from chargepoint.smart_charging.schedule import ChargingProfile, Limits, Period, composite_schedule

CASES = json.loads((Path(__file__).parent / "fixtures" / "composite_schedules.json").read_text())


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_composite_schedule(case: dict[str, Any]) -> None:
    profiles = [ChargingProfile.from_ocpp(camel_to_snake_case(p)) for p in case["profiles"]]
    limits = Limits(**case.get("limits", {"max_current_a": 32}))
    transaction_start = _time(case["transaction_start"]) if "transaction_start" in case else None
    composite = composite_schedule(profiles, _time(case["start"]), case["duration"], case["unit"], limits, transaction_start)
    assert composite.periods == tuple(Period(*period) for period in case["expected"])


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
