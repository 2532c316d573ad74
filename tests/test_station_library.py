"""The Station is a library object: two run in one event loop against one CSMS, each with its
own database, connectors and vendor extensions, and nothing process-wide between them."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from ocpp.v16 import call
from ocpp.v16.enums import DataTransferStatus

from chargepoint.app.settings import Settings
from chargepoint.app.station import Station
from chargepoint.core.data_transfer import DataTransferRegistry, Reply
from tests.csms import Csms


def _station(csms: Csms, tmp_path: Path, identity: str, profile: str) -> Station:
    settings = Settings(
        identity=identity, csms_url=csms.url, profile=profile, data_dir=tmp_path / identity, reconnect_max_delay=1
    )
    return Station(settings)


async def _charging(csms: Csms, station: Station, identity: str, id_tag: str) -> None:
    assert (await csms.call(call.RemoteStartTransaction(id_tag=id_tag), identity=identity)).status == "Accepted"
    station.connectors[0].evse.plug()  # type: ignore[attr-defined]
    station.connectors[0].evse.ev_charge()  # type: ignore[attr-defined]
    await csms.wait_for("StatusNotification", lambda p: p["status"] == "Charging", identity=identity)
    await csms.wait_for("StartTransaction", identity=identity)


async def test_two_stations_share_a_loop_and_a_csms(tmp_path: Path) -> None:
    async with Csms() as csms:
        wemob, wallbox = _station(csms, tmp_path, "CP-A", "wemob"), _station(csms, tmp_path, "CP-B", "wallbox")
        received: list[tuple[str | None, str | None]] = []

        def hello(message_id: str | None, data: str | None) -> Reply:
            received.append((message_id, data))
            return Reply(DataTransferStatus.accepted, f"hello {data}")

        wallbox.data_transfer.register("Wall Box Chargers", "Hello", hello)
        running = [asyncio.create_task(s.run()) for s in (wemob, wallbox)]
        try:
            for identity in ("CP-A", "CP-B"):
                await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, identity=identity)
            boots = {f.identity: f.payload["chargePointVendor"] for f in csms.frames if f.action == "BootNotification" and f.direction == "in"}
            assert boots == {"CP-A": "WEG", "CP-B": "Wall Box Chargers"}

            await _charging(csms, wemob, "CP-A", "TAG-A")
            assert wallbox.connectors[0].status == "Available"  # the other station is untouched
            await _charging(csms, wallbox, "CP-B", "TAG-B")
            starts = {f.identity: f.payload["idTag"] for f in csms.frames if f.action == "StartTransaction" and f.direction == "in"}
            assert starts == {"CP-A": "TAG-A", "CP-B": "TAG-B"}

            # DataTransfer (§5.6): the registered pair gets the data and answers with its own.
            hello_call = call.DataTransfer(vendor_id="Wall Box Chargers", message_id="Hello", data="bench")
            answer = await csms.call(hello_call, identity="CP-B")
            assert (answer.status, answer.data, received) == ("Accepted", "hello bench", [("Hello", "bench")])
            other = await csms.call(call.DataTransfer(vendor_id="Wall Box Chargers", message_id="Other"), identity="CP-B")
            assert other.status == "UnknownMessageId"
            unregistered = await csms.call(hello_call, identity="CP-A")  # not WEG's vendor, nothing registered
            assert unregistered.status == "UnknownVendorId"
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
    assert not (tmp_path / "CP-A" / "control.sock").exists() and not (tmp_path / "CP-B" / "control.sock").exists()


def test_a_vendor_wide_handler_takes_the_messages_without_their_own() -> None:
    registry = DataTransferRegistry("WEG")
    registry.register("WEG", None, lambda message_id, data: Reply(DataTransferStatus.rejected, message_id))
    registry.register("WEG", "Exact", lambda message_id, data: Reply(DataTransferStatus.accepted))
    assert registry.reply("WEG", "Exact", None) == Reply(DataTransferStatus.accepted)
    assert registry.reply("WEG", "Any", None) == Reply(DataTransferStatus.rejected, "Any")
    assert registry.reply("Acme", "Any", None) == Reply(DataTransferStatus.unknown_vendor_id)


def test_a_handler_may_ignore_the_vendor_id_as_wemob_does() -> None:
    registry = DataTransferRegistry("WEG")
    registry.register(None, "GetSerial", lambda message_id, data: Reply(DataTransferStatus.accepted, "WEG123"))
    registry.register("WEG", "GetSerial", lambda message_id, data: Reply(DataTransferStatus.accepted, "exact"))
    assert registry.reply("Anything", "GetSerial", None) == Reply(DataTransferStatus.accepted, "WEG123")
    assert registry.reply("WEG", "GetSerial", None) == Reply(DataTransferStatus.accepted, "exact")
    assert registry.reply("Anything", "Other", None) == Reply(DataTransferStatus.unknown_vendor_id)
    with pytest.raises(ValueError):
        registry.register(None, None, lambda message_id, data: Reply(DataTransferStatus.accepted))


async def test_starting_a_station_leaves_the_process_umask_alone(tmp_path: Path) -> None:
    """Two stations start side by side; a umask changed around an await would leak to both."""
    previous = os.umask(0o022)  # a known value, whatever ran before in this process
    async with Csms() as csms:
        stations = [_station(csms, tmp_path, f"CP-{n}", "wemob") for n in (1, 2)]
        running = [asyncio.create_task(s.run()) for s in stations]
        try:
            for identity in ("CP-1", "CP-2"):
                await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, identity=identity)
            assert os.umask(0o022) == 0o022
            assert oct((tmp_path / "CP-1" / "control.sock").stat().st_mode & 0o777) == "0o600"
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            os.umask(previous)
