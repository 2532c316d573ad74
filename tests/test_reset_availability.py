"""Reset (§5.14) and ChangeAvailability (§5.2) against a real CSMS and the daemon as a process.

Named after the OCPP 1.6 compliance cases they mirror (Hard / Soft Reset with and without a
transaction; Change Availability idle, scheduled while charging, on the whole station, and
persisted over a reset). A Hard reset leaves the process with EXIT_HARD_RESET (10) for the
service manager; a Soft reset re-executes the program in the same process (same PID).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from ocpp.v16 import call

from chargepoint.app.cli import EXIT_HARD_RESET
from tests.conftest import booted
from tests.csms import Csms
from tests.helpers import charging, cli_ok, exited, reaches, transaction_id


async def reset(csms: Csms, kind: str) -> None:
    assert (await csms.call(call.Reset(type=kind))).status == "Accepted"


async def availability(csms: Csms, connector: int, kind: str) -> str:
    return (await csms.call(call.ChangeAvailability(connector_id=connector, type=kind))).status


# Reset ------------------------------------------------------------------------------------


async def test_hard_reset_without_transaction(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await reset(csms, "Hard")
    assert await exited(daemon) == EXIT_HARD_RESET
    mark = len(csms.frames)
    daemon.start()  # what systemd does on exit status 10
    await csms.wait_for("BootNotification", after=mark, timeout=20)
    assert csms.connections == 2
    assert csms.calls("StopTransaction") == []


async def test_hard_reset_with_transaction(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await charging(csms, daemon, boot=True)
    running = await transaction_id(daemon)
    mark = len(csms.frames)
    await reset(csms, "Hard")
    stop = await csms.wait_for("StopTransaction", after=mark)
    assert daemon.process is not None and daemon.process.poll() is None  # delivered before the exit
    assert (stop.payload["transactionId"], stop.payload["reason"]) == (running, "HardReset")
    assert await exited(daemon) == EXIT_HARD_RESET
    mark = len(csms.frames)
    daemon.start()
    await booted(csms, daemon)
    await asyncio.sleep(0.5)
    # It was answered before the exit, so the durable queue does not send it again.
    assert len(csms.received("StopTransaction")) == 1
    assert [f for f in csms.frames[mark:] if f.direction == "in" and f.action == "StopTransaction"] == []


async def test_hard_reset_retries_a_failing_reboot_command_up_to_reset_retries(
    csms: Csms, make_daemon, tmp_path: Path
) -> None:
    runs = tmp_path / "reboots"
    # A board's reboot command that fails on the first attempt and works on the second.
    daemon = make_daemon(csms, reboot_command=f"sh -c 'echo run >> {runs}; test $(wc -l < {runs}) -ge 2'")
    await booted(csms, daemon)
    assert (await csms.call(call.ChangeConfiguration(key="ResetRetries", value="3"))).status == "Accepted"
    await reset(csms, "Hard")
    assert await exited(daemon) == EXIT_HARD_RESET
    assert runs.read_text().splitlines() == ["run", "run"]


async def test_hard_reset_gives_up_after_reset_retries(csms: Csms, make_daemon, tmp_path: Path) -> None:
    runs = tmp_path / "reboots"
    daemon = make_daemon(csms, reboot_command=f"sh -c 'echo run >> {runs}; exit 1'")
    await booted(csms, daemon)
    assert (await csms.call(call.ChangeConfiguration(key="ResetRetries", value="2"))).status == "Accepted"
    await reset(csms, "Hard")
    assert await exited(daemon) == EXIT_HARD_RESET
    assert len(runs.read_text().splitlines()) == 1 + 2


async def test_soft_reset_without_transaction(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert daemon.process is not None
    pid = daemon.process.pid
    mark = len(csms.frames)
    await reset(csms, "Soft")
    await csms.wait_for("BootNotification", after=mark, timeout=20)
    assert csms.connections == 2
    assert daemon.process.poll() is None and daemon.process.pid == pid
    assert csms.calls("StopTransaction") == []


async def test_soft_reset_with_transaction(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await charging(csms, daemon, boot=True)
    running = await transaction_id(daemon)
    assert daemon.process is not None
    pid = daemon.process.pid
    mark = len(csms.frames)
    await reset(csms, "Soft")
    stop = await csms.wait_for("StopTransaction", after=mark)
    assert (stop.payload["transactionId"], stop.payload["reason"]) == (running, "SoftReset")
    boot = await csms.wait_for("BootNotification", after=mark, timeout=20)
    assert stop.at < boot.at
    assert csms.connections == 2  # the re-executed program opened a new connection
    assert daemon.process.poll() is None and daemon.process.pid == pid
    await booted(csms, daemon)
    await asyncio.sleep(0.3)
    assert len(csms.received("StopTransaction")) == 1


@pytest.mark.parametrize("kind", ["Soft", "Hard"])
async def test_a_reset_cut_short_by_a_crash_is_completed_on_the_next_start(
    csms: Csms, make_daemon, tmp_path: Path, kind: str
) -> None:
    """Killed right after answering Accepted: the transaction still ends as the reset the CSMS
    was promised (not PowerLoss), and a Hard reset still reboots the board."""
    reboots = tmp_path / "reboots"
    daemon = make_daemon(csms, reboot_command=f"sh -c 'echo reboot >> {reboots}'")
    await charging(csms, daemon, boot=True)
    running = await transaction_id(daemon)
    await reset(csms, kind)
    daemon.kill()
    assert not reboots.exists() and csms.received("StopTransaction") == []
    daemon.start()
    if kind == "Hard":
        assert await exited(daemon) == EXIT_HARD_RESET
        assert reboots.read_text() == "reboot\n"
        daemon.start()  # systemd, after the reboot
    stop = await csms.wait_for("StopTransaction", timeout=20)
    assert (stop.payload["transactionId"], stop.payload["reason"]) == (running, f"{kind}Reset")
    await booted(csms, daemon)
    assert daemon.process is not None and daemon.process.poll() is None
    assert (reboots.read_text() if reboots.exists() else "") == ("reboot\n" if kind == "Hard" else "")


# ChangeAvailability -----------------------------------------------------------------------


async def test_change_availability_idle_connector_inoperative_then_operative(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    mark = len(csms.frames)
    assert await availability(csms, 1, "Inoperative") == "Accepted"
    await reaches(csms, 1, "Unavailable", after=mark)
    refused = await daemon.cli("swipe", "TAG1", "--connector", "1")
    assert refused.code != 0 and "Unavailable" in refused.err, refused
    assert (await csms.call(call.RemoteStartTransaction(id_tag="TAG1", connector_id=1))).status == "Rejected"
    assert csms.calls("Authorize") == [] and csms.calls("StartTransaction") == []
    mark = len(csms.frames)
    assert await availability(csms, 1, "Operative") == "Accepted"
    await reaches(csms, 1, "Available", after=mark)


async def test_change_availability_of_an_unknown_connector_is_rejected(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert await availability(csms, 5, "Inoperative") == "Rejected"


async def test_change_availability_during_a_transaction_is_scheduled(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await charging(csms, daemon, boot=True)
    await transaction_id(daemon)  # the StartTransaction answer has reached the connector
    mark = len(csms.frames)
    assert await availability(csms, 1, "Inoperative") == "Scheduled"
    await asyncio.sleep(0.3)
    assert [f for f in csms.frames[mark:] if f.action in ("StatusNotification", "StopTransaction")] == []
    await cli_ok(daemon, "swipe", "TAG1")
    stop = (await csms.wait_for("StopTransaction", after=mark)).payload
    assert stop["reason"] == "Local"
    await reaches(csms, 1, "Finishing", after=mark)
    mark = len(csms.frames)
    await cli_ok(daemon, "unplug", "1")
    await reaches(csms, 1, "Unavailable", after=mark)
    assert [p["status"] for p in csms.calls("StatusNotification") if p["connectorId"] == 1][-3:] == [
        "Charging", "Finishing", "Unavailable"
    ]


async def test_change_availability_of_connector_0_makes_the_whole_station_unavailable(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, model="wemob-parking-ac22")
    await booted(csms, daemon, connectors=2)
    mark = len(csms.frames)
    assert await availability(csms, 0, "Inoperative") == "Accepted"
    for connector in (0, 1, 2):
        await reaches(csms, connector, "Unavailable", after=mark)
    mark = len(csms.frames)
    assert await availability(csms, 0, "Operative") == "Accepted"
    for connector in (0, 1, 2):
        await reaches(csms, connector, "Available", after=mark)


async def test_change_availability_of_connector_0_during_a_transaction_is_scheduled(
    csms: Csms, make_daemon
) -> None:
    daemon = make_daemon(csms, model="wemob-parking-ac22")
    await booted(csms, daemon, connectors=2)
    await cli_ok(daemon, "plug", "1")
    await cli_ok(daemon, "ev", "1", "charge")
    await cli_ok(daemon, "swipe", "TAG1", "--connector", "1")
    await reaches(csms, 1, "Charging")
    mark = len(csms.frames)
    assert await availability(csms, 0, "Inoperative") == "Scheduled"
    await reaches(csms, 2, "Unavailable", after=mark)  # the idle connector goes at once
    await asyncio.sleep(0.3)
    assert [p for p in csms.calls("StatusNotification") if p["connectorId"] == 1][-1]["status"] == "Charging"
    assert json.loads(await cli_ok(daemon, "status", "--json"))["connectors"][0]["status"] == "Charging"
    mark = len(csms.frames)
    await cli_ok(daemon, "unplug", "1")  # EV-side disconnect ends the transaction
    await csms.wait_for("StopTransaction", after=mark)
    await reaches(csms, 1, "Unavailable", after=mark)


async def test_change_availability_persists_over_a_hard_reset(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    mark = len(csms.frames)
    assert await availability(csms, 1, "Inoperative") == "Accepted"
    await reaches(csms, 1, "Unavailable", after=mark)
    await reset(csms, "Hard")
    assert await exited(daemon) == EXIT_HARD_RESET
    mark = len(csms.frames)
    daemon.start()
    boot = await csms.wait_for("BootNotification", after=mark, timeout=20)
    first = await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, after=mark)
    assert first.at > boot.at and first.payload["status"] == "Unavailable"
    await daemon.wait_socket()
    report = json.loads(await cli_ok(daemon, "status", "--json"))
    assert report["connectors"][0]["status"] == "Unavailable"
