"""Transactions through the durable queue (spec §4.10, errata 3.18; WEMOB §4.3.22-23) and power loss."""

from __future__ import annotations

import asyncio
import json

from tests.conftest import Daemon, booted
from tests.csms import Csms
from tests.helpers import cli_ok, configure


async def queued(daemon: Daemon) -> int:
    return json.loads(await cli_ok(daemon, "status", "--json"))["queued"]


async def test_a_whole_transaction_offline_is_delivered_in_order_with_its_real_id(make_daemon) -> None:
    first = Csms()
    await first.__aenter__()
    port = first.port
    daemon = make_daemon(first, ev_power_w=11000)
    await booted(first, daemon)
    await configure(first, AllowOfflineTxForUnknownId="true", MeterValueSampleInterval="1")
    await first.stop()
    await cli_ok(daemon, "plug", "1")
    await cli_ok(daemon, "ev", "1", "charge")
    assert "started" in await cli_ok(daemon, "swipe", "OFFLINE1")
    await asyncio.sleep(2.5)
    assert "stopped" in await cli_ok(daemon, "swipe", "OFFLINE1")
    await cli_ok(daemon, "unplug", "1")
    assert await queued(daemon) >= 4  # Start, two or more MeterValues, Stop
    async with Csms(port=port) as second:
        second.next_transaction_id = 77
        stop = await second.wait_for("StopTransaction", timeout=20)
        actions = [f.action for f in second.frames if f.direction == "in" and f.action in (
            "StartTransaction", "MeterValues", "StopTransaction")]
        assert actions[0] == "StartTransaction" and actions[-1] == "StopTransaction"
        assert set(actions[1:-1]) == {"MeterValues"} and len(actions) >= 4
        assert all(p["transactionId"] == 77 for p in second.calls("MeterValues"))
        assert stop.payload["transactionId"] == 77 and stop.payload["reason"] == "Local"
        stamps = [p["meterValue"][0]["timestamp"] for p in second.calls("MeterValues")]
        start = second.calls("StartTransaction")[0]
        assert start["timestamp"] <= stamps[0] and stamps == sorted(stamps) and stamps[-1] <= stop.payload["timestamp"]
        energy = [float(p["meterValue"][0]["sampledValue"][0]["value"]) for p in second.calls("MeterValues")]
        assert start["meterStart"] <= energy[0] <= energy[-1] <= stop.payload["meterStop"]
        for _ in range(50):
            if await queued(daemon) == 0:
                break
            await asyncio.sleep(0.1)
        assert await queued(daemon) == 0


async def test_failed_attempts_back_off_then_give_up_and_later_messages_carry_minus_one(make_daemon) -> None:
    async with Csms() as csms:
        daemon = make_daemon(csms)
        await booted(csms, daemon)
        await configure(csms, TransactionMessageAttempts="3", TransactionMessageRetryInterval="1")
        csms.errors = {"StartTransaction": "InternalError"}
        await cli_ok(daemon, "plug", "1")
        await cli_ok(daemon, "swipe", "TAG1")
        await csms.wait_for("StartTransaction", timeout=5)
        for _ in range(2):
            await csms.wait_for("StartTransaction", timeout=6, after=len(csms.frames))
        at = [f.at for f in csms.received("StartTransaction")]
        assert len(at) == 3
        assert 0.9 < at[1] - at[0] < 2.5  # RetryInterval x 1
        assert 1.9 < at[2] - at[1] < 3.5  # RetryInterval x 2
        await cli_ok(daemon, "swipe", "TAG1")
        stop = await csms.wait_for("StopTransaction", timeout=5)
        assert stop.payload["transactionId"] == -1  # errata 3.18
        assert len(csms.received("StartTransaction")) == 3
        assert "StartTransaction DISCARDED after 3 failed attempts" in daemon.logs()


async def test_power_loss_stops_the_transaction_with_the_last_stored_reading(csms, make_daemon) -> None:
    daemon = make_daemon(csms, ev_power_w=22000)
    await booted(csms, daemon)
    await configure(csms, MeterValueSampleInterval="1")
    await cli_ok(daemon, "plug", "1")
    await cli_ok(daemon, "ev", "1", "charge")
    await cli_ok(daemon, "swipe", "TAG1")
    await csms.wait_for("MeterValues", timeout=5)
    await csms.wait_for("MeterValues", timeout=5, after=len(csms.frames))
    daemon.kill()
    last = csms.calls("MeterValues")[-1]
    mark = len(csms.frames)
    daemon.start()
    stop = await csms.wait_for("StopTransaction", timeout=20, after=mark)
    assert stop.payload["reason"] == "PowerLoss"
    assert stop.payload["transactionId"] == 1  # the id the CSMS gave at the start
    assert stop.payload["meterStop"] >= int(float(last["meterValue"][0]["sampledValue"][0]["value"]))
    assert stop.payload["timestamp"] >= last["meterValue"][0]["timestamp"]
    assert len(csms.received("StopTransaction")) == 1


async def test_invalid_start_answer_stops_as_deauthorized_when_configured(csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    csms.start_id_tags = {"TAG1": {"status": "Invalid"}}
    await cli_ok(daemon, "plug", "1")
    await cli_ok(daemon, "ev", "1", "charge")
    await cli_ok(daemon, "swipe", "TAG1")
    stop = await csms.wait_for("StopTransaction", timeout=5)
    assert stop.payload["reason"] == "DeAuthorized" and stop.payload["transactionId"] == 1
    await csms.wait_for("StatusNotification", lambda p: p["status"] == "Finishing", timeout=5)


async def test_invalid_start_answer_only_suspends_when_stop_on_invalid_id_is_false(csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await configure(csms, StopTransactionOnInvalidId="false")
    csms.start_id_tags = {"TAG1": {"status": "Blocked"}}
    await cli_ok(daemon, "plug", "1")
    await cli_ok(daemon, "ev", "1", "charge")
    await cli_ok(daemon, "swipe", "TAG1")
    await csms.wait_for("StatusNotification", lambda p: p["status"] == "SuspendedEVSE", timeout=5)
    await asyncio.sleep(1.5)  # status shows the meter's next poll
    assert not csms.received("StopTransaction")
    status = json.loads(await cli_ok(daemon, "status", "--json"))
    assert status["connectors"][0]["power_w"] == 0
