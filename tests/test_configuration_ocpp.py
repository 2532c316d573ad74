"""GetConfiguration / ChangeConfiguration from the CSMS (spec §5.4, §5.8, §9)."""

from __future__ import annotations

import asyncio
import json

import pytest
from ocpp.exceptions import OccurenceConstraintViolationError
from ocpp.v16 import call

from tests.conftest import booted
from tests.csms import Csms
from tests.helpers import logged

WEMOB_DEFAULTS = {
    "HeartbeatInterval": ("3000", False),
    "MeterValueSampleInterval": ("15", False),
    "ResetRetries": ("3", False),
    "TransactionMessageAttempts": ("5", False),
    "TransactionMessageRetryInterval": ("2", False),
    "WebSocketPingInterval": ("20", False),
    "ClockAlignedDataInterval": ("0", False),
    "AuthorizeRemoteTxRequests": ("false", True),
    "AllowOfflineTxForUnknownId": ("false", False),
    "AuthorizationCacheEnabled": ("true", False),
    "LocalAuthorizeOffline": ("true", False),
    "LocalPreAuthorize": ("true", False),
    "StopTransactionOnInvalidId": ("true", False),
    "MeterValuesSampledData": ("", True),
    "LocalAuthListEnabled": ("false", False),
    "LocalAuthListMaxLength": ("100", True),
    "SendLocalListMaxLength": ("100", True),
    "ChargeProfileMaxStackLevel": ("10", True),
    "ChargingScheduleAllowedChargingRateUnit": ("Current,Power", True),
    "ChargingScheduleMaxPeriods": ("10", True),
    "MaxChargingProfilesInstalled": ("30", True),
    "AlwaysAllowOfflineTransactions": ("false", False),
    "AutoChargeEnabled": ("false", False),
    "AllowChargeAfterBrownOut": ("false", False),
    "EnableSystemHealth": ("false", False),
    "ScreenSaverTime": ("5", False),
    "NumberOfConnectors": ("1", True),
}


def by_key(answer) -> dict[str, dict]:
    return {entry["key"]: entry for entry in answer.configuration_key}


async def test_full_get_configuration_has_wemob_factory_defaults(make_daemon) -> None:
    # Boot interval 0 keeps the factory HeartbeatInterval (0 means "use the key").
    async with Csms(boot_interval=0) as csms:
        daemon = make_daemon(csms, profile="wemob", password="0123456789abcdef0123456789abcdef")
        await booted(csms, daemon)
        answer = await csms.call(call.GetConfiguration())
        keys = by_key(answer)
        for name, (value, readonly) in WEMOB_DEFAULTS.items():
            assert (keys[name].get("value"), keys[name]["readonly"]) == (value, readonly), name
        assert "SilentMode" not in keys and "EnableHmiConfiguration" not in keys  # AC model
        assert keys["SupportedFeatureProfiles"]["value"] == "Core,FirmwareManagement,LocalAuthListManagement,SmartCharging"
        assert keys["SupportedFileTransferProtocols"] == {"key": "SupportedFileTransferProtocols", "readonly": True, "value": "FTP,HTTP,HTTPS"}
        assert "AuthorizationKey" not in keys
        assert not answer.unknown_key


