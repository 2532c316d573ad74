"""RemoteStart/StopTransaction, UnlockConnector and ConnectionTimeOut against a real CSMS.

Named after the OCPP 1.6 compliance cases they mirror where one exists (Remote Start
Charging Session - cable plugged in first / remote start first / time out / rejected;
Remote Stop Charging Session and its Rejected case; Unlock Connector with and without a
charging session, fixed cable, unlock failure, unknown connector; Regular Charging Session -
ConnectionTimeOut).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ocpp.v16 import call

from tests.conftest import booted
from tests.csms import CALLRESULT, Csms
from tests.helpers import charging, cli_ok, configure, reaches, transaction_id

TX_PROFILE: dict[str, Any] = {
    "chargingProfileId": 1,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]},
}


async def remote_start(csms: Csms, id_tag: str, connector_id: int | None = None, **extra: Any) -> str:
    return (await csms.call(call.RemoteStartTransaction(id_tag=id_tag, connector_id=connector_id, **extra))).status


# RemoteStartTransaction (§5.11) -----------------------------------------------------------


async def test_remote_start_charging_session_cable_plugged_in_first(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await cli_ok(daemon, "plug", "1")
    await reaches(csms, 1, "Preparing")
    mark = len(csms.frames)
    assert await remote_start(csms, "REMOTE1", 1) == "Accepted"
    start = (await csms.wait_for("StartTransaction", after=mark)).payload
    assert (start["connectorId"], start["idTag"]) == (1, "REMOTE1")
    assert csms.calls("Authorize") == []  # AuthorizeRemoteTxRequests is false (WEMOB: R, false)
    await reaches(csms, 1, "SuspendedEV", after=mark)
    await cli_ok(daemon, "ev", "1", "charge")
    await reaches(csms, 1, "Charging", after=mark)


async def test_remote_start_charging_session_remote_start_first(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    mark = len(csms.frames)
    assert await remote_start(csms, "REMOTE1", 1) == "Accepted"
    await reaches(csms, 1, "Preparing", after=mark)
    assert csms.calls("StartTransaction") == []
    await cli_ok(daemon, "plug", "1")
    start = (await csms.wait_for("StartTransaction", after=mark)).payload
    assert (start["connectorId"], start["idTag"]) == (1, "REMOTE1")


async def test_remote_start_charging_session_time_out(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await configure(csms, ConnectionTimeOut="2")
    mark = len(csms.frames)
    assert await remote_start(csms, "REMOTE1", 1) == "Accepted"
    preparing = await reaches(csms, 1, "Preparing", after=mark)
    available = await reaches(csms, 1, "Available", after=mark, timeout=6)
    assert 1.5 < available.at - preparing.at < 4.5  # ConnectionTimeOut counted from Preparing
    assert csms.calls("StartTransaction") == []
    mark = len(csms.frames)
    await cli_ok(daemon, "plug", "1")  # the idTag is gone: a cable alone starts nothing
    await reaches(csms, 1, "Preparing", after=mark)
    await asyncio.sleep(0.5)
    assert csms.calls("StartTransaction") == []


async def test_remote_start_transaction_connector_id_0_is_rejected(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert (await csms.call_raw("RemoteStartTransaction", {"idTag": "REMOTE1", "connectorId": 0}))[2] == {
        "status": "Rejected"
    }


async def test_remote_start_on_an_unknown_connector_is_rejected(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert await remote_start(csms, "REMOTE1", 5) == "Rejected"
    await asyncio.sleep(0.3)
    assert csms.calls("StartTransaction") == []


async def test_remote_start_charging_session_rejected_on_a_busy_connector(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await charging(csms, daemon, boot=True)
    await transaction_id(daemon)  # the StartTransaction answer has reached the connector
    mark = len(csms.frames)
    assert await remote_start(csms, "REMOTE2", 1) == "Rejected"
    assert await remote_start(csms, "REMOTE2") == "Rejected"  # no connector free at all
    await asyncio.sleep(0.3)
    assert [f for f in csms.frames[mark:] if f.action in ("StartTransaction", "StopTransaction")
            and f.direction == "in"] == []


async def test_remote_start_without_connector_id_picks_a_free_connector(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, model="wemob-parking-ac22")
    await booted(csms, daemon, connectors=2)
    await cli_ok(daemon, "plug", "2")  # a cable already in wins over an empty socket
    await reaches(csms, 2, "Preparing")
    mark = len(csms.frames)
    assert await remote_start(csms, "REMOTE1") == "Accepted"
    start = (await csms.wait_for("StartTransaction", after=mark)).payload
    assert (start["connectorId"], start["idTag"]) == (2, "REMOTE1")


async def test_remote_start_with_a_profile_that_is_not_tx_profile_is_rejected(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await cli_ok(daemon, "plug", "1")
    profile = {**TX_PROFILE, "chargingProfilePurpose": "TxDefaultProfile"}
    request = {"idTag": "REMOTE1", "connectorId": 1, "chargingProfile": profile}
    answer = await csms.call_raw("RemoteStartTransaction", request)
    assert answer[0] == CALLRESULT and answer[2] == {"status": "Rejected"}
    await asyncio.sleep(0.3)
    assert csms.calls("StartTransaction") == []


async def test_remote_start_with_a_tx_profile_is_accepted(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await cli_ok(daemon, "plug", "1")
    mark = len(csms.frames)
    request = {"idTag": "REMOTE1", "connectorId": 1, "chargingProfile": TX_PROFILE}
    answer = await csms.call_raw("RemoteStartTransaction", request)
    assert answer[0] == CALLRESULT and answer[2] == {"status": "Accepted"}
    start = (await csms.wait_for("StartTransaction", after=mark)).payload
    assert start["idTag"] == "REMOTE1"


async def test_authorize_remote_tx_requests_asks_the_csms_before_starting(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wallbox")
    await booted(csms, daemon)
    await configure(csms, AuthorizeRemoteTxRequests="true")
    await cli_ok(daemon, "plug", "1")
    mark = len(csms.frames)
    assert await remote_start(csms, "REMOTE1", 1) == "Accepted"
    start = await csms.wait_for("StartTransaction", after=mark)
    authorize = await csms.wait_for("Authorize", after=mark)
    assert authorize.payload == {"idTag": "REMOTE1"} and authorize.at < start.at
    assert start.payload["idTag"] == "REMOTE1"


async def test_authorize_remote_tx_requests_with_an_invalid_id_starts_nothing(csms: Csms, make_daemon) -> None:
    csms.id_tags = {"BAD": {"status": "Invalid"}}
    daemon = make_daemon(csms, profile="wallbox")
    await booted(csms, daemon)
    await configure(csms, AuthorizeRemoteTxRequests="true")
    await cli_ok(daemon, "plug", "1")
    mark = len(csms.frames)
    assert await remote_start(csms, "BAD", 1) == "Accepted"  # the verdict comes after the answer
    await csms.wait_for("Authorize", lambda p: p == {"idTag": "BAD"}, after=mark)
    await asyncio.sleep(1.0)
    assert csms.calls("StartTransaction") == []
    report = json.loads(await cli_ok(daemon, "status", "--json"))
    assert report["connectors"][0]["transaction_id"] is None and report["connectors"][0]["id_tag"] is None


async def test_remote_start_is_rejected_while_the_boot_is_pending(make_daemon) -> None:
    async with Csms(boot_status="Pending", boot_interval=60) as csms:
        daemon = make_daemon(csms)
        await csms.wait_for("BootNotification", timeout=20)
        await daemon.wait_socket()
        for _ in range(50):  # until the station has taken the Pending answer
            if json.loads(await cli_ok(daemon, "status", "--json"))["registration"] == "Pending":
                break
            await asyncio.sleep(0.1)
        assert await remote_start(csms, "REMOTE1", 1) == "Rejected"
        await asyncio.sleep(0.3)
        assert csms.calls("StartTransaction") == []


# RemoteStopTransaction (§5.12) ------------------------------------------------------------


async def test_remote_stop_charging_session(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    csms.next_transaction_id = 31
    await charging(csms, daemon, boot=True)
    assert await transaction_id(daemon) == 31
    mark = len(csms.frames)
    assert (await csms.call(call.RemoteStopTransaction(transaction_id=31))).status == "Accepted"
    stop = (await csms.wait_for("StopTransaction", after=mark)).payload
    assert (stop["transactionId"], stop["reason"]) == (31, "Remote")
    await reaches(csms, 1, "Finishing", after=mark)


async def test_remote_stop_transaction_rejected_for_an_unknown_transaction_id(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await charging(csms, daemon, boot=True)
    running = await transaction_id(daemon)
    mark = len(csms.frames)
    assert (await csms.call(call.RemoteStopTransaction(transaction_id=running + 100))).status == "Rejected"
    await asyncio.sleep(0.3)
    assert [f for f in csms.frames[mark:] if f.direction == "in" and f.action == "StopTransaction"] == []


# UnlockConnector (§5.18) ------------------------------------------------------------------


async def test_unlock_connector_no_charging_session_running_not_fixed_cable(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert (await csms.call(call.UnlockConnector(connector_id=1))).status == "Unlocked"
    await asyncio.sleep(0.3)
    assert csms.calls("StopTransaction") == []


async def test_unlock_connector_with_charging_session(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await charging(csms, daemon, boot=True)
    running = await transaction_id(daemon)
    mark = len(csms.frames)
    assert (await csms.call(call.UnlockConnector(connector_id=1))).status == "Unlocked"
    stop = (await csms.wait_for("StopTransaction", after=mark)).payload
    assert (stop["transactionId"], stop["reason"]) == (running, "UnlockCommand")


async def test_unlock_connector_unlock_failure(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await cli_ok(daemon, "lock", "1", "jam")
    mark = len(csms.frames)
    assert (await csms.call(call.UnlockConnector(connector_id=1))).status == "UnlockFailed"
    await reaches(csms, 1, "Faulted", "ConnectorLockFailure", after=mark)


async def test_unlock_connector_no_charging_session_running_fixed_cable(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wallbox", model="pulsar-plus")
    await booted(csms, daemon)
    assert (await csms.call(call.UnlockConnector(connector_id=1))).status == "NotSupported"


async def test_unlock_connector_unknown_connector(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert (await csms.call(call.UnlockConnector(connector_id=5))).status == "NotSupported"


# ConnectionTimeOut with plug-in first (errata 3.20, 3.21) ---------------------------------


async def test_plug_in_first_connection_timeout_returns_to_available(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await configure(csms, ConnectionTimeOut="2")
    mark = len(csms.frames)
    await cli_ok(daemon, "plug", "1")
    await reaches(csms, 1, "Preparing", after=mark)
    await reaches(csms, 1, "Available", after=mark, timeout=6)
    assert csms.calls("StartTransaction") == []


async def test_plug_in_first_connection_timeout_on_a_shared_reader_goes_to_finishing(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, model="wemob-parking-ac22")
    await booted(csms, daemon, connectors=2)
    await configure(csms, ConnectionTimeOut="2")
    mark = len(csms.frames)
    await cli_ok(daemon, "plug", "1")
    await reaches(csms, 1, "Preparing", after=mark)
    await reaches(csms, 1, "Finishing", after=mark, timeout=6)  # errata 3.20 B6
    assert csms.calls("StartTransaction") == []
    assert [p["status"] for p in csms.calls("StatusNotification") if p["connectorId"] == 2] == ["Available"]


# Stop by another idTag of the same group (§3.10) ------------------------------------------


async def test_another_id_tag_with_the_same_parent_stops_the_transaction(csms: Csms, make_daemon) -> None:
    csms.id_tags = {
        "A": {"status": "Accepted", "parentIdTag": "GROUP"},
        "B": {"status": "Accepted", "parentIdTag": "GROUP"},
        "C": {"status": "Accepted", "parentIdTag": "OTHER"},
    }
    daemon = make_daemon(csms)
    await charging(csms, daemon, "A", boot=True)
    running = await transaction_id(daemon)
    mark = len(csms.frames)
    refused = await daemon.cli("swipe", "C", "--connector", "1")
    assert refused.code != 0, refused
    await asyncio.sleep(0.3)
    assert [f for f in csms.frames[mark:] if f.direction == "in" and f.action == "StopTransaction"] == []
    await cli_ok(daemon, "swipe", "B", "--connector", "1")
    stop = (await csms.wait_for("StopTransaction", after=mark)).payload
    assert (stop["transactionId"], stop["reason"], stop["idTag"]) == (running, "Local", "B")


async def test_a_group_member_stops_at_the_reader_without_naming_the_connector(csms: Csms, make_daemon) -> None:
    csms.id_tags = {
        "A": {"status": "Accepted", "parentIdTag": "GROUP"},
        "B": {"status": "Accepted", "parentIdTag": "GROUP"},
    }
    daemon = make_daemon(csms)
    await charging(csms, daemon, "A", boot=True)
    await transaction_id(daemon)  # the StartTransaction answer has reached the connector
    mark = len(csms.frames)
    await cli_ok(daemon, "swipe", "B")
    stop = (await csms.wait_for("StopTransaction", after=mark, timeout=3)).payload
    assert stop["idTag"] == "B"
