"""Session rules against a real CSMS and the `chargepoint run` process: the keys that govern a
running transaction (§9.1 MaxEnergyOnInvalidId, StopTransactionOnEVSideDisconnect,
UnlockConnectorOnEVSideDisconnect, StopTransactionOnInvalidId, ConnectionTimeOut,
LocalPreAuthorize), the durable queue's attempt counting (WEMOB §4.3.22-23), local-list expiry
offline (§3.5.4), WEMOB authorization mode 1, and a CSMS request arriving during Authorize.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from ocpp.v16 import call

from tests.conftest import Daemon, booted
from tests.csms import Csms
from tests.helpers import charging, cli_fails, cli_ok, configure, logged
from tests.test_local_list import entry, send_list
from tests.test_offline import go_offline


async def connector(daemon: Daemon) -> dict[str, Any]:
    return json.loads(await cli_ok(daemon, "status", "--json"))["connectors"][0]


def status_is(status: str, connector_id: int = 1):
    return lambda p: p["connectorId"] == connector_id and p["status"] == status


# §9.1 MaxEnergyOnInvalidId / StopTransactionOnInvalidId ------------------------------------


async def test_max_energy_on_invalid_id_charges_the_budget_then_suspends_evse(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, ev_power_w=36000)  # capped by 32 A x 230 V x 3 = 22.08 kW: ~6 Wh/s
    await booted(csms, daemon)
    await configure(csms, StopTransactionOnInvalidId="false", MaxEnergyOnInvalidId="5", MeterValueSampleInterval="1")
    csms.start_id_tags = {"TAG1": {"status": "Invalid"}}
    mark = len(csms.frames)
    start = (await charging(csms, daemon, until="StartTransaction", timeout=5)).payload
    charging_at = (await csms.wait_for("StatusNotification", status_is("Charging"), after=mark)).at
    suspended = await csms.wait_for("StatusNotification", status_is("SuspendedEVSE"), timeout=5, after=mark)
    assert suspended.at - charging_at > 0.5  # 5 Wh at 22 kW take ~0.8 s: energy went on after the answer
    assert suspended.payload.get("info") == "MaxEnergyOnInvalidId reached"
    await asyncio.sleep(2.2)  # two meter polls: the power seen last has settled to 0
    now = await connector(daemon)
    assert now["power_w"] == 0 and now["transaction_id"] == 1
    # At least the budget, at most the budget plus the overshoot of two 1 s polls at 22 kW.
    assert 5 <= now["energy_wh"] - start["meterStart"] <= 5 + 2 * 6.2 + 1, now
    assert not csms.received("StopTransaction")


async def test_deauthorized_stop_keeps_the_cable_locked_for_its_owner(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)  # WEMOB: StopTransactionOnInvalidId true
    await booted(csms, daemon)
    csms.start_id_tags = {"OWNER": {"status": "Invalid"}}
    mark = len(csms.frames)
    await charging(csms, daemon, "OWNER", until="StartTransaction", timeout=5)
    stop = await csms.wait_for("StopTransaction", after=mark, timeout=5)
    assert stop.payload["reason"] == "DeAuthorized"
    await csms.wait_for("StatusNotification", status_is("Finishing"), after=mark, timeout=5)
    other = await daemon.cli("swipe", "STRANGER")
    assert other.code != 0, other
    assert "cable unlocked" in await cli_ok(daemon, "swipe", "OWNER")
    assert len(csms.received("StopTransaction")) == 1


# §9.1 StopTransactionOnEVSideDisconnect / UnlockConnectorOnEVSideDisconnect ----------------


async def test_stop_transaction_on_ev_side_disconnect_false_suspends_and_resumes(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await configure(csms, StopTransactionOnEVSideDisconnect="false")
    await charging(csms, daemon, until="StartTransaction", timeout=5)
    mark = len(csms.frames)
    await cli_ok(daemon, "unplug", "1")
    suspended = await csms.wait_for("StatusNotification", status_is("SuspendedEV"), after=mark, timeout=5)
    assert suspended.payload.get("info") == "EV side disconnected"
    mark = len(csms.frames)
    await cli_ok(daemon, "plug", "1")
    await cli_ok(daemon, "ev", "1", "charge")
    await csms.wait_for("StatusNotification", status_is("Charging"), after=mark, timeout=5)
    assert not csms.received("StopTransaction")
    assert (await connector(daemon))["transaction_id"] == 1


@pytest.mark.parametrize("unlock", ["true", "false"])
async def test_unlock_connector_on_ev_side_disconnect_decides_the_lock(csms: Csms, make_daemon, unlock) -> None:
    """§9.1: false keeps the cable locked in the socket after the EV side let go, until the
    owner's card (or UnlockConnector) releases it; the transaction ends EVDisconnected either way."""
    daemon = make_daemon(csms, profile="wallbox", model="copper-sb")
    await booted(csms, daemon)
    await configure(csms, UnlockConnectorOnEVSideDisconnect=unlock)
    await charging(csms, daemon, until="StartTransaction", timeout=5)
    assert (await connector(daemon))["locked"] is True
    mark = len(csms.frames)
    await cli_ok(daemon, "unplug", "1")
    stop = await csms.wait_for("StopTransaction", after=mark, timeout=5)
    assert stop.payload["reason"] == "EVDisconnected"
    await csms.wait_for("StatusNotification", status_is("Available"), after=mark, timeout=5)
    assert (await connector(daemon))["locked"] is (unlock == "false")
    if unlock == "false":
        assert "cable unlocked" in await cli_ok(daemon, "swipe", "TAG1")
        assert (await connector(daemon))["locked"] is False


