"""What the fleet measures, as the one LinkObserver all its stations share.

A CALL's round trip counts in its action's histogram when the CSMS answered it (a CALLERROR
is an answer too, and counted as an error besides); a timeout or an unusable answer is an
error only. The window histogram is the live progress line's, emptied at each tick.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from chargepoint.fleet.latency import Histogram

UNANSWERED = {"Timeout": "timeout", "UnusableAnswer": "unusable answer"}


@dataclass
class Figures:
    started: float = field(default_factory=time.monotonic)
    latency: dict[str, Histogram] = field(default_factory=dict)
    window: Histogram = field(default_factory=Histogram)
    errors: Counter[str] = field(default_factory=Counter)
    frames: int = 0
    sessions_started: int = 0
    sessions_completed: int = 0

    def round_trip(self, action: str, seconds: float, error: str | None) -> None:
        if error in UNANSWERED:
            self.errors[f"{action}: {UNANSWERED[error]}"] += 1
            return
        if error is not None:
            self.errors[f"{action}: CALLERROR {error}"] += 1
        self.latency.setdefault(action, Histogram()).add(seconds)
        self.window.add(seconds)

    def frame(self) -> None:
        self.frames += 1

    def connect_failed(self, cause: str) -> None:
        self.errors[f"connect failed: {cause}"] += 1

    def registered(self, status: str) -> None:
        if status != "Accepted":
            self.errors[f"boot {status}"] += 1

    def bench_refused(self, command: str, why: str) -> None:
        """A generated driver action the station refused (e.g. a card on a reader-less model)."""
        self.errors[f"session {command} refused: {why}"] += 1

    def take_window(self) -> Histogram:
        window, self.window = self.window, Histogram()
        return window

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started
