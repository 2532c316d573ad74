"""WEMOB's custom features against a real CSMS (application manual §4.4): the SilentModeSchedule
DataTransfer, silent mode in force (table 4.7) and what it does to a DC session, the station's
menu under EnableHmiConfiguration, and what an AC model leaves out."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from ocpp.v16 import call

from tests.conftest import Daemon, booted, eventually
from tests.csms import Csms

DC = {"profile": "wemob", "model": "wemob-station-dc60"}
SCHEDULE = "SilentModeSchedule"
ALL_DAY_ON = [{"startPeriod": 0, "enable": 1}]
ALL_DAY_OFF = [{"startPeriod": 0, "enable": 0}]


async def data_transfer(csms: Csms, data: Any = None, vendor: str = "WEG", message: str = SCHEDULE) -> str:
    """Sent raw, so the bare array of the manual's example reaches the station as it is."""
    payload: dict[str, Any] = {"vendorId": vendor, "messageId": message}
    if data is not None:
        payload["data"] = data
    answer = await csms.call_raw("DataTransfer", payload)
    assert answer[0] == 3, answer
    return str(answer[2]["status"])


async def silent(daemon: Daemon) -> tuple[bool, Any, list[dict[str, int]]]:
    status = await daemon.status()
    return status["silent_mode"], status["silent_mode_pending"], status["silent_mode_schedule"]


async def test_the_schedule_is_taken_as_text_or_array_refused_when_malformed_removed_and_kept(csms, make_daemon) -> None:
    daemon = make_daemon(csms, **DC)
    await booted(csms, daemon, connectors=2)
    assert await data_transfer(csms, json.dumps(ALL_DAY_ON)) == "Accepted"
    assert await silent(daemon) == (True, None, ALL_DAY_ON)
    two = [{"startPeriod": 64800, "enable": 1}, {"startPeriod": 28800, "enable": 0}]  # the manual's example
    assert await data_transfer(csms, two, vendor="any vendor, not checked") == "Accepted"
    installed = sorted(two, key=lambda e: e["startPeriod"])
    assert (await silent(daemon))[2] == installed
    malformed = [
        "[{'startPeriod': 28800, 'enable': 0}]",  # the manual's quotes: not JSON
        '[{"enable": 1}]',
        '[{"startPeriod": 90000, "enable": 1}]',
        '[{"startPeriod": 10, "enable": 1}, {"startPeriod": 10, "enable": 0}]',
        [{"startPeriod": 10, "enable": 3}],
    ]
    for data in malformed:
        assert await data_transfer(csms, data) == "Rejected", data
    assert (await silent(daemon))[2] == installed  # nothing changed
    assert await data_transfer(csms, json.dumps(ALL_DAY_ON), message="silentmodeschedule") == "UnknownMessageId"  # case-sensitive
    daemon.kill()
    connections = csms.connections
    daemon.start()
    await csms.wait_connections(connections + 1, timeout=20)
    await daemon.wait_socket()
    assert (await silent(daemon))[2] == installed  # SQLite, across a SIGKILL
    assert await data_transfer(csms) == "Accepted"  # no data: remove
    assert await silent(daemon) == (False, None, [])


@pytest.mark.parametrize(
    ("key", "schedule", "in_force"),
    [("false", ALL_DAY_OFF, False), ("false", ALL_DAY_ON, True), ("true", ALL_DAY_OFF, True), ("true", ALL_DAY_ON, True)],
)
async def test_table_4_7_silent_mode_always_wins(csms, make_daemon, key: str, schedule: list[Any], in_force: bool) -> None:
    daemon = make_daemon(csms, **DC)
    await booted(csms, daemon, connectors=2)
    assert (await csms.call(call.ChangeConfiguration(key="SilentMode", value=key))).status == "Accepted"
    assert await data_transfer(csms, json.dumps(schedule)) == "Accepted"
    assert await silent(daemon) == (in_force, None, schedule)


async def test_the_schedule_counts_the_day_in_the_timezone_setting(csms, make_daemon) -> None:
    """UTC unless `timezone` says otherwise; Tokyo is nine hours ahead all year."""
    daemon = make_daemon(csms, timezone="Asia/Tokyo", **DC)
    await booted(csms, daemon, connectors=2)
    now = datetime.now(ZoneInfo("Asia/Tokyo"))
    second = now.hour * 3600 + now.minute * 60 + now.second
    window = [{"startPeriod": (second - 60) % 86400, "enable": 1}, {"startPeriod": (second + 3600) % 86400, "enable": 0}]
    assert await data_transfer(csms, json.dumps(window)) == "Accepted"
    assert (await silent(daemon))[0] is True  # in UTC the window is nine hours away