# WEMOB §4.3.22-23: TransactionMessageAttempts / TransactionMessageRetryInterval ------------


async def test_a_timeout_on_a_transaction_message_is_a_failed_attempt(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await configure(csms, MessageTimeout="1", TransactionMessageAttempts="2", TransactionMessageRetryInterval="1")
    csms.ignore = {"StartTransaction"}
    await charging(csms, daemon, until="StartTransaction", timeout=5)
    await csms.wait_for("StartTransaction", timeout=6, after=len(csms.frames))
    at = [f.at for f in csms.received("StartTransaction")]
    assert 1.7 < at[1] - at[0] < 4.0  # MessageTimeout 1 s, then RetryInterval x 1
    await logged(daemon, "StartTransaction DISCARDED after 2 failed attempts", timeout=8)
    await asyncio.sleep(1.0)
    assert len(csms.received("StartTransaction")) == 2


async def test_time_spent_disconnected_uses_no_attempts(make_daemon) -> None:
    daemon, port, first = await go_offline(make_daemon, ev_power_w=11000)
    await configure(first, TransactionMessageAttempts="1", AllowOfflineTxForUnknownId="true",
                    MeterValueSampleInterval="1")
    await charging(first, daemon, "ROAMER", until="StartTransaction", timeout=5)
    first.ignore = {"MeterValues"}
    in_flight = (await first.wait_for("MeterValues", timeout=5)).payload
    await first.stop()  # the CSMS goes away with a MeterValues unanswered
    await asyncio.sleep(2.0)
    assert "stopped" in await cli_ok(daemon, "swipe", "ROAMER")
    await cli_ok(daemon, "unplug", "1")
    await asyncio.sleep(3.0)  # offline, reconnecting and failing, with messages queued
    async with Csms(port=port) as second:
        stop = await second.wait_for("StopTransaction", timeout=20)
        assert stop.payload["transactionId"] == 1 and stop.payload["reason"] == "Local"
        samples = second.calls("MeterValues")
        assert len(samples) >= 2 and samples[0]["meterValue"] == in_flight["meterValue"]
        assert all(p["transactionId"] == 1 for p in samples)
        assert len(second.received("StopTransaction")) == 1
    assert "DISCARDED" not in daemon.logs()


# ConnectionTimeOut with identification first (errata 3.21) ---------------------------------


async def test_identification_first_connection_timeout_returns_to_available(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await configure(csms, ConnectionTimeOut="2")
    mark = len(csms.frames)
    assert "plug in the cable" in await cli_ok(daemon, "swipe", "TAG1")
    preparing = await csms.wait_for("StatusNotification", status_is("Preparing"), after=mark, timeout=5)
    available = await csms.wait_for("StatusNotification", status_is("Available"), after=mark, timeout=5)
    assert 1.5 < available.at - preparing.at < 3.5
    mark = len(csms.frames)
    await cli_ok(daemon, "plug", "1")
    await csms.wait_for("StatusNotification", status_is("Preparing"), after=mark, timeout=5)
    await asyncio.sleep(0.7)
    assert not csms.received("StartTransaction")
    assert (await connector(daemon))["id_tag"] is None


# §3.5 Local authorization on the wire -------------------------------------------------------


@pytest.mark.parametrize("pre_authorize", ["true", "false"])
async def test_local_pre_authorize_decides_whether_authorize_precedes_start(
    csms: Csms, make_daemon, pre_authorize: str
) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await configure(csms, LocalAuthListEnabled="true", LocalPreAuthorize=pre_authorize)
    assert await send_list(csms, 1, "Full", [entry("LISTED")]) == "Accepted"
    mark = len(csms.frames)
    assert (await charging(csms, daemon, "LISTED", until="StartTransaction", timeout=5)).payload["idTag"] == "LISTED"
    actions = [f.action for f in csms.frames[mark:]
               if f.direction == "in" and f.action in ("Authorize", "StartTransaction")]
    assert actions == (["StartTransaction"] if pre_authorize == "true" else ["Authorize", "StartTransaction"])


async def test_an_expired_local_list_entry_is_refused_offline(make_daemon) -> None:
    daemon, _, first = await go_offline(make_daemon)
    await configure(first, LocalAuthListEnabled="true", LocalAuthorizeOffline="true", AllowOfflineTxForUnknownId="true")
    assert await send_list(first, 1, "Full", [entry("OLD", expiryDate="2020-01-01T00:00:00Z")]) == "Accepted"
    await first.stop()
    await cli_ok(daemon, "plug", "1")
    out = await cli_fails(daemon, "swipe", "OLD")
    assert "OLD refused: Expired (expired), says the local list" in out, out
    assert (await connector(daemon))["transaction_id"] is None
    assert "started" in await cli_ok(daemon, "swipe", "NEWBIE")  # unknown ids are allowed: expiry refused OLD


async def test_wemob_mode_1_authorizes_by_the_local_list_only_even_online(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, authorization_mode=1)
    await booted(csms, daemon)
    assert await send_list(csms, 1, "Full", [entry("LISTED")]) == "Accepted"
    await cli_ok(daemon, "plug", "1")
    await cli_ok(daemon, "ev", "1", "charge")
    assert "UNLISTED refused: Invalid (unknown or not valid), says the local list" in await cli_fails(daemon, "swipe", "UNLISTED")
    assert "started" in await cli_ok(daemon, "swipe", "LISTED")
    start = await csms.wait_for("StartTransaction", timeout=5)
    assert start.payload["idTag"] == "LISTED"
    assert not csms.received("Authorize")


# A CSMS request during Authorize must not wait for it -----------------------------------------


async def test_unlock_connector_is_answered_while_a_card_waits_for_authorize(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await configure(csms, MessageTimeout="3")
    csms.ignore = {"Authorize"}
    await cli_ok(daemon, "plug", "1")
    mark = len(csms.frames)
    swipe = asyncio.create_task(daemon.cli("swipe", "SLOW"))
    await csms.wait_for("Authorize", after=mark, timeout=5)
    await asyncio.sleep(0.5)
    sent = time.monotonic()
    answer = await csms.call(call.UnlockConnector(connector_id=1), timeout=5)
    assert answer.status == "Unlocked"
    assert time.monotonic() - sent < 2.0  # a lock held across the Authorize would last until its 3 s timeout, 2.5 s from here
    result = await swipe
    assert result.code == 1 and "SLOW refused: Invalid (offline" in result.err, result  # unanswered: offline rules


async def test_connection_timeout_counts_again_after_a_fault_clears_into_preparing(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await configure(csms, ConnectionTimeOut="2")
    await cli_ok(daemon, "fault", "1", "GroundFailure")
    await cli_ok(daemon, "plug", "1")
    mark = len(csms.frames)
    await cli_ok(daemon, "fault", "1", "--clear")
    await csms.wait_for("StatusNotification", status_is("Preparing"), after=mark, timeout=5)
    await csms.wait_for("StatusNotification", status_is("Available"), after=mark, timeout=6)
    assert not csms.received("StartTransaction")
