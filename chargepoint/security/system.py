"""Security events the station's own condition causes: its clock set by the CSMS
(SettingSystemTime) and its flash filling up under data_dir (MemoryExhaustion), both critical
(§8) because a wrong clock falsifies every log and a full disk loses what must be kept."""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta
from pathlib import Path

from chargepoint.infra.clock import Clock
from chargepoint.security.events import SecurityEvent, SecurityEventSink

# The CSMS's currentTime moves the clock at every Heartbeat by the two clocks' drift and the
# message's transit, well under a second; a step beyond this is someone setting the time.
CLOCK_STEP = timedelta(seconds=10)
MIN_FREE_BYTES = 16 * 1024 * 1024  # what a download leaves free (file_jobs.DISK_RESERVE), the database's room
MIN_FREE_SHARE = 0.05
DISK_CHECK_INTERVAL = 60.0  # seconds


def clock_step(change: timedelta, threshold: timedelta = CLOCK_STEP) -> str | None:
    """The techInfo of a clock change worth a SettingSystemTime, or None for mere drift."""
    if abs(change) <= threshold:
        return None
    seconds = change.total_seconds()
    return f"clock set from the CSMS's currentTime: {'+' if seconds > 0 else '-'}{abs(seconds):.0f} s"


def watch_clock(clock: Clock, events: SecurityEventSink) -> None:
    def adopted(change: timedelta) -> None:
        info = clock_step(change)
        if info is not None:
            events.raise_event(SecurityEvent.setting_system_time, info)

    clock.on_set(adopted)


def disk_low(free: int, total: int, minimum: int = MIN_FREE_BYTES) -> bool:
    return free < max(minimum, int(total * MIN_FREE_SHARE))


class DiskWatch:
    """MemoryExhaustion once when the disk under `directory` runs low, again only after it had
    room again: a full disk stays full for hours and one event says so."""

    def __init__(
        self, directory: Path, events: SecurityEventSink, minimum: int = MIN_FREE_BYTES,
        interval: float = DISK_CHECK_INTERVAL,
    ) -> None:
        self._directory = directory
        self._events = events
        self._minimum = minimum
        self._interval = interval
        self._low = False

    async def run(self) -> None:
        while True:
            self.check()
            await asyncio.sleep(self._interval)

    def check(self) -> None:
        usage = shutil.disk_usage(self._directory)
        low = disk_low(usage.free, usage.total, self._minimum)
        if low and not self._low:
            mib = 1024 * 1024
            self._events.raise_event(
                SecurityEvent.memory_exhaustion,
                f"{usage.free // mib} MiB free of {usage.total // mib} MiB on the disk of {self._directory}",
            )
        self._low = low
