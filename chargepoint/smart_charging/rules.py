"""Which charging profiles a station takes (§5.16, §3.13.5 keys), as one pure function."""

from __future__ import annotations

from dataclasses import dataclass

from chargepoint.smart_charging.schedule import CP_MAX, TX, ChargingProfile

UNITS = {"A": "Current", "W": "Power"}  # chargingRateUnit -> ChargingScheduleAllowedChargingRateUnit item


@dataclass(frozen=True)
class Capacity:
    """The station's Smart Charging keys, and what it has now."""

    max_stack_level: int
    max_periods: int
    max_installed: int
    allowed_units: frozenset[str]
    connectors: int


def refusal(
    profile: ChargingProfile,
    connector: int,
    capacity: Capacity,
    installed: int,
    replaces: bool,
    transaction_id: int | None | bool,
) -> str | None:
    """Why `profile` may not be installed on `connector`, or None. `transaction_id` is the
    running transaction's id, None while it is not known yet, False when there is none."""
    if not 0 <= connector <= capacity.connectors:
        return f"connector {connector} does not exist"
    if profile.purpose == CP_MAX and connector != 0:
        return "a ChargePointMaxProfile belongs on connector 0"
    if profile.purpose == TX:
        if connector == 0:
            return "a TxProfile belongs on a connector, not 0"
        if transaction_id is False:
            return f"no transaction runs on connector {connector}"
        if None not in (profile.transaction_id, transaction_id) and profile.transaction_id != transaction_id:
            return f"transaction {profile.transaction_id} is not the one on connector {connector}"
    return _schedule_refusal(profile, capacity) or (
        f"MaxChargingProfilesInstalled is {capacity.max_installed}"
        if not replaces and installed >= capacity.max_installed
        else None
    )


def _schedule_refusal(profile: ChargingProfile, capacity: Capacity) -> str | None:
    if profile.stack_level > capacity.max_stack_level:
        return f"stackLevel {profile.stack_level} is above ChargeProfileMaxStackLevel {capacity.max_stack_level}"
    if len(profile.periods) > capacity.max_periods:
        return f"{len(profile.periods)} periods; ChargingScheduleMaxPeriods is {capacity.max_periods}"
    if UNITS.get(profile.unit) not in capacity.allowed_units:
        return f"chargingRateUnit {profile.unit} is not in ChargingScheduleAllowedChargingRateUnit"
    starts = [period.start for period in profile.periods]
    if not starts or starts[0] != 0 or any(b <= a for a, b in zip(starts, starts[1:])):
        return "chargingSchedulePeriod must start at 0 and ascend"
    if profile.kind == "Recurring" and (profile.recurrency is None or profile.start_schedule is None):
        return "a Recurring profile needs recurrencyKind and startSchedule"
    return None
