"""Meter polling and transaction MeterValues (spec §3.16, §9.1 MeterValueSampleInterval).

Each connector's meter is polled about once a second so `status` and the transaction
messages always have a recent reading; MeterValues carry the measurands named in
MeterValuesSampledData, or the energy register when that key is empty (WEMOB §4.3.17).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from collections.abc import Callable

from ocpp.charge_point import remove_nones
from ocpp.v16.datatypes import MeterValue, SampledValue
from ocpp.v16.enums import Measurand, ReadingContext, UnitOfMeasure

from chargepoint.clock import Clock
from chargepoint.transactions import Transaction, Transactions
from configkeys import Configuration
from drivers.meter import Meter, MeterReading

log = logging.getLogger(__name__)

POLL_INTERVAL = 1.0
DEFAULT_MEASURAND = Measurand.energy_active_import_register

# Measurands the meter interface provides today, as (unit, value from a reading).
_MEASURANDS: dict[str, tuple[UnitOfMeasure, Callable[[MeterReading], float]]] = {
    # Whole Wh, as meterStart/meterStop carry it: a rounded-up sample must never exceed meterStop.
    Measurand.energy_active_import_register: (UnitOfMeasure.wh, lambda r: float(energy_wh(r))),
    Measurand.power_active_import: (UnitOfMeasure.w, lambda r: r.power_w),
}


class MeterWatch:
    """Keeps the latest reading of one meter."""

    def __init__(self, meter: Meter) -> None:
        self._meter = meter
        self.latest: MeterReading | None = None
        self._listeners: list[Callable[[MeterReading], None]] = []

    def on_reading(self, listener: Callable[[MeterReading], None]) -> None:
        self._listeners.append(listener)

    async def read(self) -> MeterReading:
        self.latest = await self._meter.read()
        for listener in self._listeners:
            listener(self.latest)
        return self.latest

    async def run(self) -> None:
        """Poll for the life of the station; a failing meter must not take the station down."""
        try:
            while True:
                try:
                    await self.read()
                except Exception as exc:
                    log.error("meter read failed: %r", exc)
                await asyncio.sleep(POLL_INTERVAL)
        finally:
            await self._meter.close()


def energy_wh(reading: MeterReading) -> int:
    """Energy as the integer Wh that Start/StopTransaction carry."""
    return int(reading.energy_wh)


class TransactionSampler:
    """Takes MeterValues of a running transaction every MeterValueSampleInterval seconds."""

    def __init__(self, transactions: Transactions, config: Configuration, clock: Clock) -> None:
        self._transactions = transactions
        self._config = config
        self._clock = clock
        config.add_validator("MeterValuesSampledData", _unsupported_measurands)
        config.subscribe("MeterValueSampleInterval", self._interval_changed)
        self._wakeups: set[asyncio.Event] = set()

    def _interval_changed(self, _: str) -> None:
        """A new interval times the next sample from now, not after the old interval ran out."""
        for wakeup in self._wakeups:
            wakeup.set()

    async def run(self, transaction: Transaction, watch: MeterWatch) -> None:
        wakeup = asyncio.Event()
        self._wakeups.add(wakeup)
        try:
            while True:
                await self._wait_interval(wakeup)
                try:
                    reading = await watch.read()
                except Exception as exc:  # one failed read costs one sample, not the rest
                    log.error("connector %d: no sample, meter read failed: %r", transaction.connector, exc)
                    continue
                timestamp = self._clock.timestamp()
                sample = self.meter_value(reading, ReadingContext.sample_periodic, timestamp)
                self._transactions.sample(transaction, energy_wh(reading), timestamp, remove_nones(asdict(sample)))
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

    def meter_value(self, reading: MeterReading, context: ReadingContext, timestamp: str) -> MeterValue:
        measurands = self._config.csl("MeterValuesSampledData") or [DEFAULT_MEASURAND]
        values = [
            SampledValue(value=_format(read(reading)), context=context, measurand=name, unit=unit)
            for name, (unit, read) in ((m, _MEASURANDS[m]) for m in measurands if m in _MEASURANDS)
        ]
        return MeterValue(timestamp=timestamp, sampled_value=values)


def _format(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _unsupported_measurands(value: str) -> str | None:
    """A measurand the meter cannot give would silently vanish from MeterValues: refuse it."""
    missing = [m for m in filter(None, (p.strip() for p in value.split(","))) if m not in _MEASURANDS]
    return f"the meter cannot provide {', '.join(missing)}" if missing else None
