"""How hot a DC station's cabinet runs, and what silent mode does about it (WEMOB §4.4.3).

Silent mode caps the exhaust fan; as the cabinet warms the station then lowers the power it
offers, so the noise stays down. Without it the fan speeds up and the power holds. The bench
has no cabinet, so this first-order model stands in for one: heat in grows with the power
delivered, heat out with the fan speed and the excess over ambient.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CabinetConstants:
    """Illustrative values, chosen so a bench session shows the effect within seconds; they
    are not WEG's figures, which the manual does not publish."""

    ambient_c: float = 25.0
    heating_c_per_kws: float = 0.05  # °C per second for each kW delivered
    passive_cooling: float = 0.01  # share of the excess over ambient shed per second, fan off
    fan_cooling: float = 0.15  # the same, added at full fan speed
    fan_start_c: float = 30.0  # the fan leaves its minimum here ...
    fan_full_c: float = 40.0  # ... and reaches full speed here
    fan_min: float = 0.2
    silent_fan_max: float = 0.3  # the cap silent mode puts on the fan
    derate_start_c: float = 45.0  # silent mode starts lowering the power here ...
    derate_span_c: float = 20.0  # ... down to the floor this many degrees higher
    derate_floor: float = 0.3  # the least share of the rated power still offered


CONSTANTS = CabinetConstants()


@dataclass(frozen=True)
class Cabinet:
    temperature_c: float
    fan: float  # 0..1 of full speed


def at_rest(constants: CabinetConstants = CONSTANTS) -> Cabinet:
    return Cabinet(constants.ambient_c, constants.fan_min)


def fan_speed(temperature_c: float, silent: bool, constants: CabinetConstants = CONSTANTS) -> float:
    span = constants.fan_full_c - constants.fan_start_c
    wanted = min(1.0, max(constants.fan_min, (temperature_c - constants.fan_start_c) / span))
    return min(wanted, constants.silent_fan_max) if silent else wanted


def step(cabinet: Cabinet, power_kw: float, seconds: float, silent: bool, constants: CabinetConstants = CONSTANTS) -> Cabinet:
    """The cabinet `seconds` later, with `power_kw` flowing meanwhile."""
    fan = fan_speed(cabinet.temperature_c, silent, constants)
    excess = cabinet.temperature_c - constants.ambient_c
    cooling = (constants.passive_cooling + constants.fan_cooling * fan) * excess
    temperature = cabinet.temperature_c + (constants.heating_c_per_kws * power_kw - cooling) * seconds
    return Cabinet(max(constants.ambient_c, temperature), fan_speed(temperature, silent, constants))


def power_share(temperature_c: float, silent: bool, constants: CabinetConstants = CONSTANTS) -> float:
    """The share of the rated power the station offers at this temperature."""
    if not silent or temperature_c <= constants.derate_start_c:
        return 1.0
    over = (temperature_c - constants.derate_start_c) / constants.derate_span_c
    return max(constants.derate_floor, 1.0 - over)
