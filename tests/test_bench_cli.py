"""The bench CLI against a running daemon: what the engineer types, what the CSMS then receives."""

from __future__ import annotations

import asyncio

import json
import os
import re
import stat
from importlib import metadata

import pytest
from ocpp.v16 import call

from tests.conftest import booted
from tests.csms import Csms
from tests.helpers import charging, cli_fails, cli_ok, reaches


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


@pytest.mark.parametrize("answer, meaning", [
    ("Invalid", "unknown or not valid"), ("Blocked", "blocked"), ("Expired", "expired"),
    ("ConcurrentTx", "already in another transaction"),
])
async def test_a_card_the_csms_refuses_starts_nothing_and_the_swipe_fails_saying_why(
    csms: Csms, make_daemon, answer: str, meaning: str
) -> None:
    csms.id_tags = {"BAD": {"status": answer}}
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await cli_ok(daemon, "plug", "1")
    await reaches(csms, 1, "Preparing")
    told = await cli_fails(daemon, "swipe", "BAD")
    assert f"connector 1: BAD refused: {answer} ({meaning}), says the CSMS" in told, told
    assert csms.calls("Authorize") == [{"idTag": "BAD"}]
    assert csms.calls("StartTransaction") == []
    report = json.loads(await cli_ok(daemon, "status", "--json"))
    assert report["connectors"][0]["transaction_id"] is None


async def test_a_card_offline_with_no_local_authorization_fails_saying_so(make_daemon, unused_tcp_port: int) -> None:
    daemon = make_daemon(csms_url=f"ws://127.0.0.1:{unused_tcp_port}/ocpp")  # nothing listens: never online
    await daemon.wait_socket()
    await cli_ok(daemon, "plug", "1")
    told = await cli_fails(daemon, "swipe", "CARD1")
    assert "CARD1 refused: Invalid (offline, and not authorized locally" in told, told
    assert "AllowOfflineTxForUnknownId" in told
    assert (await daemon.status())["connectors"][0]["transaction_id"] is None


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


