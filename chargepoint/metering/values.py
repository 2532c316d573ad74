"""Readings into MeterValue objects (spec §3.16, §9.1 MeterValue* / StopTxn* keys, §7.31 SampledValue).

MeterValues carry one sampledValue per configured measurand and per
phase the meter has; an empty MeterValuesSampledData means the energy register (WEMOB §4.3.17).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ocpp.charge_point import remove_nones
from ocpp.v16.datatypes import MeterValue, SampledValue
from ocpp.v16.enums import Location, Measurand, Phase, ReadingContext, Reason, UnitOfMeasure, ValueFormat

from chargepoint.infra.clock import Clock
from chargepoint.metering.signing import MeterSigner, SignedReading
from configkeys import Configuration
from drivers.meter import EVSE_FIGURES, MeterReading

log = logging.getLogger(__name__)

DEFAULT_MEASURAND = Measurand.energy_active_import_register
MEASURAND_KEYS = ("MeterValuesSampledData", "MeterValuesAlignedData", "StopTxnSampledData", "StopTxnAlignedData")
_PHASES = (Phase.l1, Phase.l2, Phase.l3)
_PHASES_TO_NEUTRAL = (Phase.l1_n, Phase.l2_n, Phase.l3_n)


@dataclass(frozen=True)
class _Measure:
    """How one measurand comes out of a reading; `figure` is the MeterReading field it needs."""

    figure: str
    unit: UnitOfMeasure | None  # OCPP 1.6 has no unit for Hz or a power factor
    phases: tuple[Phase, ...] = ()
    phase_figure: str | None = None  # per-phase values sent beside the total (errata: all phases)
    location: Location | None = None  # where it is measured, when not where the sample says


_MEASURES: dict[str, _Measure] = {
    Measurand.energy_active_import_register: _Measure("energy_wh", UnitOfMeasure.wh),
    Measurand.energy_active_export_register: _Measure("export_energy_wh", UnitOfMeasure.wh),
    Measurand.energy_active_import_interval: _Measure("energy_wh", UnitOfMeasure.wh),
    Measurand.power_active_import: _Measure("power_w", UnitOfMeasure.w, _PHASES, "phase_power_w"),
    Measurand.voltage: _Measure("voltage_v", UnitOfMeasure.v, _PHASES_TO_NEUTRAL),
    Measurand.current_import: _Measure("current_a", UnitOfMeasure.a, _PHASES),
    Measurand.frequency: _Measure("frequency_hz", None),
    Measurand.power_factor: _Measure("power_factor", None),
    Measurand.current_offered: _Measure("offered_current_a", UnitOfMeasure.a),
    Measurand.power_offered: _Measure("offered_power_w", UnitOfMeasure.w),
    Measurand.soc: _Measure("soc_percent", UnitOfMeasure.percent, location=Location.ev),  # §7.31: the EV's
}


def energy_wh(reading: MeterReading) -> int:
    """Energy as the integer Wh that Start/StopTransaction carry, and the register in MeterValues:
    a sample rounded up must never exceed the meterStop that follows it."""
    return int(reading.energy_wh + 1e-6)  # float32 kWh: 2.3 kWh must not floor to 2299 Wh


class MeterValueBuilder:
    """Readings into OCPP MeterValue objects, for the measurands a key names; with a signer
    (setting signed_meter_values), a transaction's energy register also as OCMF SignedData."""

    def __init__(self, config: Configuration, clock: Clock, signer: MeterSigner | None = None) -> None:
        self._config = config
        self._clock = clock
        self.signer = signer

    def stamp(self, reading: MeterReading) -> str:
        """The reading's own time on the station's (CSMS-corrected) clock."""
        return self._clock.timestamp(reading.taken_at)

    def build(
        self,
        reading: MeterReading,
        key: str,
        context: ReadingContext,
        interval_start_wh: float | None = None,
        timestamp: str | None = None,
        location: Location = Location.outlet,
    ) -> dict[str, Any] | None:
        """A MeterValue as the JSON-ready dict the queue stores; None when nothing applies."""
        measurands = self._config.csl(key) if self._config.has(key) else []
        if key == "MeterValuesSampledData" and not measurands:
            measurands = [DEFAULT_MEASURAND]
        return self.of(reading, measurands, context, interval_start_wh, timestamp, location)

    def of(
        self,
        reading: MeterReading,
        measurands: list[str],
        context: ReadingContext,
        interval_start_wh: float | None = None,
        timestamp: str | None = None,
        location: Location = Location.outlet,
    ) -> dict[str, Any] | None:
        """A MeterValue of the measurands named, those the reading has."""
        values: list[SampledValue] = []
        for name in measurands:
            measure = _MEASURES.get(name)
            figure = getattr(reading, measure.figure) if measure else None
            if measure is None or figure is None:
                continue
            if name == Measurand.energy_active_import_interval:
                if interval_start_wh is None:
                    continue  # no interval to measure: better absent than a made-up 0
                figure = energy_wh(reading) - int(interval_start_wh + 1e-6)
            values.extend(_sampled(name, measure, reading, context, location))
        if not values:
            return None
        meter_value = MeterValue(timestamp=timestamp or self.stamp(reading), sampled_value=values)
        return remove_nones(asdict(meter_value))

    def sign(
        self,
        meter_values: list[dict[str, Any] | None],
        connector: int,
        id_tag: str,
        reading: MeterReading,
        context: ReadingContext,
        reason: Reason | None = None,
    ) -> None:
        """Add one signed record of the reading to each of its MeterValues that carries the
        energy register: one record per reading, however many messages repeat it."""
        carriers = [v for v in meter_values if v is not None and has_register(v)]
        if self.signer is None or not carriers:
            return
        signed = self.signer.sampled_value(
            SignedReading(
                connector, id_tag, energy_wh(reading), carriers[0]["timestamp"], context, reason, reading.signed_record
            )
        )
        if signed is not None:
            for meter_value in carriers:
                meter_value["sampled_value"].append(dict(signed))


