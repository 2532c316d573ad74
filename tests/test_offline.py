"""Offline and commissioning behaviour: WEMOB §4.3-4.4 keys, free vend, brown-out (spec §3.5.4)."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.conftest import Daemon, booted
from tests.csms import Csms
from tests.helpers import charging, cli_ok, configure


async def go_offline(make_daemon, **settings) -> tuple[Daemon, int, Csms]:
    """A booted station whose CSMS has gone away; returns the port to bring one back on."""
    first = Csms()
    await first.__aenter__()
    port = first.port
    daemon = make_daemon(first, **settings)
    await booted(first, daemon)
    return daemon, port, first


async def charge_then_lose_power(csms: Csms, daemon: Daemon) -> int:
    """TAG1 charging, then SIGKILL and a restart; returns the frame index of the restart."""
    await charging(csms, daemon, until="StartTransaction", timeout=5)
    daemon.kill()
    mark = len(csms.frames)
    daemon.start()
    return mark


async def test_brown_out_resumes_for_the_same_id_tag_when_allowed(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wemob")
    await booted(csms, daemon)
    await configure(csms, AllowChargeAfterBrownOut="true")
    mark = await charge_then_lose_power(csms, daemon)
    stop = await csms.wait_for("StopTransaction", timeout=20, after=mark)
    assert stop.payload["reason"] == "PowerLoss"
    restart = await csms.wait_for("StartTransaction", timeout=10, after=mark)
    assert restart.payload["idTag"] == "TAG1"
    assert not [f for f in csms.received("Authorize") if csms.frames.index(f) > mark]


async def test_brown_out_asks_for_identification_again_by_default(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wemob")
    await booted(csms, daemon)
    mark = await charge_then_lose_power(csms, daemon)
    await csms.wait_for("StopTransaction", lambda p: p["reason"] == "PowerLoss", timeout=20, after=mark)
    await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1 and p["status"] == "Preparing",
                        timeout=10, after=mark)
    await asyncio.sleep(0.5)
    assert len(csms.received("StartTransaction")) == 1
    await daemon.wait_socket()
    await cli_ok(daemon, "swipe", "TAG1")
    await csms.wait_for("StartTransaction", timeout=5, after=mark)
    assert csms.received("Authorize")[-1].payload == {"idTag": "TAG1"}


@pytest.mark.parametrize(("profile", "settings", "keys"), [
    ("wemob", {"authorization_mode": 0, "free_vend_id_tag": "WEGFREE"}, {}),
    ("wallbox", {"free_vend_id_tag": "WEGFREE"}, {"AuthEnabled": "false"}),
])
async def test_free_charging_starts_on_plug_in(csms, make_daemon, profile, settings, keys) -> None:
    daemon = make_daemon(csms, profile=profile, **settings)
    await booted(csms, daemon)
    await configure(csms, **keys)
    await cli_ok(daemon, "plug", "1")
    start = await csms.wait_for("StartTransaction", timeout=5)
    assert start.payload["idTag"] == "WEGFREE"
    assert not csms.received("Authorize")


@pytest.mark.parametrize("allow_unknown", ["false", "true"])
async def test_offline_unknown_id_follows_allow_offline_tx_for_unknown_id(make_daemon, allow_unknown) -> None:
    daemon, _, first = await go_offline(make_daemon)
    await configure(first, AllowOfflineTxForUnknownId=allow_unknown, AuthorizationCacheEnabled="false")
    await first.stop()
    await cli_ok(daemon, "plug", "1")
    swipe = await daemon.cli("swipe", "STRANGER")
    assert (swipe.code == 0 and "started" in swipe.out) == (allow_unknown == "true"), swipe


@pytest.mark.parametrize("local_offline", ["false", "true"])
async def test_offline_cached_id_follows_local_authorize_offline(make_daemon, local_offline) -> None:
    daemon, _, first = await go_offline(make_daemon)
    await configure(first, LocalAuthorizeOffline=local_offline)
    await cli_ok(daemon, "swipe", "KNOWN")  # Authorize.req: Accepted, now cached
    await cli_ok(daemon, "swipe", "KNOWN")  # second presentation cancels
    await first.stop()
    await cli_ok(daemon, "plug", "1")
    swipe = await daemon.cli("swipe", "KNOWN")
    assert (swipe.code == 0 and "started" in swipe.out) == (local_offline == "true"), swipe


async def test_always_allow_offline_transactions_charges_on_plug_in_while_offline(make_daemon) -> None:
    daemon, _, first = await go_offline(make_daemon, profile="wemob")
    await configure(first, AlwaysAllowOfflineTransactions="true", AllowOfflineTxForUnknownId="false")
    await first.stop()
    await cli_ok(daemon, "plug", "1")
    for _ in range(50):
        status = json.loads(await cli_ok(daemon, "status", "--json"))["connectors"][0]
        if status["status"] in ("Charging", "SuspendedEV"):
            break
        await asyncio.sleep(0.1)
    assert status["status"] in ("Charging", "SuspendedEV"), status


@pytest.mark.parametrize("stop_on_invalid", ["true", "false"])
async def test_offline_start_later_refused_by_the_csms(make_daemon, stop_on_invalid) -> None:
    daemon, port, first = await go_offline(make_daemon)
    await configure(first, AllowOfflineTxForUnknownId="true", StopTransactionOnInvalidId=stop_on_invalid)
    await first.stop()
    for args in (("plug", "1"), ("ev", "1", "charge"), ("swipe", "NOBODY")):
        await cli_ok(daemon, *args)
    async with Csms(port=port) as second:
        second.start_id_tags = {"NOBODY": {"status": "Invalid"}}
        await second.wait_for("StartTransaction", timeout=15)
        if stop_on_invalid == "true":
            stop = await second.wait_for("StopTransaction", timeout=5)
            assert stop.payload["reason"] == "DeAuthorized"
        else:
            await second.wait_for("StatusNotification", lambda p: p["status"] == "SuspendedEVSE", timeout=5)
            await asyncio.sleep(0.5)
            assert not second.received("StopTransaction")