async def test_bench_commands_that_change_nothing_fail_saying_so(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    mark = len(csms.frames)
    for args, words in [
        (("unplug", "1"), "no cable is plugged in"),
        (("ev", "1", "charge"), "plug first"),
        (("ev", "1", "suspend"), "plug first"),
        (("fault", "1", "--clear"), "no fault to clear"),
        (("fault", "0", "--clear"), "no fault to clear"),
        (("lock", "1", "free"), "already free"),
        (("estop", "--release"), "was not pressed"),
    ]:
        assert words in await cli_fails(daemon, *args), args
    await cli_ok(daemon, "plug", "1")
    await reaches(csms, 1, "Preparing", after=mark)
    await cli_ok(daemon, "fault", "1", "GroundFailure")
    await reaches(csms, 1, "Faulted", "GroundFailure", after=mark)
    quiet = len(csms.received("StatusNotification"))
    for args, words in [
        (("plug", "1"), "already plugged in"),
        (("ev", "1", "suspend"), "the EV is already paused"),
        (("fault", "1", "GroundFailure"), "GroundFailure is already raised"),
    ]:
        assert words in await cli_fails(daemon, *args), args
    await cli_ok(daemon, "ev", "1", "charge")
    assert "the EV already asks for energy" in await cli_fails(daemon, "ev", "1", "charge")
    cleared = len(csms.frames)
    await cli_ok(daemon, "fault", "1", "--clear")
    await reaches(csms, 1, "Preparing", after=cleared)
    # Notifications leave in order: one the refused commands caused would come before this one.
    assert [p["status"] for p in csms.calls("StatusNotification")[quiet:]] == ["Preparing"]
    await cli_ok(daemon, "estop")
    assert "already pressed" in await cli_fails(daemon, "estop")


async def test_clearing_faults_clears_the_lock_failure_and_the_hardware_fault_together(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await cli_ok(daemon, "lock", "1", "jam")
    await cli_ok(daemon, "plug", "1")
    # The socket lock does not close: ConnectorLockFailure, and the card's command fails saying so.
    assert "the socket lock failed" in await cli_fails(daemon, "swipe", "TAG1")
    await reaches(csms, 1, "Faulted", "ConnectorLockFailure")
    await cli_ok(daemon, "fault", "1", "GroundFailure")
    await reaches(csms, 1, "Faulted", "GroundFailure")
    await cli_ok(daemon, "lock", "1", "free")
    mark = len(csms.frames)
    await cli_ok(daemon, "fault", "1", "--clear")
    await reaches(csms, 1, "Preparing", after=mark)
    assert (await daemon.status())["connectors"][0]["error_code"] == "NoError"


async def test_version_and_help_say_what_a_user_needs(make_daemon) -> None:
    daemon = make_daemon(start=False)
    version = await daemon.cli("--version")
    assert (version.code, version.out) == (0, f"chargepoint {metadata.version('chargepoint')}\n"), version
    bare = await daemon.cli()
    assert bare.code == 2 and bare.out == "", bare  # no command is a usage error, as in argparse
    assert "usage: chargepoint" in bare.err and "swipe" in bare.err and "NumberOfConnectors" in bare.err

    async def help_of(*command: str) -> str:
        return " ".join((await cli_ok(daemon, *command, "--help")).split())  # argparse wraps lines

    fault = await help_of("fault")
    assert "N the connector number, 1 to NumberOfConnectors; 0 is the whole station" in fault
    assert "CODE the ChargePointErrorCode to raise, one of: ConnectorLockFailure, EVCommunicationError," in fault
    assert "NoError" not in fault
    assert "N the connector number, 1 to the station's NumberOfConnectors" in await help_of("plug")
    for command in (("status",), ("config", "get")):
        assert "--json print" in await help_of(*command), command


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
    for args, status, why in [
        (("NoSuchKey", "1"), "NotSupported", "NoSuchKey: not a key of this station"),
        (("HeartbeatInterval", "abc"), "Rejected", "HeartbeatInterval: not a whole number; allowed: 0..86400"),
    ]:
        result = await daemon.cli("config", "set", *args)
        assert (result.code, result.out.strip(), result.err.strip()) == (1, status, f"chargepoint: {why}"), result
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


@pytest.mark.parametrize("key, value, status, why", [
    ("HeartbeatInterval", "ten", "Rejected", "not a whole number; allowed: 0..86400"),
    ("HeartbeatInterval", "86401", "Rejected", "outside 0..86400"),
    ("NumberOfConnectors", "2", "Rejected", "read-only"),
    ("MeterValuesSampledData", "Energy.Active.Import.Register,SoC", "Rejected", "the meter cannot provide SoC"),
    ("HeartbeatIntervall", "60", "NotSupported", "not a key of this station; did you mean HeartbeatInterval?"),
])
async def test_config_set_says_why_and_fails(make_daemon, key: str, value: str, status: str, why: str) -> None:
    daemon = make_daemon(start=False, profile="wallbox")
    result = await daemon.cli("config", "set", key, value)
    assert (result.code, result.out.strip(), result.err.strip()) == (1, status, f"chargepoint: {key}: {why}"), result


@pytest.mark.parametrize("password", [None, "00112233445566778899aabbccddeeff"])
async def test_config_get_authorization_key_says_write_only_and_whether_set(make_daemon, password: str | None) -> None:
    daemon = make_daemon(start=False, **({"password": password} if password else {}))
    shown = await cli_ok(daemon, "config", "get", "AuthorizationKey")
    assert shown.strip() == f"AuthorizationKey W  (write-only: {'set' if password else 'not set'})"
    listing = json.loads(await cli_ok(daemon, "config", "get", "AuthorizationKey", "--json"))
    assert listing["writeOnly"] == [{"key": "AuthorizationKey", "set": password is not None}]
    assert listing["unknownKey"] == [] and listing["configurationKey"] == []
    if password:
        assert password not in shown and password not in json.dumps(listing)


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