async def start_charging(csms: Csms, daemon: Daemon, connector: int = 1) -> None:
    await daemon.cli("plug", str(connector))
    assert (await daemon.cli("swipe", "CARD1", "--connector", str(connector))).code == 0
    await daemon.cli("ev", str(connector), "charge")
    await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == connector and p["status"] == "Charging")


async def test_a_change_during_a_charge_waits_for_its_end(csms, make_daemon) -> None:
    daemon = make_daemon(csms, **DC)
    await booted(csms, daemon, connectors=2)
    await start_charging(csms, daemon)
    assert (await csms.call(call.ChangeConfiguration(key="SilentMode", value="true"))).status == "Accepted"
    assert await silent(daemon) == (False, True, [])
    text = (await daemon.cli("status")).out
    assert "silent mode: off (pending: on when the charge ends)" in text
    assert await data_transfer(csms, json.dumps(ALL_DAY_OFF)) == "Accepted"  # still asked for, by the key
    assert (await silent(daemon))[:2] == (False, True)
    await daemon.cli("unplug", "1")
    await csms.wait_for("StopTransaction")
    await eventually(lambda: _in_force(daemon, True), 5, "silent mode on once the charge ended")


async def _in_force(daemon: Daemon, wanted: bool) -> bool:
    return (await silent(daemon))[:2] == (wanted, None)


async def test_silent_mode_lowers_the_power_as_the_cabinet_warms_and_without_it_the_power_holds(make_daemon) -> None:
    """Two DC stations charge the same EV at once: only the silent one derates."""
    power = {"ev_power_w": 60000, "max_current_a": 100}
    async with Csms(boot_interval=60) as csms:
        quiet = make_daemon(csms, identity="CP-QUIET", **DC, **power)
        loud = make_daemon(csms, identity="CP-LOUD", **DC, **power)
        await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 2, identity="CP-QUIET", timeout=20)
        await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 2, identity="CP-LOUD", timeout=20)
        await quiet.wait_socket()
        await loud.wait_socket()
        assert (await csms.call(call.ChangeConfiguration(key="SilentMode", value="true"), identity="CP-QUIET")).status == "Accepted"
        for daemon in (quiet, loud):
            await daemon.cli("plug", "1")
            await daemon.cli("swipe", "CARD1", "--connector", "1")
            await daemon.cli("ev", "1", "charge")

        async def derated() -> bool:
            connector = (await quiet.status())["connectors"][0]
            return connector["derated_a"] is not None and 0 < connector["power_w"] < 55000

        await eventually(derated, 40, "the silent station offering less as it warms")
        quiet_status, loud_status = await quiet.status(), await loud.status()
        assert quiet_status["cabinet"]["temperature_c"] > 45 and quiet_status["cabinet"]["fan_percent"] == 30
        assert loud_status["silent_mode"] is False and loud_status["cabinet"]["fan_percent"] == 100
        assert loud_status["connectors"][0]["derated_a"] is None
        assert loud_status["connectors"][0]["power_w"] == pytest.approx(60000, rel=0.01)
        assert "cabinet:" in (await quiet.cli("status")).out


async def test_the_menu_sets_silent_mode_and_language_only_while_enable_hmi_configuration(csms, make_daemon) -> None:
    daemon = make_daemon(csms, **DC)
    await booted(csms, daemon, connectors=2)
    assert (await daemon.cli("hmi", "silent-mode", "on")).code == 0
    assert (await daemon.cli("config", "get", "SilentMode")).out.split() == ["SilentMode", "RW", "true"]
    assert (await daemon.cli("hmi", "language", "en")).code == 0
    assert (await daemon.status())["language"] == "en"
    assert (await csms.call(call.ChangeConfiguration(key="EnableHmiConfiguration", value="false"))).status == "Accepted"
    for args in (("hmi", "silent-mode", "off"), ("hmi", "language", "es")):
        refused = await daemon.cli(*args)
        assert refused.code != 0 and "EnableHmiConfiguration is false" in refused.err, refused
    status = await daemon.status()
    assert status["silent_mode"] is True and status["language"] == "en"
    assert (await daemon.cli("hmi", "language", "fr")).code == 2  # not a language of the menu


async def test_an_ac_model_has_no_silent_mode_no_menu_and_no_schedule_message(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wemob", model="wemob-wall-ac22")
    await booted(csms, daemon)
    answer = await csms.call(call.GetConfiguration(key=["SilentMode", "EnableHmiConfiguration", "ScreenSaverTime"]))
    assert sorted(answer.unknown_key) == ["EnableHmiConfiguration", "SilentMode"]
    assert await data_transfer(csms, json.dumps(ALL_DAY_ON)) == "UnknownMessageId"
    refused = await daemon.cli("hmi", "silent-mode", "on")
    assert refused.code != 0 and "has no configuration menu" in refused.err
    status = await daemon.status()
    assert "silent_mode" not in status and status["display"] == "on"
