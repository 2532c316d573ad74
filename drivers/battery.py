"""The simulated EV's traction battery: what it holds, and the power it takes at each state of charge.

A lithium-ion pack takes its full power up to about 80 % and less and less after (the
constant-voltage phase), so a session's last fifth takes longer than its first; the bench
shows a CSMS the shape a real car draws. The car stops asking at the driver's target.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

TAPER_FROM = 80.0  # % where the power starts to fall
TAPER_FLOOR = 0.1  # share of the maximum still taken just below full: the target is reached


@dataclass(frozen=True)
class Battery:
    """What the bench says about the car: `ev N battery` changes it, a plug-in starts at `start_soc`."""

    max_ac_kw: float
    max_dc_kw: float
    capacity_kwh: float = 60.0
    start_soc: float = 20.0
    target_soc: float = 100.0

    def max_power_w(self, dc: bool) -> float:
        """The on-board charger (AC) or the pack's own limit (DC) caps what the car takes."""
        return (self.max_dc_kw if dc else self.max_ac_kw) * 1000


def curve_power_w(max_power_w: float, soc: float, target_soc: float) -> float:
    """The power the car asks for at `soc`: flat to TAPER_FROM, then falling linearly towards
    full (never under TAPER_FLOOR of the maximum), nothing from the target on."""
    if soc >= target_soc:
        return 0.0
    if soc < TAPER_FROM:
        return max_power_w
    return max_power_w * max(TAPER_FLOOR, (100.0 - soc) / (100.0 - TAPER_FROM))


def charged(soc: float, energy_wh: float, capacity_kwh: float) -> float:
    """The state of charge after `energy_wh` more went in: SoC and the meter move together."""
    return min(100.0, soc + energy_wh / (capacity_kwh * 10))  # Wh / (kWh × 1000) × 100 %


# The bench's names for the fields, with what each allows: (field, low, high, low included).
_FIELDS: dict[str, tuple[str, float, float, bool, str]] = {
    "capacity": ("capacity_kwh", 0.0, 1000.0, False, "more than 0 and at most 1000 (kWh)"),
    "soc": ("start_soc", 0.0, 100.0, True, "0 to 100 (%)"),
    "target": ("target_soc", 0.0, 100.0, False, "more than 0 and at most 100 (%)"),
    "max_ac_kw": ("max_ac_kw", 0.0, 400.0, False, "more than 0 and at most 400 (kW)"),
    "max_dc_kw": ("max_dc_kw", 0.0, 400.0, False, "more than 0 and at most 400 (kW)"),
}
BENCH_FIELDS = tuple(_FIELDS)


def changed(battery: Battery, changes: Mapping[str, object]) -> Battery:
    """`battery` with the bench's changes; ValueError naming the first field that is wrong."""
    values: dict[str, float] = {}
    for name, value in changes.items():
        if name not in _FIELDS:
            raise ValueError(f"unknown battery field {name!r}; one of: {', '.join(BENCH_FIELDS)}")
        field, low, high, low_included, allowed = _FIELDS[name]
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{flag} must be a number, {allowed}")
        if not (low <= value if low_included else low < value) or value > high:
            raise ValueError(f"{flag} must be {allowed}, got {value:g}")
        values[field] = float(value)
    return replace(battery, **values)
