"""The simulated EV's battery: its charging curve, SoC that moves with the meter's register, the
stop at the target (SuspendedEV), SoC in MeterValues where the EV reports it (§7.31 Measurand
SoC, Location EV), and the `ev N battery` bench command."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from chargepoint.app.configuration import open_configuration
from chargepoint.app.hardware import simulated_evse
from chargepoint.app.settings import Settings
from chargepoint.infra.database import Database
from chargepoint.infra.state import StateTable
from configkeys import ChangeStatus, Configuration
from drivers.battery import Battery, changed, charged, curve_power_w
from drivers.evse import PilotState
from drivers.simulated import SimulatedEvse, SimulatedMeter
from tests.conftest import booted, eventually
from tests.csms import Csms
from tests.helpers import charging, cli_fails, cli_ok, configure, reaches

CAR = Battery(max_ac_kw=11, max_dc_kw=150)


@pytest.mark.parametrize("soc, target, expected_w", [
    (0, 100, 10_000),
    (20, 100, 10_000),
    (79.9, 100, 10_000),  # flat to 80 %
    (80, 100, 10_000),
    (90, 100, 5_000),  # halfway down the taper
    (95, 100, 2_500),
    (99.5, 100, 1_000),  # the floor: 10 % of the maximum, so full is reached
    (50, 50, 0),  # at the target: nothing more
    (85, 60, 0),  # above it (the target was lowered)
    (59.9, 60, 10_000),  # a low target is reached at full power
])
def test_the_charging_curve_is_flat_to_80_percent_then_tapers_and_stops_at_the_target(
    soc: float, target: float, expected_w: float
) -> None:
    assert curve_power_w(10_000, soc, target) == pytest.approx(expected_w)


@pytest.mark.parametrize("soc, energy_wh, capacity_kwh, expected", [
    (20, 600, 60, 21),  # 600 Wh into 60 kWh is 1 %
    (20, 0, 60, 20),
    (50, 25, 0.05, 100),  # 50 % of 50 Wh
    (99, 5000, 60, 100),  # never beyond full
])
def test_soc_moves_with_the_energy_delivered(soc: float, energy_wh: float, capacity_kwh: float, expected: float) -> None:
    assert charged(soc, energy_wh, capacity_kwh) == pytest.approx(expected)


@pytest.mark.parametrize("changes, message", [
    ({"capacity": 0}, "--capacity must be more than 0 and at most 1000 (kWh), got 0"),
    ({"capacity": float("nan")}, "--capacity must be a number, more than 0 and at most 1000 (kWh)"),
    ({"soc": 101}, "--soc must be 0 to 100 (%), got 101"),
    ({"soc": -1}, "--soc must be 0 to 100 (%), got -1"),
    ({"target": 0}, "--target must be more than 0 and at most 100 (%), got 0"),
    ({"max_ac_kw": "11"}, "--max-ac-kw must be a number, more than 0 and at most 400 (kW)"),
    ({"max_dc_kw": 401}, "--max-dc-kw must be more than 0 and at most 400 (kW), got 401"),
    ({"volts": 400}, "unknown battery field 'volts'; one of: capacity, soc, target, max_ac_kw, max_dc_kw"),
])
def test_a_bad_battery_value_is_refused_naming_the_flag(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        changed(CAR, changes)
    assert str(refused.value) == message


def test_good_battery_values_change_only_what_is_given() -> None:
    assert changed(CAR, {"capacity": 0.05, "soc": 0, "target": 90}) == Battery(11, 150, 0.05, 0, 90)


@pytest.mark.parametrize("dc, soc, offered_a, expected_w", [
    (False, 20, 32, 11_000),  # AC: the on-board charger's 11 kW, under the 22 kW offered
    (True, 20, 32, 22_080),  # DC: 150 kW wanted, 32 A × 230 V × 3 offered
    (True, 90, 100, 69_000),  # the taper (75 kW) under the offer (69 kW)
    (True, 95, 100, 37_500),  # the taper alone
    (True, 20, 6, 4_140),  # a charging profile or silent-mode derating lowers the offer: it wins
    (False, 100, 32, 0),  # full
])
def test_the_ev_draws_the_least_of_its_curve_and_the_offer(dc: bool, soc: float, offered_a: float, expected_w: float) -> None:
    evse = SimulatedEvse(7400, tethered=True, battery=Battery(11, 150, start_soc=soc), dc=dc)
    evse.plug()
    evse.ev_charge()
    evse.set_offered_current(offered_a)
    evse.set_contactor(True)
    assert evse.power_w == pytest.approx(expected_w)


def test_without_the_bench_command_the_ev_draws_ev_power_w_on_ac_and_dc() -> None:
    for dc in (False, True):
        evse = SimulatedEvse(7400, tethered=True, dc=dc)
        evse.plug()
        evse.ev_charge()
        evse.set_offered_current(32)
        evse.set_contactor(True)
        assert (evse.power_w, evse.soc) == (7400, 20)


async def test_the_ev_stops_asking_at_its_target_with_soc_and_register_in_step() -> None:
    """Driver level, no station: the meter's register and the car's SoC move together, and the
    car goes to pilot B at its target and draws nothing after."""
    evse = SimulatedEvse(22_000, tethered=True, battery=Battery(22, 22, capacity_kwh=0.01, start_soc=50, target_soc=60), dc=True)
    meter = SimulatedMeter(lambda: evse.power_w, delivered=evse.delivered, soc=lambda: evse.soc)
    assert (await meter.read()).soc_percent is None  # no car plugged in
    evse.plug()
    evse.ev_charge()
    evse.set_offered_current(32)
    evse.set_contactor(True)
    start = (await meter.read()).energy_wh
    readings = []
    while evse.pilot is PilotState.C:
        await asyncio.sleep(0.02)
        readings.append(await meter.read())
    for reading in readings:
        assert reading.soc_percent == pytest.approx(50 + (reading.energy_wh - start) / 0.01 / 10)
    assert readings[-1].soc_percent is not None and readings[-1].soc_percent >= 60
    assert readings[-1].power_w == 0 and evse.full


@pytest.mark.parametrize("settings, accepted", [
    ({"profile": "wallbox"}, False),  # AC: the car tells nothing
    ({"profile": "wallbox", "ev_reports_soc": True}, True),  # an ISO 15118 car on AC
    ({"profile": "wallbox", "ev_reports_soc": True, "meters": ["modbus-tcp://127.0.0.1:5020?unit=1&model=sdm630"]}, False),
])
def test_soc_may_be_sampled_where_the_ev_reports_it_to_the_simulated_meter(
    tmp_path: Path, settings: dict[str, Any], accepted: bool
) -> None:
    with _configuration(tmp_path, settings) as config:
        outcome = config.change_with_reason("MeterValuesSampledData", "Energy.Active.Import.Register,SoC")
    assert (outcome.status is ChangeStatus.ACCEPTED) == accepted, outcome
    assert accepted or outcome.reason == "the meter cannot provide SoC"


@pytest.mark.parametrize("settings, sampled", [
    ({"profile": "wemob", "model": "wemob-station-dc60"}, "Energy.Active.Import.Register,SoC"),  # DC: always
    ({"profile": "wemob", "model": "wemob-wall-ac22"}, ""),  # as WEMOB §4.3.17 prints it: the register
    ({"profile": "wemob", "model": "wemob-wall-ac22", "ev_reports_soc": True}, "Energy.Active.Import.Register,SoC"),
    ({"profile": "wemob", "model": "wemob-station-dc60", "meters": ["sim", "modbus-tcp://127.0.0.1:5020?unit=1&model=sdm630"]}, ""),
])
def test_a_station_that_fixes_its_samples_adds_soc_where_the_ev_reports_it(
    tmp_path: Path, settings: dict[str, Any], sampled: str
) -> None:
    with _configuration(tmp_path, settings) as config:
        assert config.value("MeterValuesSampledData") == sampled
        assert config.change_with_reason("MeterValuesSampledData", "SoC").reason == "read-only"


def test_the_battery_the_bench_gave_is_found_again_after_a_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, profile="wemob", model="wemob-station-dc60")
    db = Database(settings.database_path)
    try:
        evse = simulated_evse(settings, 1, StateTable(db))
        assert evse.battery == Battery(7.4, 7.4)  # ev_power_w, on AC and DC alike
        evse.set_battery(changed(evse.battery, {"capacity": 40, "target": 85, "max_dc_kw": 50}))
        again = simulated_evse(settings, 1, StateTable(db))
        assert again.battery == Battery(7.4, 50, capacity_kwh=40, target_soc=85)
        assert simulated_evse(settings, 2, StateTable(db)).battery == Battery(7.4, 7.4)  # each connector its own car
    finally:
        db.close()


@contextmanager
def _configuration(tmp_path: Path, settings: dict[str, Any]) -> Iterator[Configuration]:
    db = Database(tmp_path / "chargepoint.db")
    try:
        yield open_configuration(Settings(data_dir=tmp_path, **settings), db)
    finally:
        db.close()


def _soc_values(csms: Csms) -> list[int]:
    return [
        int(sample["value"])
        for payload in csms.calls("MeterValues")
        for value in payload["meterValue"]
        for sample in value["sampledValue"]
        if sample.get("measurand") == "SoC"
    ]


async def test_a_dc_session_reports_soc_and_goes_suspended_ev_at_the_target(csms: Csms, make_daemon: Any) -> None:
    daemon = make_daemon(csms, profile="wemob", model="wemob-station-dc60")
    await booted(csms, daemon, connectors=2)
    for bad in (["--capacity", "0"], ["--target", "101"], ["--soc", "-5"]):
        assert f"chargepoint: {bad[0]} must be" in await cli_fails(daemon, "ev", "1", "battery", *bad)
    wrong = await daemon.cli("ev", "1", "charge", "--soc", "50")
    assert (wrong.code, wrong.err) == (2, "chargepoint: battery values go with `ev N battery` only\n")
    told = await cli_ok(daemon, "ev", "1", "battery", "--capacity", "0.2", "--soc", "78", "--target", "82", "--max-dc-kw", "10")
    assert told.strip() == "connector 1: EV battery 0.2 kWh, SoC 78 % at plug-in, target 82 %, max 7.4 kW AC / 10 kW DC"
    await configure(csms, MeterValueSampleInterval="1")  # MeterValuesSampledData is the station's: register and SoC

    mark = len(csms.frames)
    await charging(csms, daemon)
    await reaches(csms, 1, "SuspendedEV", after=mark, timeout=20)
    await eventually(lambda: bool(_soc_values(csms)) and _soc_values(csms)[-1] >= 82, 10, "MeterValues with SoC 82")
    socs = _soc_values(csms)
    assert socs == sorted(socs) and socs[0] >= 78, socs
    sample = next(s for p in csms.calls("MeterValues") for v in p["meterValue"] for s in v["sampledValue"] if s.get("measurand") == "SoC")
    assert (sample["unit"], sample["location"]) == ("Percent", "EV")

    status = (await daemon.status())["connectors"][0]
    assert status["status"] == "SuspendedEV" and status["soc_percent"] >= 82
    start_wh = csms.calls("StartTransaction")[-1]["meterStart"]
    assert status["energy_wh"] - start_wh == pytest.approx((status["soc_percent"] - 78) * 2, abs=3)  # 1 % is 2 Wh; both figures floored
    assert f"SoC: {status['soc_percent']} %" in await cli_ok(daemon, "status")
    assert "at its target SoC (82 %)" in await cli_fails(daemon, "ev", "1", "charge")

    mark = len(csms.frames)
    await cli_ok(daemon, "ev", "1", "battery", "--target", "90")  # the driver raises the target: it asks again
    await reaches(csms, 1, "Charging", after=mark)