async def test_get_configuration_by_name_lists_unknown_keys(csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    answer = await csms.call(call.GetConfiguration(key=["HeartbeatInterval", "NoSuchKey", "AuthorizationKey"]))
    assert [entry["key"] for entry in answer.configuration_key] == ["HeartbeatInterval"]
    assert answer.unknown_key == ["NoSuchKey", "AuthorizationKey"]


async def test_get_configuration_beyond_max_keys_is_an_occurence_violation(csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert (await csms.call(call.ChangeConfiguration(key="HeartbeatInterval", value="60"))).status == "Accepted"
    limit = int(by_key(await csms.call(call.GetConfiguration(key=["GetConfigurationMaxKeys"])))["GetConfigurationMaxKeys"]["value"])
    with pytest.raises(OccurenceConstraintViolationError):
        await csms.call(call.GetConfiguration(key=[f"Key{i}" for i in range(limit + 1)]))


CHANGE_OUTCOMES = {
    ("wemob", "wemob-wall-ac22"): [
        ("NoSuchKey", "1", "NotSupported"),
        ("NumberOfConnectors", "2", "Rejected"),  # read-only
        ("AuthorizeRemoteTxRequests", "true", "Rejected"),  # read-only under WEMOB
        ("HeartbeatInterval", "ten", "Rejected"),  # wrong type
        ("LocalPreAuthorize", "maybe", "Rejected"),
        ("WebSocketPingInterval", "-1", "Rejected"),
        ("ClockAlignedDataInterval", "600", "Rejected"),  # WEMOB: 0 or 900-86400
        ("ClockAlignedDataInterval", "900", "Accepted"),
        ("SilentMode", "true", "NotSupported"),  # DC models only
        ("AuthorizationKey", "not-hex", "Rejected"),
        ("MeterValueSampleInterval", "30", "Accepted"),
        ("localpreauthorize", "FALSE", "Accepted"),  # key names are CiString
    ],
    ("wemob", "wemob-station-dc60"): [
        ("SilentMode", "true", "Accepted"),
        ("EnableHmiConfiguration", "false", "Accepted"),
    ],
    ("wallbox", "copper-sb"): [
        ("MeterValuesSampledData", "Energy.Active.Import.Register,Bogus", "Rejected"),
        ("MeterValuesSampledData", "Energy.Active.Import.Register,Power.Active.Import", "Accepted"),
        ("SilentMode", "true", "NotSupported"),
    ],
}


@pytest.mark.parametrize(("profile", "model"), list(CHANGE_OUTCOMES))
async def test_change_configuration_outcomes(make_daemon, profile, model) -> None:
    async with Csms(boot_interval=0) as csms:
        daemon = make_daemon(csms, profile=profile, model=model)
        await booted(csms, daemon, connectors=2 if model == "wemob-station-dc60" else 1)
        for key, value, status in CHANGE_OUTCOMES[(profile, model)]:
            answer = await csms.call(call.ChangeConfiguration(key=key, value=value))
            assert answer.status == status, (key, value)


async def test_a_refusal_keeps_the_spec_answer_on_the_wire_and_logs_why_in_one_line(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wallbox")
    await booted(csms, daemon)
    for key, value, status, why in [
        ("HeartbeatInterval", "ten", "Rejected", "not a whole number; allowed: 0..86400"),
        ("MeterValuesSampledData", "SoC", "Rejected", "the meter cannot provide SoC"),
        ("HeartBeatIntervall", "60", "NotSupported", "not a key of this station; did you mean HeartbeatInterval?"),
    ]:
        mark = len(csms.frames)
        await csms.call(call.ChangeConfiguration(key=key, value=value))
        assert [f.payload for f in csms.frames[mark:] if f.direction == "in"] == [{"status": status}]
        await logged(daemon, f"ChangeConfiguration {key}=")
        lines = [line for line in daemon.logs().splitlines() if f"ChangeConfiguration {key}" in line]
        assert len(lines) == 1 and lines[0].endswith(f"{status} ({why})"), lines
    secret = "my-secret-not-hex"
    await csms.call(call.ChangeConfiguration(key="AuthorizationKey", value=secret))
    await logged(daemon, "ChangeConfiguration AuthorizationKey=(write-only value): Rejected (not in the expected format)")
    assert secret not in daemon.logs()


async def test_accepted_value_survives_a_restart(csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert (await csms.call(call.ChangeConfiguration(key="MeterValueSampleInterval", value="42"))).status == "Accepted"
    daemon.kill()
    mark = len(csms.frames)
    daemon.start()
    await csms.wait_for("BootNotification", timeout=20, after=mark)
    await csms.wait_for("StatusNotification", timeout=20, after=mark)
    keys = by_key(await csms.call(call.GetConfiguration(key=["MeterValueSampleInterval"])))
    assert keys["MeterValueSampleInterval"]["value"] == "42"


async def test_heartbeat_interval_change_reschedules_from_now(make_daemon) -> None:
    async with Csms(boot_interval=30) as csms:
        daemon = make_daemon(csms)
        await booted(csms, daemon)
        await asyncio.sleep(0.5)
        assert not csms.received("Heartbeat")
        changed = asyncio.get_running_loop().time()
        assert (await csms.call(call.ChangeConfiguration(key="HeartbeatInterval", value="1"))).status == "Accepted"
        await csms.wait_for("Heartbeat", timeout=5)
        await csms.wait_for("Heartbeat", timeout=5, after=len(csms.frames))
        beats = [f.at for f in csms.received("Heartbeat")]
        assert 0.8 < beats[0] - changed < 4
        assert 0.8 < beats[1] - beats[0] < 4


async def test_authorization_key_never_leaves_the_station(csms, make_daemon) -> None:
    secret = "00112233445566778899aabbccddeeff"
    password = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
    daemon = make_daemon(csms, password=password)
    await booted(csms, daemon)
    csms.basic_auth = (csms.identity, bytes.fromhex(secret))
    assert (await csms.call(call.ChangeConfiguration(key="AuthorizationKey", value=secret))).status == "Accepted"
    await csms.wait_connections(2)  # whitepaper A01: a new key, a new connection
    answer = await csms.call(call.GetConfiguration())
    assert all(entry["key"] != "AuthorizationKey" for entry in answer.configuration_key)
    status = await daemon.cli("status", "--json")
    listing = await daemon.cli("config", "get")
    for output in (daemon.logs(), daemon.frames(), status.out, listing.out, str(answer)):
        assert secret not in output and password not in output
    assert "AuthorizationKey" in daemon.frames()  # the frame was logged, with its value masked
    # Field order and letter case are free in JSON and in CiString key names.
    other = "ffeeddccbbaa99887766554433221100"
    csms.basic_auth = (csms.identity, bytes.fromhex(other))
    await csms.send_raw(json.dumps([2, "k2", "ChangeConfiguration", {"value": other, "key": "authorizationKEY"}]))
    assert (await csms.next_incoming_response("k2"))[2] == {"status": "Accepted"}
    await csms.wait_connections(3)
    assert csms.refused == 0  # each new key was on the very next upgrade
    assert other not in daemon.frames() and other not in daemon.logs()


async def test_a_new_key_waits_for_the_answer_to_a_call_in_flight_before_reconnecting(csms, make_daemon) -> None:
    """A01: the link is renewed after the change, but not across an exchange: the station's own
    CALL awaiting its answer gets it first, so neither side loses a message to the close."""
    daemon = make_daemon(csms, password="f0e1d2c3b4a5968778695a4b3c2d1e0f")
    await booted(csms, daemon)
    csms.ignore = {"StatusNotification"}
    await daemon.cli("plug", "1")
    preparing = await csms.wait_for("StatusNotification", lambda p: p["status"] == "Preparing")
    secret = "00112233445566778899aabbccddeeff"
    csms.basic_auth = (csms.identity, bytes.fromhex(secret))
    assert (await csms.call(call.ChangeConfiguration(key="AuthorizationKey", value=secret))).status == "Accepted"
    await asyncio.sleep(1)
    assert csms.connections == 1, "the link was closed with a StatusNotification unanswered"
    await csms.send_raw(json.dumps([3, preparing.unique_id, {}]))
    await csms.wait_connections(2)
    assert csms.refused == 0
    assert daemon.frames().count(preparing.unique_id) == 2  # sent once, and its answer came in
    assert [f.payload["status"] for f in csms.received("StatusNotification")].count("Preparing") == 1


async def test_security_profile_only_goes_up_and_needs_its_prerequisites(csms, make_daemon) -> None:
    """Security Whitepaper: no downgrade; profile 1 needs an AuthorizationKey, 2 needs wss and a CA."""
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    changes = [
        ("SecurityProfile", "1", "Rejected"),  # no AuthorizationKey yet
        ("AuthorizationKey", "00112233445566778899aabbccddeeff", "Accepted"),
        ("SecurityProfile", "1", "Accepted"),
        ("SecurityProfile", "1", "Rejected"),
        ("SecurityProfile", "0", "Rejected"),
        ("SecurityProfile", "2", "Rejected"),  # ws:// and no CA
    ]
    for key, value, status in changes:
        connections = csms.connections
        assert (await csms.call(call.ChangeConfiguration(key=key, value=value))).status == status, (key, value)
        if status == "Accepted":  # A01 / A05.FR.06: the link is renewed with what changed
            await csms.wait_connections(connections + 1)