def has_register(meter_value: dict[str, Any]) -> bool:
    """The raw Energy.Active.Import.Register is among its values."""
    return any(
        v.get("measurand") == DEFAULT_MEASURAND and v.get("format") == ValueFormat.raw for v in meter_value["sampled_value"]
    )


def _sampled(
    name: str, measure: _Measure, reading: MeterReading, context: ReadingContext, location: Location
) -> list[SampledValue]:
    def one(value: float, phase: Phase | None) -> SampledValue:
        return SampledValue(
            value=_format(name, value),
            context=context,
            format=ValueFormat.raw,
            measurand=name,
            phase=phase,
            location=measure.location or location,
            unit=measure.unit,
        )

    figure = getattr(reading, measure.figure)
    if measure.phase_figure is None and measure.phases:
        return [one(value, phase) for value, phase in zip(figure, measure.phases)]
    values = [one(figure, None)]
    per_phase = getattr(reading, measure.phase_figure) if measure.phase_figure else None
    if per_phase is not None:
        values += [one(value, phase) for value, phase in zip(per_phase, measure.phases)]
    return values


def _format(name: str, value: float) -> str:
    if _MEASURES[name].unit in (UnitOfMeasure.wh, UnitOfMeasure.percent):
        return str(int(value))  # EVs report whole percents (DIN 70121, ISO 15118 SoC)
    return f"{value:.2f}".rstrip("0").rstrip(".")


def capability_rule(figures: frozenset[str]) -> Callable[[str], str | None]:
    """ChangeConfiguration of a measurand key: refuse what this station's meters cannot give,
    since it would silently vanish from MeterValues. The offered current and power come from
    the EVSE, so every station can give them."""
    available = figures | EVSE_FIGURES

    def check(value: str) -> str | None:
        names = [p.strip() for p in value.split(",") if p.strip()]
        missing = [n for n in names if n not in _MEASURES or _MEASURES[n].figure not in available]
        return f"the meter cannot provide {', '.join(missing)}" if missing else None

    return check
