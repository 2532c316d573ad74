"""Meter polling and MeterValues (spec §3.16, §9.1 MeterValue* / StopTxn* keys, §7.31 SampledValue).

Each connector's meter is polled about once a second so `status` and the transaction
messages always have a recent reading. A meter that stops answering, or answers something
that cannot be true, puts the connector in PowerMeterFailure and no sample is sent as fresh
until it reads well again. MeterValues carry one sampledValue per configured measurand and per
phase the meter has; an empty MeterValuesSampledData means the energy register (WEMOB §4.3.17).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from ocpp.charge_point import remove_nones
from ocpp.v16.datatypes import MeterValue, SampledValue
from ocpp.v16.enums import Location, Measurand, Phase, ReadingContext, UnitOfMeasure, ValueFormat

from chargepoint.clock import Clock
from chargepoint.transactions import Transaction, Transactions
from configkeys import Configuration
from drivers.meter import ALL_FIGURES, Meter, MeterError, MeterReading

log = logging.getLogger(__name__)

POLL_INTERVAL = 1.0
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


_MEASURES: dict[str, _Measure] = {
    Measurand.energy_active_import_register: _Measure("energy_wh", UnitOfMeasure.wh),
    Measurand.energy_active_export_register: _Measure("export_energy_wh", UnitOfMeasure.wh),
    Measurand.energy_active_import_interval: _Measure("energy_wh", UnitOfMeasure.wh),
    Measurand.power_active_import: _Measure("power_w", UnitOfMeasure.w, _PHASES, "phase_power_w"),
    Measurand.voltage: _Measure("voltage_v", UnitOfMeasure.v, _PHASES_TO_NEUTRAL),
    Measurand.current_import: _Measure("current_a", UnitOfMeasure.a, _PHASES),
    Measurand.frequency: _Measure("frequency_hz", None),
    Measurand.power_factor: _Measure("power_factor", None),
}


def energy_wh(reading: MeterReading) -> int:
    """Energy as the integer Wh that Start/StopTransaction carry, and the register in MeterValues:
    a sample rounded up must never exceed the meterStop that follows it."""
    return int(reading.energy_wh + 1e-6)  # float32 kWh: 2.3 kWh must not floor to 2299 Wh


class MeterWatch:
    """Keeps the latest good reading of one meter and tells listeners when the meter fails."""

    def __init__(self, meter: Meter, figures: frozenset[str] = ALL_FIGURES) -> None:
        self._meter = meter
        self.figures = figures
        self.latest: MeterReading | None = None
        self.failure: str | None = None
        self._listeners: list[Callable[[MeterReading], None]] = []
        self._health: list[Callable[[str | None], None]] = []

    def on_reading(self, listener: Callable[[MeterReading], None]) -> None:
        self._listeners.append(listener)

    def on_health(self, listener: Callable[[str | None], None]) -> None:
        """listener(reason) when the meter starts failing, listener(None) when it recovers."""
        self._health.append(listener)

    async def read(self) -> MeterReading:
        """A fresh reading; MeterError while the meter fails."""
        try:
            reading = await self._meter.read()
        except MeterError as exc:
            self._set_failure(str(exc) or type(exc).__name__)
            raise
        self._set_failure(None)
        self.latest = reading
        for listener in self._listeners:
            listener(reading)
        return reading

    def _set_failure(self, reason: str | None) -> None:
        if (reason is None) == (self.failure is None):
            return
        self.failure = reason
        if reason is not None:
            log.error("meter failure: %s", reason)
        else:
            log.info("meter reads again")
        for listener in self._health:
            listener(reason)

    async def run(self) -> None:
        """Poll for the life of the station; a failing meter must not take the station down."""
        try:
            while True:
                try:
                    await self.read()
                except MeterError:
                    pass  # reported through on_health
                except Exception as exc:
                    log.error("meter read failed: %r", exc)
                await asyncio.sleep(POLL_INTERVAL)
        finally:
            await self._meter.close()


class MeterValueBuilder:
    """Readings into OCPP MeterValue objects, for the measurands a key names."""

    def __init__(self, config: Configuration, clock: Clock) -> None:
        self._config = config
        self._clock = clock

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
        return remove_nones(asdict(meter_value))  # type: ignore[return-value]


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
            location=location,
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
    if _MEASURES[name].unit is UnitOfMeasure.wh:
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def capability_rule(figures: frozenset[str]) -> Callable[[str], str | None]:
    """ChangeConfiguration of a measurand key: refuse what this station's meters cannot give,
    since it would silently vanish from MeterValues."""

    def check(value: str) -> str | None:
        names = [p.strip() for p in value.split(",") if p.strip()]
        missing = [n for n in names if n not in _MEASURES or _MEASURES[n].figure not in figures]
        return f"the meter cannot provide {', '.join(missing)}" if missing else None

    return check


class TransactionSampler:
    """MeterValues of a running transaction every MeterValueSampleInterval seconds."""

    def __init__(self, transactions: Transactions, config: Configuration, builder: MeterValueBuilder) -> None:
        self._transactions = transactions
        self._config = config
        self._builder = builder
        config.subscribe("MeterValueSampleInterval", self._interval_changed)
        self._wakeups: set[asyncio.Event] = set()

    def stamp(self, reading: MeterReading) -> str:
        return self._builder.stamp(reading)

    def values(
        self, reading: MeterReading, key: str, context: ReadingContext, interval_start_wh: float
    ) -> list[dict[str, Any]]:
        """Transaction.Begin / Transaction.End values for StopTransaction's transactionData."""
        value = self._builder.build(reading, key, context, interval_start_wh)
        return [value] if value is not None else []

    def _interval_changed(self, _: str) -> None:
        """A new interval times the next sample from now, not after the old interval ran out."""
        for wakeup in self._wakeups:
            wakeup.set()

    async def run(self, transaction: Transaction, watch: MeterWatch) -> None:
        wakeup = asyncio.Event()
        self._wakeups.add(wakeup)
        previous = float(transaction.meter_start)
        try:
            while True:
                await self._wait_interval(wakeup)
                try:
                    reading = await watch.read()
                except Exception as exc:  # no sample is sent as fresh while the meter fails
                    log.error("connector %d: no sample, meter read failed: %s", transaction.connector, exc)
                    continue
                sample = self._builder.build(
                    reading, "MeterValuesSampledData", ReadingContext.sample_periodic, interval_start_wh=previous
                )
                kept = self._builder.build(
                    reading, "StopTxnSampledData", ReadingContext.sample_periodic, interval_start_wh=previous
                )
                previous = reading.energy_wh
                if kept is not None:
                    transaction.data_values.append(kept)
                if sample is not None:
                    self._transactions.sample(transaction, energy_wh(reading), self._builder.stamp(reading), sample)
        finally:
            self._wakeups.discard(wakeup)

    async def _wait_interval(self, wakeup: asyncio.Event) -> None:
        """Sleep one MeterValueSampleInterval (0: no samples), starting over when it changes."""
        while True:
            wakeup.clear()
            interval = self._config.integer("MeterValueSampleInterval")
            try:
                await asyncio.wait_for(wakeup.wait(), timeout=interval if interval > 0 else None)
            except TimeoutError:
                return


