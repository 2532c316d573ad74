"""Reservation (§3.11, §5.13, §5.1) against a real CSMS, served on the bench through the
`extra_profiles` setting: each ReserveNow answer, Reserved, the wrong card refused and the right
one starting with the reservationId, expiry, cancel, connector 0, and a restart (SIGKILL)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call

from chargepoint.app.settings import SettingsError, load_settings
from tests.conftest import Daemon, booted
from tests.csms import Csms
from tests.helpers import cli_fails, cli_ok, logged, reaches

BENCH = {"extra_profiles": ["Reservation"]}
TWO_CONNECTORS = {**BENCH, "model": "wemob-parking-ac22"}


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def reserve(
    csms: Csms, reservation_id: int, connector: int = 1, id_tag: str = "TAG1", expires_in: float = 60.0, parent: str | None = None
) -> str:
    request = call.ReserveNow(
        connector_id=connector, expiry_date=_in(expires_in), id_tag=id_tag, reservation_id=reservation_id, parent_id_tag=parent
    )
    return str((await csms.call(request)).status)


async def cancel(csms: Csms, reservation_id: int) -> str:
    return str((await csms.call(call.CancelReservation(reservation_id=reservation_id))).status)


async def availability(csms: Csms, kind: str) -> None:
    assert (await csms.call(call.ChangeAvailability(connector_id=1, type=kind))).status == "Accepted"


async def reservations(daemon: Daemon) -> list[tuple[int, int, str]]:
    """`chargepoint status --json`: (reservationId, connector, idTag) of those in force."""
    return [(r["reservation_id"], r["connector"], r["id_tag"]) for r in (await daemon.status())["reservations"]]


async def started(csms: Csms, after: int) -> dict[str, Any]:
    return dict((await csms.wait_for("StartTransaction", after=after)).payload)


async def test_reserve_now_answers_each_status_by_the_rules_of_5_13(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, **BENCH)
    await booted(csms, daemon)
    assert await reserve(csms, 1, connector=0) == "Rejected"  # ReserveConnectorZeroSupported is false
    assert await reserve(csms, 1, connector=2) == "Rejected"  # the station has one connector
    assert await reserve(csms, 1, expires_in=-5) == "Rejected"  # over already
    mark = len(csms.frames)
    assert await reserve(csms, 1) == "Accepted"
    await reaches(csms, 1, "Reserved", after=mark)  # A7
    assert await reserve(csms, 2, id_tag="TAG2") == "Occupied"  # reserved by another reservation
    assert await reserve(csms, 1, id_tag="TAG2") == "Accepted"  # the same reservationId replaces it
    assert await reservations(daemon) == [(1, 1, "TAG2")]

    mark = len(csms.frames)
    await cli_ok(daemon, "fault", "1", "GroundFailure")
    await reaches(csms, 1, "Faulted", "GroundFailure", after=mark)
    assert await reserve(csms, 3) == "Faulted"
    await cli_ok(daemon, "fault", "1", "--clear")
    await reaches(csms, 1, "Available", after=mark)  # not Reserved: Faulted ended reservation 1 (§5.13)
    assert await cancel(csms, 1) == "Rejected"

    assert await reserve(csms, 4) == "Accepted"
    mark = len(csms.frames)
    await availability(csms, "Inoperative")
    await reaches(csms, 1, "Unavailable", after=mark)  # G8
    assert await reserve(csms, 5) == "Unavailable"
    await availability(csms, "Operative")
    await reaches(csms, 1, "Available", after=mark)  # Unavailable ended reservation 4
    assert await reservations(daemon) == []

    await cli_ok(daemon, "plug", "1")
    await reaches(csms, 1, "Preparing", after=mark)
    assert await reserve(csms, 6) == "Occupied"  # a user is at the connector


async def test_only_the_reserved_id_tag_or_its_group_starts_and_start_transaction_carries_the_reservation_id(
    csms: Csms, make_daemon
) -> None:
    csms.id_tags["TAG2"] = {"status": "Accepted", "parentIdTag": "OTHER"}
    csms.id_tags["TAG3"] = {"status": "Accepted", "parentIdTag": "FLEET"}
    daemon = make_daemon(csms, **BENCH)
    await booted(csms, daemon)
    mark = len(csms.frames)
    assert await reserve(csms, 7, parent="FLEET") == "Accepted"
    await reaches(csms, 1, "Reserved", after=mark)
    await cli_ok(daemon, "plug", "1")
    await reaches(csms, 1, "Preparing", after=mark)  # G2: the cable, then a card
    refused = await cli_fails(daemon, "swipe", "TAG2")
    assert "reserved for another idTag (reservation 7)" in refused
    await cli_ok(daemon, "swipe", "TAG3")  # §5.13: its parentIdTag is the reservation's
    payload = await started(csms, mark)
    assert (payload["idTag"], payload["reservationId"]) == ("TAG3", 7)
    assert len(csms.received("StartTransaction")) == 1, "TAG2 never started"
    assert await reservations(daemon) == [] and await cancel(csms, 7) == "Rejected"  # the start ended it

    await cli_ok(daemon, "swipe", "TAG3")
    await cli_ok(daemon, "unplug", "1")
    mark = len(csms.frames)
    assert await reserve(csms, 8) == "Accepted"
    await reaches(csms, 1, "Reserved", after=mark)
    remote = call.RemoteStartTransaction
    assert (await csms.call(remote(id_tag="TAG2", connector_id=1))).status == "Rejected"  # answered at once
    assert (await csms.call(remote(id_tag="TAG1", connector_id=1))).status == "Accepted"
    await reaches(csms, 1, "Preparing", after=mark)
    await cli_ok(daemon, "plug", "1")
    payload = await started(csms, mark)
    assert (payload["idTag"], payload["reservationId"]) == ("TAG1", 8)


async def test_reservations_survive_a_restart_and_end_at_expiry_or_cancel(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, **TWO_CONNECTORS)
    await booted(csms, daemon, connectors=2)
    mark = len(csms.frames)
    assert await reserve(csms, 1, connector=1) == "Accepted"
    assert await reserve(csms, 2, connector=2, id_tag="TAG2", expires_in=2) == "Accepted"
    await reaches(csms, 2, "Reserved", after=mark)
    daemon.kill()  # a power cut
    await asyncio.sleep(2.5)  # reservation 2 expires while the station is down
    mark = len(csms.frames)
    daemon.start()
    await reaches(csms, 1, "Reserved", after=mark, timeout=20)
    await reaches(csms, 2, "Available", after=mark, timeout=20)
    await daemon.wait_socket()
    assert await reservations(daemon) == [(1, 1, "TAG1")]
    assert [c["reservation_id"] for c in (await daemon.status())["connectors"]] == [1, None]
    assert "reservation 1: connector 1 for TAG1 until " in await cli_ok(daemon, "status")
    await logged(daemon, "reservation 1 for TAG1 kept over the restart")
    assert "reserved for another idTag" in await cli_fails(daemon, "swipe", "TAG2", "--connector", "1")
    # The shared reader: a stranger's card goes to the free connector, the reserved card to its own.
    assert (await cli_ok(daemon, "swipe", "TAG2")).startswith("connector 2: TAG2 accepted")
    assert (await cli_ok(daemon, "swipe", "TAG2")).startswith("connector 2: TAG2: session cancelled")
    assert (await cli_ok(daemon, "swipe", "TAG1")).startswith("connector 1: TAG1 accepted")
    assert (await cli_ok(daemon, "swipe", "TAG1")).startswith("connector 1: TAG1: session cancelled")

    assert await cancel(csms, 1) == "Accepted"
    await reaches(csms, 1, "Available", after=mark)  # G1
    assert await cancel(csms, 1) == "Rejected"  # §5.1: no such reservation any more

    mark = len(csms.frames)
    assert await reserve(csms, 3, connector=2, expires_in=2) == "Accepted"
    reserved = await reaches(csms, 2, "Reserved", after=mark)
    available = await reaches(csms, 2, "Available", after=mark, timeout=10)  # §5.13: expiryDate reached
    assert available.at - reserved.at >= 1.5
    await logged(daemon, "reservation 3 for TAG1 ended: its expiryDate passed")
    assert await reservations(daemon) == []


async def test_a_connector_0_reservation_keeps_one_connector_free_for_its_id_tag(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, **TWO_CONNECTORS, reserve_connector_zero=True)
    await booted(csms, daemon, connectors=2)
    key = (await csms.call(call.GetConfiguration(key=["ReserveConnectorZeroSupported"]))).configuration_key[0]
    assert (key["value"], key["readonly"]) == ("true", True)
    assert await reserve(csms, 5, connector=0) == "Accepted"
    assert await reserve(csms, 6, connector=0, id_tag="TAG2") == "Accepted"  # two free connectors
    assert await reserve(csms, 7, connector=0, id_tag="TAG3") == "Occupied"  # both kept already
    assert await cancel(csms, 6) == "Accepted"
    status = await daemon.status()
    assert [c["status"] for c in status["connectors"]] == ["Available", "Available"]  # no connector is reserved

    mark = len(csms.frames)
    await cli_ok(daemon, "plug", "1")
    await cli_ok(daemon, "swipe", "TAG9", "--connector", "1")  # connector 2 stays free
    assert "reservationId" not in await started(csms, mark)
    await cli_ok(daemon, "plug", "2")
    kept = await cli_fails(daemon, "swipe", "TAG8", "--connector", "2")
    assert "kept free for reservation 5" in kept
    mark = len(csms.frames)
    await cli_ok(daemon, "swipe", "TAG1", "--connector", "2")
    payload = await started(csms, mark)
    assert (payload["connectorId"], payload["idTag"], payload["reservationId"]) == (2, "TAG1", 5)
    assert await reservations(daemon) == []


REFUSED = "extra_profiles: '{}' is not a profile this station can serve"


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ('extra_profiles = ["Reservations"]\n', f"{REFUSED.format('Reservations')}; one of: Reservation, RemoteTrigger"),
        ('profile = "wallbox"\nextra_profiles = ["Security"]\n', f"{REFUSED.format('Security')}; one of: Reservation"),
        ("reserve_connector_zero = true\n", 'reserve_connector_zero: needs the Reservation profile (extra_profiles = ["Reservation"])'),
    ],
)
def test_a_profile_the_station_cannot_serve_is_refused_at_start(
    tmp_path: Path, lines: str, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [k for k in os.environ if k.startswith("CHARGEPOINT_")]:
        monkeypatch.delenv(name)
    config = tmp_path / "chargepoint.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n{lines}')
    with pytest.raises(SettingsError) as refused:
        load_settings(config)
    assert refused.value.problems == [problem]
