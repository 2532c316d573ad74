"""Which log entries fall between a GetDiagnostics startTime and stopTime (pure functions)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

_STAMP_LENGTH = len("2026-01-01T00:00:00.000Z")


@dataclass(frozen=True)
class Window:
    start: datetime | None = None
    stop: datetime | None = None

    def holds(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.stop is None or moment <= self.stop)

    def overlaps(self, begin: datetime, end: datetime | None) -> bool:
        """A span (a transaction) that reaches into the window; `end` None: still open."""
        return (self.stop is None or begin <= self.stop) and (self.start is None or end is None or end >= self.start)


def moment(text: str | None) -> datetime | None:
    """An OCPP or log dateTime; without an offset it is UTC (§3.14). None if not one."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def station_log_lines(lines: Iterable[str], window: Window) -> Iterator[str]:
    """Lines of the station's log that begin with their UTC time; a line without one (a
    traceback) goes with the entry above it."""
    keep = False
    for line in lines:
        stamp = moment(line[:_STAMP_LENGTH])
        if stamp is not None:
            keep = window.holds(stamp)
        if keep:
            yield line


def frame_log_lines(lines: Iterable[str], window: Window) -> Iterator[str]:
    """Lines of the frame log (JSON objects with a `time`) inside the window."""
    for line in lines:
        try:
            stamp = moment(json.loads(line).get("time"))
        except (ValueError, AttributeError):
            continue
        if stamp is not None and window.holds(stamp):
            yield line
