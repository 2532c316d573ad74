"""WEMOB AutoChargeEnabled (manual §4.4.2): the EVCCID an EV gives in its DIN 70121 / ISO
15118 SessionSetupReq becomes the idTag "VID:<EVCCID>", in each commissioning mode, online
and offline, and is ignored with the key false."""

from __future__ import annotations

import socket

import pytest
from ocpp.v16 import call

from tests.conftest import Daemon, booted, eventually
from tests.csms import Csms

EVCCID = "0a1b2c3d4e5f"
VID = "VID:0A1B2C3D4E5F"


async def auto_charge_on(csms: Csms) -> None:
    assert (await csms.call(call.ChangeConfiguration(key="AutoChargeEnabled", value="true"))).status == "Accepted"


async def plug_ev(daemon: Daemon) -> None:
    plugged = await daemon.cli("plug", "1", "--evccid", EVCCID)
    assert plugged.code == 0 and "EVCCID 0A1B2C3D4E5F" in plugged.out, plugged


async def test_mode_2_authorizes_the_vid_and_charges(csms, make_daemon) -> None:
    daemon = make_daemon(csms, authorization_mode=2)
    await booted(csms, daemon)
    await auto_charge_on(csms)
    await plug_ev(daemon)
    assert (await csms.wait_for("Authorize")).payload == {"idTag": VID}
    assert (await csms.wait_for("StartTransaction")).payload["idTag"] == VID


async def test_mode_2_a_refused_vid_waits_for_a_card(csms, make_daemon) -> None:
    csms.id_tags[VID] = {"status": "Invalid"}
    daemon = make_daemon(csms, authorization_mode=2)
    await booted(csms, daemon)
    await auto_charge_on(csms)
    await plug_ev(daemon)
    await csms.wait_for("Authorize")

    async def asking() -> bool:
        connector = (await daemon.status())["connectors"][0]
        return connector["status"] == "Preparing" and connector["asking"] == f"{VID} Invalid: present a card"

    await eventually(asking, 5, "the station asking for a card")
    assert f"waiting: {VID} Invalid: present a card" in (await daemon.cli("status")).out
    assert not csms.received("StartTransaction")
    assert (await daemon.cli("swipe", "CARD1")).code == 0
    assert (await csms.wait_for("StartTransaction")).payload["idTag"] == "CARD1"
    assert (await daemon.status())["connectors"][0]["asking"] is None


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"ws://127.0.0.1:{probe.getsockname()[1]}/ocpp"


@pytest.mark.parametrize(("unknown_allowed", "charges"), [(True, True), (False, False)])
async def test_mode_2_offline_the_vid_follows_allow_offline_tx_for_unknown_id(
    make_daemon, unknown_allowed: bool, charges: bool
) -> None:
    daemon = make_daemon(None, csms_url=_closed_port(), authorization_mode=2)
    await daemon.wait_socket()
    for key, value in (("AutoChargeEnabled", "true"), ("AllowOfflineTxForUnknownId", str(unknown_allowed).lower())):
        assert (await daemon.cli("config", "set", key, value)).code == 0
    await plug_ev(daemon)

    async def decided() -> bool:
        connector = (await daemon.status())["connectors"][0]
        return connector["id_tag"] == VID if charges else connector["asking"] == f"{VID} Invalid: present a card"

    await eventually(decided, 10, "the offline decision on the VID idTag")
    assert ((await daemon.status())["connectors"][0]["status"] != "Preparing") is charges


async def test_mode_0_names_the_session_by_the_vid_without_authorize(csms, make_daemon) -> None:
    daemon = make_daemon(csms, authorization_mode=0)
    await booted(csms, daemon)
    await auto_charge_on(csms)
    await plug_ev(daemon)
    assert (await csms.wait_for("StartTransaction")).payload["idTag"] == VID
    assert not csms.received("Authorize")


async def test_mode_0_offline_still_names_the_session_by_the_vid(make_daemon) -> None:
    daemon = make_daemon(None, csms_url=_closed_port(), authorization_mode=0)
    await daemon.wait_socket()
    assert (await daemon.cli("config", "set", "AutoChargeEnabled", "true")).code == 0
    await plug_ev(daemon)
    await eventually(lambda: _charging_for(daemon, VID), 10, "an offline session under the VID idTag")


async def _charging_for(daemon: Daemon, id_tag: str) -> bool:
    connector = (await daemon.status())["connectors"][0]
    return connector["id_tag"] == id_tag and connector["status"] != "Preparing"


@pytest.mark.parametrize(("mode", "key"), [(1, "true"), (0, "false")])
async def test_mode_1_and_the_key_false_ignore_the_evccid(csms, make_daemon, mode: int, key: str) -> None:
    daemon = make_daemon(csms, authorization_mode=mode)
    await booted(csms, daemon)
    assert (await csms.call(call.ChangeConfiguration(key="AutoChargeEnabled", value=key))).status == "Accepted"
    await plug_ev(daemon)
    if mode == 0:  # free vend, under its own idTag
        assert (await csms.wait_for("StartTransaction")).payload["idTag"] == "FREEVEND"
    else:  # Local List only: the EV is not an entry of it, so the station waits for a card
        await csms.wait_for("StatusNotification", lambda p: p["status"] == "Preparing")
        connector = (await daemon.status())["connectors"][0]
        assert connector["id_tag"] is None and connector["asking"] is None
        assert not csms.received("Authorize") and not csms.received("StartTransaction")


async def test_an_evccid_that_is_not_hex_is_refused(csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    refused = await daemon.cli("plug", "1", "--evccid", "not-hex")
    assert refused.code != 0 and "--evccid must be 1 to 8 bytes in hexadecimal" in refused.err
    assert (await daemon.status())["connectors"][0]["status"] == "Available"
