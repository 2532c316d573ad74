"""The SilentModeSchedule a CSMS installs by DataTransfer (WEMOB manual §4.4.3.1, table 4.6).

`data` holds up to 24 entries {"startPeriod": 0..86400, "enable": 0|1}: from startPeriod
seconds after midnight, silent mode is enabled (1) or not (0), every day. An entry is in force
until the next one starts; before the day's first entry, the day before's last one still is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_ENTRIES = 24
DAY = 86_400
FIELDS = frozenset({"startPeriod", "enable"})


class ScheduleRejected(ValueError):
    """The DataTransfer's data is not a schedule; the reason is logged, Rejected answered."""


@dataclass(frozen=True)
class Entry:
    start_period: int  # seconds after 00:00:00
    enable: bool

    def as_json(self) -> dict[str, int]:
        return {"startPeriod": self.start_period, "enable": int(self.enable)}


Schedule = tuple[Entry, ...]


def parse_schedule(data: Any) -> Schedule:
    """A JSON text (OCPP's DataTransfer.data is a string) or the bare array the manual's
    example shows; anything else is refused whole, so nothing half-installs."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise ScheduleRejected("data is not JSON (a CSMS must send double-quoted JSON)") from None
    if not isinstance(data, list):
        raise ScheduleRejected("data must be a JSON array of {startPeriod, enable} entries")
    if len(data) > MAX_ENTRIES:
        raise ScheduleRejected(f"{len(data)} entries; at most {MAX_ENTRIES}")
    entries = [_entry(number, item) for number, item in enumerate(data, start=1)]
    starts = [entry.start_period for entry in entries]
    duplicates = sorted({start for start in starts if starts.count(start) > 1})
    if duplicates:
        raise ScheduleRejected(f"startPeriod {duplicates[0]} appears more than once")
    return tuple(sorted(entries, key=lambda entry: entry.start_period))


def _entry(number: int, item: Any) -> Entry:
    if not isinstance(item, dict):
        raise ScheduleRejected(f"entry {number} is not an object")
    missing, unknown = FIELDS - item.keys(), item.keys() - FIELDS
    if missing:
        raise ScheduleRejected(f"entry {number} lacks {', '.join(sorted(missing))}")
    if unknown:
        raise ScheduleRejected(f"entry {number} has unknown field {sorted(unknown)[0]}")
    start, enable = item["startPeriod"], item["enable"]
    if not _integer(start) or not 0 <= start <= DAY:
        raise ScheduleRejected(f"entry {number}: startPeriod must be a whole number 0 to {DAY}, not {start!r}")
    if not _integer(enable) or enable not in (0, 1):
        raise ScheduleRejected(f"entry {number}: enable must be 0 or 1, not {enable!r}")
    return Entry(start, enable == 1)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def silenced_at(schedule: Schedule, second_of_day: float) -> bool:
    """Whether the schedule enables silent mode at this second of the (local) day."""
    if not schedule:
        return False
    current = [entry for entry in schedule if entry.start_period <= second_of_day]
    return (current[-1] if current else schedule[-1]).enable


def seconds_to_next_entry(schedule: Schedule, second_of_day: float) -> float | None:
    """Until the next entry starts, today or tomorrow; None without a schedule."""
    if not schedule:
        return None
    later = [entry.start_period for entry in schedule if entry.start_period > second_of_day]
    return (later[0] if later else schedule[0].start_period + DAY) - second_of_day