# connector id, its meter, and its transaction now (asked after each meter read: it may end meanwhile)
Metered = tuple[int, MeterWatch, Callable[[], Transaction | None]]


class ClockAlignedSampler:
    """MeterValues on the ClockAlignedDataInterval grid, counted from midnight UTC (WEMOB: GMT 0).

    Every connector reports, in a transaction or not, and connector 0 reports the station as a
    whole (the sum of the connectors' meters). Values of a running transaction go through the
    durable queue, and into its StopTxnAlignedData; the others are sent if the link is up.
    """

    def __init__(
        self,
        config: Configuration,
        clock: Clock,
        builder: MeterValueBuilder,
        transactions: Transactions,
        send: Callable[[int, dict[str, Any]], None],
        metered: Callable[[], list[Metered]],
    ) -> None:
        self._config = config
        self._clock = clock
        self._builder = builder
        self._transactions = transactions
        self._send = send
        self._metered = metered
        self._changed = asyncio.Event()
        self._previous_wh: dict[int, float] = {}  # for Energy.Active.Import.Interval
        config.subscribe("ClockAlignedDataInterval", lambda _: self._changed.set())

    async def run(self) -> None:
        while True:
            self._changed.clear()
            interval = self._config.integer("ClockAlignedDataInterval")
            delay = seconds_to_next_tick(self._clock.now(), interval) if interval > 0 else None
            try:
                await asyncio.wait_for(self._changed.wait(), delay)
                continue  # a new interval: a new grid
            except TimeoutError:
                pass
            await self.tick(self._clock.timestamp_at_tick(interval))

    async def tick(self, timestamp: str) -> None:
        station_energy = station_power = 0.0
        fresh = True
        for connector_id, watch, transaction_now in self._metered():
            try:
                reading = await watch.read()
            except Exception as exc:
                log.error("connector %d: no clock-aligned value, meter read failed: %s", connector_id, exc)
                fresh = False
                continue
            station_energy += reading.energy_wh
            station_power += reading.power_w
            self._report(connector_id, reading, transaction_now(), timestamp)
        if fresh:
            total = MeterReading(station_energy, station_power, datetime.now(timezone.utc))
            self._report(0, total, None, timestamp)

    def _report(self, connector_id: int, reading: MeterReading, transaction: Transaction | None, timestamp: str) -> None:
        previous = self._previous_wh.get(connector_id)
        self._previous_wh[connector_id] = reading.energy_wh
        # Connector 0 is the station's grid connection: its values are measured at the Inlet.
        location = Location.inlet if connector_id == 0 else Location.outlet
        value = self._builder.build(
            reading, "MeterValuesAlignedData", ReadingContext.sample_clock, previous, timestamp, location
        )
        if transaction is None:
            if value is not None:
                self._send(connector_id, value)
            return
        if value is not None:
            self._transactions.sample(transaction, energy_wh(reading), timestamp, value)
        kept = self._builder.build(reading, "StopTxnAlignedData", ReadingContext.sample_clock, previous, timestamp)
        if kept is not None:
            transaction.data_values.append(kept)


def seconds_to_next_tick(now: datetime, interval: int) -> float:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = (now - midnight).total_seconds()
    return interval - elapsed % interval
