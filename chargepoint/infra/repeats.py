"""When to say again that something keeps failing.

A meter that stays unreadable fails at every poll, once a second: a line each would be 86,400
journal lines a day on the board's flash, all saying the same. A run of failures is told once
when it starts, again after 30 s, 1 min, 2 min, … (the gap doubling up to an hour) with how many
failures it has counted, and once when it ends. The caller passes the time, so the decisions are
pure and a table with a fake clock tests them.
"""

from __future__ import annotations

FIRST_REMINDER = 30.0  # seconds from a run's first failure to its first "still failing"
LONGEST_GAP = 3600.0


class RepeatingFailure:
    """One source of failures (one meter, say): which of them deserve a log line."""

    def __init__(self, first_reminder: float = FIRST_REMINDER, longest_gap: float = LONGEST_GAP) -> None:
        self._first_reminder = first_reminder
        self._longest_gap = longest_gap
        self._count = 0
        self._began = 0.0
        self._gap = first_reminder
        self._next = 0.0

    def failed(self, now: float, reason: str) -> str | None:
        """A failure at `now`: the line to log, or None to stay silent."""
        self._count += 1
        if self._count == 1:
            self._began, self._gap = now, self._first_reminder
            self._next = now + self._gap
            return reason
        if now < self._next:
            return None
        self._gap = min(self._gap * 2, self._longest_gap)
        self._next = now + self._gap
        return f"{reason} (still failing, {self._count} times in {span(now - self._began)})"

    def recovered(self, now: float) -> str | None:
        """It works again at `now`: the line to log, or None when nothing was failing."""
        if self._count == 0:
            return None
        count, self._count = self._count, 0
        times = "1 failure" if count == 1 else f"{count} failures"
        return f"after {times} in {span(now - self._began)}"


def span(seconds: float) -> str:
    """A duration the way a technician reads a log: 45 s, 10 min, 3 h."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 120 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"
