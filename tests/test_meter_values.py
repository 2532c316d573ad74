"""MeterValues contents (spec §3.16, §7.31 SampledValue, §9.1 keys): measurands, phases, units,
clock-aligned values on the grid, and StopTransaction transactionData."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from ocpp.v16 import call

from tests.conftest import booted
from tests.helpers import charging, cli_ok, configure


async def test_phase_measurands_carry_phase_unit_location_and_format(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wallbox", ev_power_w=6900)
    await booted(csms, daemon)
    await configure(
        csms,
        MeterValuesSampledData="Voltage,Current.Import,Energy.Active.Import.Interval,Frequency",
        MeterValueSampleInterval="1",
    )
    await charging(csms, daemon, until="StartTransaction", timeout=5)
    frame = await csms.wait_for("MeterValues", timeout=5)
    values = frame.payload["meterValue"][0]["sampledValue"]
    voltages = [v for v in values if v["measurand"] == "Voltage"]
    currents = [v for v in values if v["measurand"] == "Current.Import"]
    assert [v["phase"] for v in voltages] == ["L1-N", "L2-N", "L3-N"]
    assert [v["phase"] for v in currents] == ["L1", "L2", "L3"]
    assert {v["unit"] for v in voltages} == {"V"} and {v["unit"] for v in currents} == {"A"}
    assert float(currents[0]["value"]) == pytest.approx(6900 / 3 / 230, abs=0.01)
    assert all(v["location"] == "Outlet" and v["format"] == "Raw" and v["context"] == "Sample.Periodic" for v in values)
    [interval] = [v for v in values if v["measurand"] == "Energy.Active.Import.Interval"]
    assert interval["unit"] == "Wh" and int(interval["value"]) >= 0
    [frequency] = [v for v in values if v["measurand"] == "Frequency"]
    assert frequency["value"] == "50" and "unit" not in frequency  # OCPP 1.6 has no Hz unit


async def test_clock_aligned_values_fall_on_the_grid_for_every_connector_and_the_station(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wallbox")
    await booted(csms, daemon)
    await configure(csms, MeterValuesAlignedData="Energy.Active.Import.Register", ClockAlignedDataInterval="2")
    mark = len(csms.frames)
    seen: dict[int, list[str]] = {0: [], 1: []}
    while min(len(v) for v in seen.values()) < 2:
        frame = await csms.wait_for("MeterValues", timeout=5, after=mark)
        mark = csms.frames.index(frame) + 1
        value = frame.payload["meterValue"][0]
        assert "transactionId" not in frame.payload
        assert value["sampledValue"][0]["context"] == "Sample.Clock"
        seen[frame.payload["connectorId"]].append(value["timestamp"])
    for stamps in seen.values():
        for stamp in stamps:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            assert moment.microsecond == 0 and (moment.hour * 3600 + moment.minute * 60 + moment.second) % 2 == 0


@pytest.mark.parametrize(
    ("sampled", "aligned", "contexts"),
    [
        ("", "", None),
        ("Energy.Active.Import.Register", "", ["Transaction.Begin", "Transaction.End"]),
        ("", "Energy.Active.Import.Register", "clock"),
        ("Energy.Active.Import.Register", "Energy.Active.Import.Register", "begin-clock-end"),
    ],
)
async def test_stop_transaction_data_follows_the_stop_txn_keys(csms, make_daemon, sampled, aligned, contexts) -> None:
    daemon = make_daemon(csms, profile="wallbox")
    await booted(csms, daemon)
    await configure(
        csms,
        StopTxnSampledData=sampled or "",
        StopTxnAlignedData=aligned or "",
        ClockAlignedDataInterval="1",
    )
    await charging(csms, daemon, until="StartTransaction", timeout=5)
    await asyncio.sleep(2.5)
    await cli_ok(daemon, "swipe", "TAG1")
    stop = (await csms.wait_for("StopTransaction", timeout=5)).payload
    if contexts is None:
        assert "transactionData" not in stop
        return
    found = [value["sampledValue"][0]["context"] for value in stop["transactionData"]]
    if contexts == "begin-clock-end":
        assert found[0] == "Transaction.Begin" and found[-1] == "Transaction.End"
        assert len(found) >= 4 and set(found[1:-1]) == {"Sample.Clock"}
    elif contexts == "clock":
        assert len(found) >= 2 and set(found) == {"Sample.Clock"}
    else:
        assert found == contexts
    energies = [int(v["sampledValue"][0]["value"]) for v in stop["transactionData"]]
    assert energies == sorted(energies) and energies[-1] <= stop["meterStop"]


async def test_sampled_meter_values_count_follows_the_interval(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wallbox", ev_power_w=11000)
    await booted(csms, daemon)
    await configure(csms, MeterValueSampleInterval="1")
    await charging(csms, daemon, until="StartTransaction", timeout=5)
    first = await csms.wait_for("MeterValues", timeout=5)
    await asyncio.sleep(3.2)
    later = [f for f in csms.received("MeterValues") if f.at > first.at]
    assert 2 <= len(later) <= 4  # one a second after the first
    stamps = [f.payload["meterValue"][0]["timestamp"] for f in [first, *later]]
    gaps = [
        (datetime.fromisoformat(b.replace("Z", "+00:00")) - datetime.fromisoformat(a.replace("Z", "+00:00"))).total_seconds()
        for a, b in zip(stamps, stamps[1:])
    ]
    assert all(0.8 < gap < 1.6 for gap in gaps), gaps


async def test_a_measurand_no_meter_provides_is_rejected(csms, make_daemon) -> None:
    """§9.1: a CSL measurand key naming what the configured meter cannot measure is Rejected."""
    daemon = make_daemon(csms, profile="wallbox")
    await booted(csms, daemon)
    for key in ("MeterValuesSampledData", "MeterValuesAlignedData", "StopTxnSampledData", "StopTxnAlignedData"):
        answer = await csms.call(call.ChangeConfiguration(key=key, value="Energy.Active.Import.Register,SoC"))
        assert answer.status == "Rejected", key
        answer = await csms.call(call.ChangeConfiguration(key=key, value="Energy.Active.Import.Register,Voltage"))
        assert answer.status == "Accepted", key


async def test_stop_txn_sampled_data_keeps_every_periodic_sample(csms, make_daemon) -> None:
    """§9.1 StopTxnSampledData: sampled every MeterValueSampleInterval into transactionData."""
    daemon = make_daemon(csms, profile="wallbox")
    await booted(csms, daemon)
    await configure(csms, StopTxnSampledData="Energy.Active.Import.Register", MeterValueSampleInterval="1")
    await charging(csms, daemon, until="StartTransaction", timeout=5)
    await asyncio.sleep(2.5)
    await cli_ok(daemon, "swipe", "TAG1")
    stop = (await csms.wait_for("StopTransaction", timeout=5)).payload
    found = [value["sampledValue"][0]["context"] for value in stop["transactionData"]]
    assert found[0] == "Transaction.Begin" and found[-1] == "Transaction.End"
    assert len(found) >= 4 and set(found[1:-1]) == {"Sample.Periodic"}


async def test_station_values_come_from_the_inlet_with_interval_energy(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wallbox")
    await booted(csms, daemon)
    await configure(
        csms,
        MeterValuesAlignedData="Energy.Active.Import.Register,Energy.Active.Import.Interval",
        ClockAlignedDataInterval="1",
    )
    mark = len(csms.frames)
    station: list[dict] = []
    while len(station) < 2:
        frame = await csms.wait_for("MeterValues", lambda p: p["connectorId"] == 0, timeout=5, after=mark)
        mark = csms.frames.index(frame) + 1
        station.append(frame.payload["meterValue"][0])
    assert all(v["location"] == "Inlet" for value in station for v in value["sampledValue"])
    assert any(v["measurand"] == "Energy.Active.Import.Interval" for v in station[1]["sampledValue"])
