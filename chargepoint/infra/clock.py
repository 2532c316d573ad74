"""Station time: the board's clock corrected by the CSMS's currentTime.

A board without a battery-backed RTC boots at a wrong date; OCPP timestamps must still be
right, so the offset from Boot/Heartbeat answers is applied to every timestamp we send.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta()
        self.synchronized = False  # set by the first CSMS time adopted (OCMF's "S" time status)
        self._listeners: list[Callable[[timedelta], None]] = []

    def on_set(self, listener: Callable[[timedelta], None]) -> None:
        """listener(change) each time the CSMS's time is adopted: how far the clock moved."""
        self._listeners.append(listener)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self._offset

    def timestamp(self, board_time: datetime | None = None) -> str:
        """An OCPP dateTime in UTC with millisecond precision: now, or a moment the board's
        clock recorded (a meter reading). One board time always gives one timestamp, so a
        reading stamped twice (its MeterValues and its stored copy) never differs by a tick."""
        moment = self.now() if board_time is None else board_time + self._offset
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def timestamp_at_tick(self, interval: int) -> str:
        """The grid point (multiple of `interval` seconds since midnight UTC) nearest to now."""
        now = self.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        ticks = round((now - midnight).total_seconds() / interval)
        tick = midnight + timedelta(seconds=ticks * interval)
        return tick.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def set_from_csms(self, current_time: str) -> None:
        """Adopt the CSMS's time; a value we cannot parse is ignored, keeping the old offset."""
        try:
            csms_now = datetime.fromisoformat(current_time.replace("Z", "+00:00"))
        except (AttributeError, ValueError):
            return
        if csms_now.tzinfo is None:
            csms_now = csms_now.replace(tzinfo=timezone.utc)
        offset = csms_now - datetime.now(timezone.utc)
        change, self._offset = offset - self._offset, offset
        self.synchronized = True
        for listener in self._listeners:
            listener(change)
