"""The energy meter behind one connector.

Energy is the billing truth, so a reading carries the time it was taken: a value reused while
the meter is unreachable keeps its own timestamp rather than pretending to be fresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class MeterReading:
    energy_wh: float
    power_w: float
    taken_at: datetime


class Meter(Protocol):
    async def read(self) -> MeterReading: ...

    async def close(self) -> None: ...
