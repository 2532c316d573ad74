"""The energy meter behind one connector.

Energy is the billing truth, so a reading carries the time it was taken: a value reused while
the meter is unreachable keeps its own timestamp rather than pretending to be fresh. Optional
figures are None when the meter model cannot give them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Protocol

Phases = tuple[float, ...]  # L1, L2, L3; L1 alone on a single-phase meter


class MeterError(Exception):
    """The meter gave no usable reading: no answer, a Modbus exception, or a value that
    cannot be true (NaN, an invalid marker, a register going backwards or jumping)."""


@dataclass(frozen=True)
class MeterReading:
    energy_wh: float
    power_w: float
    taken_at: datetime
    voltage_v: Phases | None = None  # line to neutral
    current_a: Phases | None = None
    phase_power_w: Phases | None = None
    frequency_hz: float | None = None
    export_energy_wh: float | None = None
    power_factor: float | None = None
    soc_percent: float | None = None  # the EV's, where it tells the station (DC, ISO 15118); no meter measures it
    # Not measured: what the EVSE offers at the moment of the reading, attached by the station.
    offered_current_a: float | None = None
    offered_power_w: float | None = None
    # An Eichrecht meter's own OCMF record of this reading, passed through as it signed it.
    signed_record: str | None = None


# What the EVSE, not the meter, puts in a reading.
EVSE_FIGURES = frozenset({"offered_current_a", "offered_power_w"})
# What a reading can hold besides its time; a meter model provides all or some of these.
ALL_FIGURES = frozenset(f.name for f in fields(MeterReading)) - {"taken_at", "signed_record"} - EVSE_FIGURES


class Meter(Protocol):
    async def read(self) -> MeterReading:
        """A fresh reading, or MeterError."""
        ...

    async def close(self) -> None: ...
