"""Smart Charging against a real CSMS (§3.13, §5.5, §5.7, §5.16): what the station takes,
what it composes, what survives a restart, and what the EVSE then offers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call

from tests.conftest import booted
from tests.csms import Csms
from tests.helpers import charging, configure, reaches, transaction_id


def profile(
    purpose: str = "TxDefaultProfile",
    periods: list[tuple[int, float]] = [(0, 16)],  # noqa: B006 (never mutated)
    *,
    pid: int = 1,
    level: int = 0,
    kind: str = "Relative",
    unit: str = "A",
    **extra: Any,
) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "charging_rate_unit": unit,
        "charging_schedule_period": [{"start_period": s, "limit": limit} for s, limit in periods],
    }
    schedule.update(extra.pop("schedule", {}))
    return {
        "charging_profile_id": pid,
        "stack_level": level,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": kind,
        "charging_schedule": schedule,
        **extra,
    }


async def set_profile(csms: Csms, connector: int, body: dict[str, Any]) -> str:
    answer = await csms.call(call.SetChargingProfile(connector_id=connector, cs_charging_profiles=body))
    return str(answer.status)


async def composite(csms: Csms, connector: int = 1, duration: int = 3600, unit: str | None = None) -> list[tuple[int, float]]:
    answer = await csms.call(
        call.GetCompositeSchedule(connector_id=connector, duration=duration, charging_rate_unit=unit)
    )
    assert answer.status == "Accepted"
    return [(p["start_period"], p["limit"]) for p in answer.charging_schedule["charging_schedule_period"]]


@pytest.mark.parametrize(
    ("connector", "body", "status"),
    [
        (0, profile("ChargePointMaxProfile"), "Accepted"),
        (1, profile("ChargePointMaxProfile"), "Rejected"),  # connector 0 only
        (0, profile(), "Accepted"),  # TxDefaultProfile for every connector
        (1, profile(), "Accepted"),
        (1, profile("TxProfile"), "Rejected"),  # no transaction runs
        (2, profile(), "Rejected"),  # no such connector
        (1, profile(level=10), "Accepted"),  # ChargeProfileMaxStackLevel 10 (WEMOB table 4.3)
        (1, profile(level=11), "Rejected"),
        (1, profile(periods=[(i * 60, 16) for i in range(10)]), "Accepted"),  # ChargingScheduleMaxPeriods 10
        (1, profile(periods=[(i * 60, 16) for i in range(11)]), "Rejected"),
        (1, profile(unit="W", periods=[(0, 7000)]), "Accepted"),  # "Current,Power"
        (1, profile(periods=[(60, 16)]), "Rejected"),  # the first period must start at 0
        (1, profile(periods=[(0, 16), (600, 10), (300, 8)]), "Rejected"),  # ascending
        (1, profile(kind="Recurring", recurrency_kind="Daily"), "Rejected"),  # needs startSchedule
    ],
)
async def test_set_charging_profile_accepts_what_the_station_can_take(
    csms, make_daemon, connector: int, body: dict[str, Any], status: str
) -> None:
    daemon = make_daemon(csms, profile="wemob")
    await booted(csms, daemon)
    assert await set_profile(csms, connector, body) == status


async def test_max_charging_profiles_installed_counts_but_a_replacement_does_not(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wemob")
    await booted(csms, daemon)
    combos = [(c, p, level) for level in range(11) for c, p in ((0, "TxDefaultProfile"), (1, "TxDefaultProfile"), (0, "ChargePointMaxProfile"))]
    for n, (connector, purpose, level) in enumerate(combos[:30], start=1):
        assert await set_profile(csms, connector, profile(purpose, pid=n, level=level)) == "Accepted"
    connector, purpose, level = combos[30]
    assert await set_profile(csms, connector, profile(purpose, pid=31, level=level)) == "Rejected"  # 30 installed
    assert await set_profile(csms, 0, profile(pid=1, level=0, periods=[(0, 9)])) == "Accepted"  # replaces id 1


async def test_a_profile_replaces_one_of_the_same_id_or_the_same_stack_level_and_purpose(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wemob")
    await booted(csms, daemon)
    assert await set_profile(csms, 1, profile(pid=1, periods=[(0, 16)])) == "Accepted"
    assert await set_profile(csms, 1, profile(pid=2, periods=[(0, 12)])) == "Accepted"  # same level: replaces 1
    assert await composite(csms) == [(0, 12.0)]
    assert await set_profile(csms, 1, profile(pid=2, level=3, periods=[(0, 8)])) == "Accepted"  # same id
    assert await composite(csms) == [(0, 8.0)]
    assert (await csms.call(call.ClearChargingProfile(id=2))).status == "Accepted"
    assert await composite(csms) == [(0, 32.0)]  # nothing left: the hardware maximum


@pytest.mark.parametrize(
    ("criteria", "left"),
    [
        ({"id": 2}, [(0, 10.0)]),
        ({"connector_id": 1}, [(0, 20.0)]),
        ({"charging_profile_purpose": "ChargePointMaxProfile"}, [(0, 6.0)]),
        ({"stack_level": 1}, [(0, 10.0)]),
        ({"connector_id": 1, "stack_level": 0}, [(0, 6.0)]),
        ({}, [(0, 32.0)]),  # errata: no field clears everything
    ],
)
async def test_clear_charging_profile_by_each_criterion(csms, make_daemon, criteria: dict, left: list) -> None:
    daemon = make_daemon(csms, profile="wemob")
    await booted(csms, daemon)
    assert await set_profile(csms, 0, profile("ChargePointMaxProfile", pid=1, periods=[(0, 20)])) == "Accepted"
    assert await set_profile(csms, 1, profile(pid=2, level=1, periods=[(0, 6)])) == "Accepted"
    assert await set_profile(csms, 1, profile(pid=3, level=0, periods=[(0, 10)])) == "Accepted"
    assert (await csms.call(call.ClearChargingProfile(**criteria))).status == "Accepted"
    assert await composite(csms) == left
    assert (await csms.call(call.ClearChargingProfile(id=99))).status == "Unknown"


async def test_composite_schedule_stacked_relative_and_recurring_in_amperes_and_watts(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wemob")
    await booted(csms, daemon)
    relative = profile(level=1, periods=[(0, 10), (600, 14)], schedule={"duration": 1200})
    assert await set_profile(csms, 1, relative) == "Accepted"
    daily = profile(pid=2, kind="Recurring", recurrency_kind="Daily", periods=[(0, 20)],
                    schedule={"start_schedule": "2026-01-01T00:00:00Z"})
    assert await set_profile(csms, 1, daily) == "Accepted"
    assert await composite(csms, duration=1800) == [(0, 10.0), (600, 14.0), (1200, 20.0)]
    assert await composite(csms, duration=1800, unit="W") == [(0, 6900.0), (600, 9660.0), (1200, 13800.0)]
    assert await composite(csms, connector=0, duration=60) == [(0, 32.0)]  # the station: no ChargePointMaxProfile


async def test_profiles_survive_a_restart(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wemob")
    await booted(csms, daemon)
    assert await set_profile(csms, 1, profile(periods=[(0, 11)])) == "Accepted"
    await daemon.stop()
    daemon.start()
    await csms.wait_for("BootNotification", after=len(csms.frames) - 1, timeout=20)
    await booted(csms, daemon)
    assert await composite(csms) == [(0, 11.0)]


async def test_a_tx_profile_governs_its_transaction_and_is_dropped_when_it_ends(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wemob")
    await charging(csms, daemon, boot=True)
    running = await transaction_id(daemon)
    assert await set_profile(csms, 1, profile("TxProfile", transaction_id=running + 1)) == "Rejected"
    assert await set_profile(csms, 1, profile("TxProfile", transaction_id=running, periods=[(0, 7)])) == "Accepted"
    assert await composite(csms) == [(0, 7.0)]
    await daemon.cli("unplug", "1")
    await csms.wait_for("StopTransaction", timeout=10)
    await asyncio.sleep(0.3)
    assert await composite(csms) == [(0, 32.0)]


async def test_remote_start_installs_its_tx_profile(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wemob")
    await booted(csms, daemon)
    tx = profile("TxProfile", periods=[(0, 9)])
    assert (await csms.call(call.RemoteStartTransaction(id_tag="TAG1", connector_id=1, charging_profile=tx))).status == "Accepted"
    await daemon.cli("plug", "1")
    await reaches(csms, 1, "SuspendedEV")
    assert await composite(csms) == [(0, 9.0)]
    too_high = profile("TxProfile", level=11)
    answer = await csms.call(call.RemoteStartTransaction(id_tag="TAG1", connector_id=1, charging_profile=too_high))
    assert answer.status == "Rejected"


async def _sampling(csms: Csms, make_daemon):
    daemon = make_daemon(csms, profile="wallbox", ev_power_w=22000)
    await booted(csms, daemon)
    await configure(csms, MeterValueSampleInterval="1", MeterValuesSampledData="Power.Active.Import")
    await charging(csms, daemon, until="MeterValues")
    return daemon


async def test_the_evse_offers_the_limit_and_the_ev_follows(csms, make_daemon) -> None:
    """10 A on three phases at 230 V is about 6900 W within one sample; 4 s later the next
    period's 6 A (4140 W) shows up in the samples of that second."""
    daemon = await _sampling(csms, make_daemon)
    mark = len(csms.frames)
    begins = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    absolute = profile(kind="Absolute", periods=[(0, 10), (4, 6)], schedule={"start_schedule": begins.isoformat()})
    assert await set_profile(csms, 0, absolute) == "Accepted"
    ten = await csms.wait_for("MeterValues", lambda p: abs(_power_of(p) - 6900) < 50, after=mark, timeout=4)
    six = await csms.wait_for("MeterValues", lambda p: abs(_power_of(p) - 4140) < 50, after=mark, timeout=10)
    assert ten.wall - begins < timedelta(seconds=1.5)  # within one sample of the period's start
    assert six.wall - (begins + timedelta(seconds=4)) < timedelta(seconds=1.5)
    status = await daemon.status()
    assert status["connectors"][0]["offered_a"] == 6.0
    assert (status["connectors"][0]["limit_a"], status["connectors"][0]["limit_source"]) == (6.0, "profile 1")
    assert "limit: 6 A by profile 1" in (await daemon.cli("status")).out


