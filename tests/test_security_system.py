"""The station's own condition as security events (whitepaper §8): a clock stepped by the CSMS,
a disk filling up; and the security log's rolling and clearing (A04.FR.04), in process."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from chargepoint.app.settings import Settings
from chargepoint.app.station import Station
from chargepoint.link.replay import Seen, SeenCalls
from chargepoint.security.log import SecurityLog
from chargepoint.security.system import DiskWatch, clock_step, disk_low
from tests.csms import Csms

MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("change", "info"),
    [
        (timedelta(seconds=0.9), None),  # a heartbeat's drift and transit
        (timedelta(seconds=-10), None),
        (timedelta(seconds=11), "clock set from the CSMS's currentTime: +11 s"),
        (timedelta(days=-400), "clock set from the CSMS's currentTime: -34560000 s"),  # a board without RTC
    ],
)
def test_only_a_step_beyond_drift_is_setting_system_time(change: timedelta, info: str | None) -> None:
    assert clock_step(change) == info


@pytest.mark.parametrize(
    ("free", "total", "low"),
    [(100 * MIB, 1000 * MIB, False), (40 * MIB, 1000 * MIB, True), (15 * MIB, 200 * MIB, True), (17 * MIB, 200 * MIB, False)],
)
def test_the_disk_is_low_under_5_percent_or_16_mib_free(free: int, total: int, low: bool) -> None:
    assert disk_low(free, total) is low


async def test_memory_exhaustion_reaches_the_csms_once_per_shortage(tmp_path: Path) -> None:
    async with Csms() as csms:
        station = Station(Settings(identity="CP-DISK", csms_url=csms.url, data_dir=tmp_path / "data", reconnect_max_delay=1))
        running = asyncio.create_task(station.run())
        try:
            await csms.wait_for("SecurityEventNotification", lambda p: p["type"] == "StartupOfTheDevice")
            full = DiskWatch(tmp_path, station.security_events, minimum=1 << 62)  # more than any disk holds
            full.check()
            full.check()
            event = await csms.wait_for("SecurityEventNotification", lambda p: p["type"] == "MemoryExhaustion")
            assert "MiB free of" in event.payload["techInfo"]
            logged = [line for line in station.security_events.log.entries() if "MemoryExhaustion" in line]
            assert len(logged) == 1  # the second look found the same shortage: no second event
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)


def test_the_security_log_rolls_at_its_cap_and_clearing_empties_every_file(tmp_path: Path) -> None:
    log = SecurityLog(tmp_path / "security.log", max_bytes=500)
    for number in range(40):
        log.append(f"2026-01-01T00:00:{number:02d}.000Z", "InvalidMessages", f"bad frame {number}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["security.log", "security.log.1"]
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) < 2 * 500 + 200
    kept = [json.loads(line)["techInfo"] for line in log.entries()]
    assert kept[-1] == "bad frame 39" and kept == sorted(kept, key=lambda t: int(t.split()[-1]))
    assert (tmp_path / "security.log").stat().st_mode & 0o077 == 0
    log.clear()
    assert list(log.entries()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["security.log"]
    log.close()


def test_ocpp_j_4_1_4_a_reused_message_id_is_a_resend_only_with_the_same_content() -> None:
    seen = SeenCalls(remembered=2)
    assert seen.check("a", "Reset", {"type": "Soft"}) is Seen.NEW
    assert seen.check("a", "Reset", {"type": "Soft"}) is Seen.RESENT
    assert seen.check("a", "Reset", {"type": "Hard"}) is Seen.REPLAYED
    assert seen.check("a", "ClearCache", {}) is Seen.REPLAYED
    seen.check("b", "ClearCache", {})
    seen.check("c", "ClearCache", {})  # the board's memory is bounded: "a" is forgotten
    assert seen.check("a", "Reset", {"type": "Hard"}) is Seen.NEW
