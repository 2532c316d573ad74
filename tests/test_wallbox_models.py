"""The Wallbox models apart (OCPP activation guide): the Pulsar Plus family has no RFID reader
and starts from the CPO's app (RemoteStartTransaction) or freely; the Commander 2 adds a PIN
pad; the Copper SB keeps the reader. WEMOB's messages mean nothing to any of them."""

from __future__ import annotations

import json

import pytest
from ocpp.v16 import call

from tests.conftest import booted


@pytest.mark.parametrize("model", ["pulsar-plus", "pulsar-plus-na"])
async def test_a_model_without_a_reader_refuses_a_card_and_starts_from_the_app(csms, make_daemon, model: str) -> None:
    daemon = make_daemon(csms, profile="wallbox", model=model)
    await booted(csms, daemon)
    refused = await daemon.cli("swipe", "--uid", "04:A2:1B:3C")
    assert refused.code != 0 and refused.err.strip() == (
        f"chargepoint: {model} has no RFID reader: start with RemoteStartTransaction (the CPO's app),"
        " or set AuthEnabled false for free charging"
    )
    assert (await daemon.cli("pin", "1234")).code != 0
    assert not csms.received("Authorize")
    assert (await csms.call(call.RemoteStartTransaction(id_tag="APP-USER", connector_id=1))).status == "Accepted"
    await daemon.cli("plug", "1")
    assert (await csms.wait_for("StartTransaction")).payload["idTag"] == "APP-USER"


async def test_the_commander_2_takes_a_pin_as_the_id_tag_pin_and_keeps_its_reader(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wallbox", model="commander-2")
    await booted(csms, daemon)
    bad = await daemon.cli("pin", "12a4")
    assert bad.code != 0 and "a PIN is 4 to 8 digits" in bad.err
    typed = await daemon.cli("pin", "4711")
    assert typed.code == 0, typed
    assert (await csms.wait_for("Authorize")).payload == {"idTag": "PIN:4711"}
    await daemon.cli("plug", "1")
    assert (await csms.wait_for("StartTransaction")).payload["idTag"] == "PIN:4711"
    other = await daemon.cli("swipe", "--uid", "04:A2:1B:3C")  # the reader is there, the card not the owner
    assert other.code != 0 and "charging for another idTag" in other.err
    assert (await daemon.cli("pin", "4711")).code == 0  # the same PIN ends the session
    assert (await csms.wait_for("StopTransaction")).payload["idTag"] == "PIN:4711"


async def test_the_copper_sb_has_no_pin_pad_and_no_wemob_messages(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wallbox", model="copper-sb")
    await booted(csms, daemon)
    refused = await daemon.cli("pin", "4711")
    assert refused.code != 0 and "copper-sb has no PIN pad" in refused.err
    schedule = json.dumps([{"startPeriod": 0, "enable": 1}])
    for vendor, status in (("Wall Box Chargers", "UnknownMessageId"), ("WEG", "UnknownVendorId")):
        answer = await csms.call(call.DataTransfer(vendor_id=vendor, message_id="SilentModeSchedule", data=schedule))
        assert answer.status == status
    answer = await csms.call(call.GetConfiguration(key=["SilentMode", "AutoChargeEnabled"]))
    assert sorted(answer.unknown_key) == ["AutoChargeEnabled", "SilentMode"]
    menu = await daemon.cli("hmi", "language", "en")
    assert menu.code != 0 and "has no configuration menu" in menu.err
    status = await daemon.status()
    assert "display" not in status and "silent_mode" not in status