def _power_of(payload: dict[str, Any]) -> float:
    return _sampled(payload, "Power.Active.Import")


async def test_a_limit_of_zero_suspends_and_a_higher_one_resumes(csms, make_daemon) -> None:
    await _sampling(csms, make_daemon)
    assert await set_profile(csms, 1, profile(periods=[(0, 0)])) == "Accepted"
    await reaches(csms, 1, "SuspendedEVSE")
    assert await set_profile(csms, 1, profile(periods=[(0, 16)])) == "Accepted"
    await reaches(csms, 1, "Charging", after=len(csms.frames) - 1)


async def test_a_limit_under_min_charging_rate_offers_nothing(csms, make_daemon) -> None:
    """§3.13.4: charging below minChargingRate is inefficient, so the station offers 0 instead."""
    daemon = await _sampling(csms, make_daemon)
    assert await set_profile(csms, 1, profile(periods=[(0, 6)], schedule={"min_charging_rate": 8})) == "Accepted"
    await reaches(csms, 1, "SuspendedEVSE")
    assert (await daemon.status())["connectors"][0]["offered_a"] == 0.0


async def test_a_crash_ends_the_transaction_and_its_tx_profile(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wemob")
    await charging(csms, daemon, boot=True)
    assert await set_profile(csms, 1, profile("TxProfile", periods=[(0, 7)])) == "Accepted"
    daemon.kill()
    daemon.start()
    await csms.wait_for("StopTransaction", lambda p: p.get("reason") == "PowerLoss", timeout=20)
    await booted(csms, daemon)
    assert await composite(csms) == [(0, 32.0)]


async def test_a_charge_point_max_profile_is_shared_among_the_charging_connectors(csms, make_daemon) -> None:
    """§3.13.3: the ChargePointMaxProfile limits all connectors combined; each gets an equal share."""
    daemon = make_daemon(csms, profile="wemob", model="wemob-parking-ac22")
    await booted(csms, daemon, connectors=2)
    assert await set_profile(csms, 0, profile("ChargePointMaxProfile", periods=[(0, 20)])) == "Accepted"
    for number, id_tag in (("1", "TAG1"), ("2", "TAG2")):
        for args in (("plug", number), ("ev", number, "charge"), ("swipe", id_tag, "--connector", number)):
            assert (await daemon.cli(*args)).code == 0, args
        await reaches(csms, int(number), "Charging")

    async def offered() -> list[float]:
        return [c["offered_a"] for c in (await daemon.status())["connectors"]]

    for _ in range(50):
        if await offered() == [10.0, 10.0]:
            break
        await asyncio.sleep(0.1)
    assert await offered() == [10.0, 10.0]
    await daemon.cli("unplug", "2")
    await csms.wait_for("StopTransaction", timeout=10)
    for _ in range(50):
        if (await offered())[0] == 20.0:
            break
        await asyncio.sleep(0.1)
    assert (await offered())[0] == 20.0


def _sampled(payload: dict[str, Any], measurand: str) -> float:
    values = payload["meterValue"][0]["sampledValue"]
    return next(float(v["value"]) for v in values if v.get("measurand", "Energy.Active.Import.Register") == measurand and "phase" not in v)


async def test_meter_values_show_the_offer_and_the_energy_follows_the_limit(csms, make_daemon) -> None:
    """Current.Offered and Power.Offered (§7.31) carry the limit; the register's slope matches it."""
    daemon = make_daemon(csms, profile="wallbox", ev_power_w=22000)
    await booted(csms, daemon)
    await configure(
        csms,
        MeterValueSampleInterval="1",
        MeterValuesSampledData="Energy.Active.Import.Register,Current.Offered,Power.Offered",
    )
    await charging(csms, daemon, until="MeterValues")
    assert await set_profile(csms, 1, profile(periods=[(0, 16)])) == "Accepted"

    def limited(p: dict[str, Any]) -> bool:
        return _sampled(p, "Current.Offered") == 16.0

    first = await csms.wait_for("MeterValues", limited, timeout=5)
    assert _sampled(first.payload, "Power.Offered") == pytest.approx(16 * 230 * 3)
    await asyncio.sleep(6)
    last = [f for f in csms.received("MeterValues") if limited(f.payload)][-1]
    slope = (_sampled(last.payload, "Energy.Active.Import.Register") - _sampled(first.payload, "Energy.Active.Import.Register")) / (
        last.at - first.at
    )
    assert slope * 3600 == pytest.approx(16 * 230 * 3, rel=0.2)  # Wh per hour: the offered power


async def test_the_hardware_cap_and_voltage_are_settings(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wemob", max_current_a=16, nominal_voltage=220)
    await booted(csms, daemon)
    assert await composite(csms) == [(0, 16.0)]
    assert await composite(csms, unit="W") == [(0, 16 * 220 * 3)]
    assert await composite(csms, connector=0) == [(0, 16.0)]  # one connector: the station's total


async def test_a_composite_longer_than_a_year_covers_a_year(csms, make_daemon) -> None:
    """Bad input never stalls the station: ten years of a daily profile would; the answer says what it covers."""
    daemon = make_daemon(csms, profile="wemob")
    await booted(csms, daemon)
    daily = profile(kind="Recurring", recurrency_kind="Daily", periods=[(0, 10), (3600, 20)],
                    schedule={"start_schedule": "2026-01-01T00:00:00Z"})
    assert await set_profile(csms, 1, daily) == "Accepted"
    answer = await csms.call(call.GetCompositeSchedule(connector_id=1, duration=10 * 365 * 86400))
    assert answer.status == "Accepted" and answer.charging_schedule["duration"] == 366 * 86400
    assert len(answer.charging_schedule["charging_schedule_period"]) in (732, 733)
