"""The bench CLI against a running daemon: what the engineer types, what the CSMS then receives."""

from __future__ import annotations

import asyncio

import json
import os
import re
import stat

import pytest
from ocpp.v16 import call

from tests.conftest import booted
from tests.csms import Csms
from tests.helpers import charging, cli_ok, reaches


def statuses(csms: Csms, connector: int) -> list[str]:
    return [p["status"] for p in csms.calls("StatusNotification") if p["connectorId"] == connector]


async def configured(csms: Csms, key: str) -> str:
    """The key's value as the CSMS reads it with GetConfiguration."""
    answer = await csms.call(call.GetConfiguration(key=[key]))
    return answer.configuration_key[0]["value"]


async def test_plug_swipe_suspend_swipe_unplug_is_a_whole_session(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    csms.next_transaction_id = 4242
    await cli_ok(daemon, "plug", "1")
    await reaches(csms, 1, "Preparing")
    await cli_ok(daemon, "ev", "1", "charge")
    assert "transaction started" in await cli_ok(daemon, "swipe", "TAG1")
    await reaches(csms, 1, "Charging")
    assert csms.calls("Authorize") == [{"idTag": "TAG1"}]
    start = (await csms.wait_for("StartTransaction")).payload
    await asyncio.sleep(0.3)  # the answer's transactionId reaches the connector
    assert csms.received("Authorize")[0].at < csms.received("StartTransaction")[0].at
    assert (start["connectorId"], start["idTag"]) == (1, "TAG1")
    assert isinstance(start["meterStart"], int) and start["timestamp"]

    text = await cli_ok(daemon, "status")
    assert re.search(r"link: Connected\s+registration: Accepted", text), text
    assert re.search(r"connector 1: Charging\s+error: NoError\s+transaction: 4242\s+idTag: TAG1", text), text
    report = json.loads(await cli_ok(daemon, "status", "--json"))
    assert (report["link"], report["registration"]) == ("Connected", "Accepted")
    connector = report["connectors"][0]
    assert (connector["connector"], connector["status"]) == (1, "Charging")
    assert (connector["transaction_id"], connector["id_tag"]) == (4242, "TAG1")

    await cli_ok(daemon, "ev", "1", "suspend")
    await reaches(csms, 1, "SuspendedEV")
    assert "stopped" in await cli_ok(daemon, "swipe", "TAG1")
    stop = (await csms.wait_for("StopTransaction")).payload
    assert (stop["transactionId"], stop["reason"], stop["idTag"]) == (4242, "Local", "TAG1")
    assert stop["meterStop"] >= start["meterStart"]
    await reaches(csms, 1, "Finishing")
    mark = len(csms.frames)
    await cli_ok(daemon, "unplug", "1")
    await reaches(csms, 1, "Available", after=mark)
    assert statuses(csms, 1) == ["Available", "Preparing", "Charging", "SuspendedEV", "Finishing", "Available"]


async def test_card_before_cable_starts_when_the_cable_arrives(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert "plug in" in await cli_ok(daemon, "swipe", "TAG1")
    await reaches(csms, 1, "Preparing")
    assert csms.calls("Authorize") == [{"idTag": "TAG1"}]
    assert csms.calls("StartTransaction") == []
    await cli_ok(daemon, "plug", "1")
    start = (await csms.wait_for("StartTransaction")).payload
    assert (start["connectorId"], start["idTag"]) == (1, "TAG1")
    await reaches(csms, 1, "SuspendedEV")  # cable in, but the EV has not asked for energy yet


async def test_unplugging_mid_transaction_stops_it_as_ev_disconnected(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await charging(csms, daemon, boot=True)
    mark = len(csms.frames)
    await cli_ok(daemon, "unplug", "1")
    stop = (await csms.wait_for("StopTransaction")).payload
    assert stop["reason"] == "EVDisconnected"
    await reaches(csms, 1, "Available", after=mark)
    assert statuses(csms, 1)[-2:] == ["Charging", "Available"]


async def test_a_card_the_csms_calls_invalid_starts_nothing(csms: Csms, make_daemon) -> None:
    csms.id_tags = {"BAD": {"status": "Invalid"}}
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await cli_ok(daemon, "plug", "1")
    await reaches(csms, 1, "Preparing")
    swipe = await daemon.cli("swipe", "BAD")
    assert "refused" in swipe.out and "Invalid" in swipe.out, swipe
    assert csms.calls("Authorize") == [{"idTag": "BAD"}]
    assert csms.calls("StartTransaction") == []
    report = json.loads(await cli_ok(daemon, "status", "--json"))
    assert report["connectors"][0]["transaction_id"] is None


@pytest.mark.parametrize("plugged, before", [(False, "Available"), (True, "Preparing")])
async def test_a_fault_is_reported_and_clearing_returns_to_the_status_before(
    csms: Csms, make_daemon, plugged: bool, before: str
) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    if plugged:
        await cli_ok(daemon, "plug", "1")
    await reaches(csms, 1, before)
    await cli_ok(daemon, "fault", "1", "GroundFailure")
    await reaches(csms, 1, "Faulted", "GroundFailure")
    mark = len(csms.frames)
    await cli_ok(daemon, "fault", "1", "--clear")
    await reaches(csms, 1, before, after=mark)


async def test_ev_communication_error_while_charging_suspends_then_resumes(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await charging(csms, daemon, boot=True)
    await cli_ok(daemon, "fault", "1", "EVCommunicationError")
    await reaches(csms, 1, "SuspendedEVSE", "EVCommunicationError")
    assert csms.calls("StopTransaction") == []
    mark = len(csms.frames)
    await cli_ok(daemon, "fault", "1", "--clear")
    await reaches(csms, 1, "Charging", after=mark)


async def test_a_cable_plugged_while_faulted_is_preparing_once_cleared(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await cli_ok(daemon, "fault", "1", "GroundFailure")
    await reaches(csms, 1, "Faulted", "GroundFailure")
    await cli_ok(daemon, "plug", "1")
    mark = len(csms.frames)
    await cli_ok(daemon, "fault", "1", "--clear")
    frame = await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, after=mark)
    assert frame.payload["status"] == "Preparing"


async def test_mistakes_get_one_line_and_a_failing_exit_status(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    reported = len(csms.received("StatusNotification"))
    for args, code, words in [
        (("plug", "9"), 1, ["connector 9"]),
        (("swipe", "TAG1", "--connector", "9"), 1, ["connector 9"]),
        (("swipe", "X" * 21), 1, ["idTag", "20"]),
        (("fault", "1", "Gremlins"), 1, ["Gremlins", "GroundFailure", "EVCommunicationError"]),
        (("fault", "1"), 2, ["--clear"]),
        (("fault", "1", "GroundFailure", "--clear"), 2, ["--clear"]),
        (("frobnicate",), 2, ["frobnicate"]),
    ]:
        result = await daemon.cli(*args)
        assert result.code == code, (args, result)
        assert len(result.err.strip().splitlines()) == 1, (args, result.err)
        assert all(word in result.err for word in words), (args, result.err)
        assert "Traceback" not in result.err
    assert len(csms.received("StatusNotification")) == reported


async def test_status_without_a_daemon_says_the_station_is_not_running(make_daemon) -> None:
    daemon = make_daemon(start=False)
    result = await daemon.cli("status")
    assert result.code == 1
    assert "not running" in result.err and len(result.err.strip().splitlines()) == 1


async def test_config_through_the_daemon_follows_change_configuration_rules(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    # The CSMS's boot interval became HeartbeatInterval in the daemon's keys.
    assert (await cli_ok(daemon, "config", "get", "HeartbeatInterval")).split() == ["HeartbeatInterval", "RW", "60"]
    assert (await cli_ok(daemon, "config", "set", "MeterValueSampleInterval", "5")).strip() == "Accepted"
    assert await configured(csms, "MeterValueSampleInterval") == "5"
    for args, status in [(("NoSuchKey", "1"), "NotSupported"), (("HeartbeatInterval", "abc"), "Rejected")]:
        result = await daemon.cli("config", "set", *args)
        assert (result.code, result.out.strip()) == (1, status), result
    assert await configured(csms, "HeartbeatInterval") == "60"
    await csms.call(call.ChangeConfiguration(key="MeterValueSampleInterval", value="7"))
    listing = json.loads(await cli_ok(daemon, "config", "get", "MeterValueSampleInterval", "--json"))
    assert listing["configurationKey"] == [{"key": "MeterValueSampleInterval", "readonly": False, "value": "7"}]
    unknown = await daemon.cli("config", "get", "NoSuchKey")
    assert (unknown.code, unknown.out.strip()) == (1, "NoSuchKey unknown key")


async def test_config_without_a_daemon_uses_the_database_and_the_daemon_sees_it(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, start=False)
    assert (await cli_ok(daemon, "config", "get", "MeterValueSampleInterval")).split() == [
        "MeterValueSampleInterval", "RW", "15"  # the WEMOB factory default
    ]
    assert (await cli_ok(daemon, "config", "set", "MeterValueSampleInterval", "9")).strip() == "Accepted"
    assert (await daemon.cli("config", "set", "MeterValueSampleInterval", "-1")).code == 1
    daemon.start()
    await booted(csms, daemon)
    assert await configured(csms, "MeterValueSampleInterval") == "9"


async def test_the_control_socket_is_for_the_station_user_only(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    mode = os.stat(daemon.data_dir / "control.sock").st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600


async def test_emergency_stop_ends_the_transaction_with_reason_emergency_stop(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await charging(csms, daemon, boot=True)
    assert "connectors [1]" in await cli_ok(daemon, "estop")
    stop = (await csms.wait_for("StopTransaction")).payload
    assert stop["reason"] == "EmergencyStop" and "idTag" not in stop
    await reaches(csms, 1, "Unavailable")  # latched: see test_station_faults
