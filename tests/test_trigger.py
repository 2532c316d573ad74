"""TriggerMessage (§5.17): Wallbox serves Remote Trigger; WEMOB does not."""

from __future__ import annotations

import pytest
from ocpp.v16 import call

from tests.conftest import booted
from tests.helpers import cli_ok


@pytest.mark.parametrize(
    ("message", "action"),
    [
        ("Heartbeat", "Heartbeat"),
        ("BootNotification", "BootNotification"),
        ("FirmwareStatusNotification", "FirmwareStatusNotification"),
        ("DiagnosticsStatusNotification", "DiagnosticsStatusNotification"),
    ],
)
async def test_triggered_station_messages_follow_the_answer(csms, make_daemon, message, action) -> None:
    daemon = make_daemon(csms, profile="wallbox")
    await booted(csms, daemon)
    mark = len(csms.frames)
    assert (await csms.call(call.TriggerMessage(requested_message=message))).status == "Accepted"
    frame = await csms.wait_for(action, timeout=5, after=mark)
    if action.endswith("StatusNotification"):
        assert frame.payload["status"] == "Idle"


async def test_triggered_status_and_meter_values_per_connector(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wallbox", ev_power_w=7000)
    await booted(csms, daemon)
    for args in (("plug", "1"), ("ev", "1", "charge"), ("swipe", "TAG1")):
        await cli_ok(daemon, *args)
    await csms.wait_for("StartTransaction", timeout=5)
    mark = len(csms.frames)
    answer = await csms.call(call.TriggerMessage(requested_message="StatusNotification", connector_id=1))
    assert answer.status == "Accepted"
    status = await csms.wait_for("StatusNotification", timeout=5, after=mark)
    assert (status.payload["connectorId"], status.payload["status"]) == (1, "Charging")
    mark = len(csms.frames)
    assert (await csms.call(call.TriggerMessage(requested_message="MeterValues", connector_id=1))).status == "Accepted"
    values = await csms.wait_for("MeterValues", timeout=5, after=mark)
    sampled = values.payload["meterValue"][0]["sampledValue"]
    assert {v["context"] for v in sampled} == {"Trigger"} and values.payload["transactionId"] == 1
    assert (await csms.call(call.TriggerMessage(requested_message="StatusNotification", connector_id=9))).status == "Rejected"


async def test_data_transfer_says_what_is_unknown(csms, make_daemon) -> None:
    """§5.6: no vendor extension yet; the answer names which part is unknown."""
    daemon = make_daemon(csms, profile="wemob")
    await booted(csms, daemon)
    assert (await csms.call(call.DataTransfer(vendor_id="Acme"))).status == "UnknownVendorId"
    assert (await csms.call(call.DataTransfer(vendor_id="WEG", message_id="Nope"))).status == "UnknownMessageId"
