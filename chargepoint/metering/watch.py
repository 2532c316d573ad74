"""Meter polling: the latest reading of one connector's meter, and whether it can be trusted.

Each connector's meter is polled about once a second so `status` and the transaction
messages always have a recent reading. A meter that stops answering, or answers something
that cannot be true, puts the connector in PowerMeterFailure and no sample is sent as fresh
until it reads well again. A meter is not trusted before its first good reading either: a
missing serial meter takes seconds to time out, and a plug-in meanwhile must not be reported
as if the meter were fine.

A meter that is gone fails at every poll; its log lines are rate-limited (`infra.repeats`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace

from chargepoint.infra.repeats import RepeatingFailure
from drivers.meter import ALL_FIGURES, Meter, MeterError, MeterReading

NOMINAL_VOLTAGE = 230.0

log = logging.getLogger(__name__)

POLL_INTERVAL = 1.0
NOT_READ_YET = "meter not read yet"


class MeterWatch:
    """Keeps the latest good reading of one meter and tells listeners when the meter fails."""

    def __init__(self, meter: Meter, figures: frozenset[str] = ALL_FIGURES, name: str = "meter") -> None:
        self._meter = meter
        self.figures = figures
        self.name = name  # in its log lines, e.g. "connector 2 meter"
        self.latest: MeterReading | None = None
        self.failure: str | None = NOT_READ_YET
        self._repeats = RepeatingFailure()
        self._listeners: list[Callable[[MeterReading], None]] = []
        self._health: list[Callable[[str | None], None]] = []
        self.offer: Callable[[], float] | None = None  # the EVSE's offered current, for Current.Offered

    def _with_offer(self, reading: MeterReading) -> MeterReading:
        """Current.Offered and Power.Offered (§7.31): the offer at the reading's time, in watts
        at the phase voltages measured (230 V on three phases when the meter gives none)."""
        if self.offer is None:
            return reading
        amps = self.offer()
        volts = sum(reading.voltage_v) if reading.voltage_v else NOMINAL_VOLTAGE * 3
        return replace(reading, offered_current_a=amps, offered_power_w=amps * volts)

    def on_reading(self, listener: Callable[[MeterReading], None]) -> None:
        self._listeners.append(listener)

    def on_health(self, listener: Callable[[str | None], None]) -> None:
        """listener(reason) when the meter starts failing, listener(None) when it reads well
        (the first time, or again); `failure` holds the reason meanwhile."""
        self._health.append(listener)

    @property
    def failing(self) -> bool:
        """A read failed and none has succeeded since (not merely: none has been made yet)."""
        return self.failure not in (None, NOT_READ_YET)

    async def read(self) -> MeterReading:
        """A fresh reading; MeterError while the meter fails."""
        try:
            reading = await self._meter.read()
        except MeterError as exc:
            self._set_failure(str(exc) or type(exc).__name__)
            raise
        self._set_failure(None)
        reading = self._with_offer(reading)
        self.latest = reading
        for listener in self._listeners:
            listener(reading)
        return reading

    def _set_failure(self, reason: str | None) -> None:
        now = time.monotonic()
        if reason is not None and (line := self._repeats.failed(now, reason)) is not None:
            log.error("%s failure: %s", self.name, line)
        elif reason is None and (line := self._repeats.recovered(now)) is not None:
            log.info("%s reads again, %s", self.name, line)
        if reason == self.failure or (self.failing and reason is not None):
            return  # the same run of failures: the first reason stands
        self.failure = reason
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
