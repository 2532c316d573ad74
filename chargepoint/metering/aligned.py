"""Clock-aligned MeterValues (context Sample.Clock) for every connector and the station."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Protocol

from ocpp.v16 import call
from ocpp.v16.enums import Location, ReadingContext

from chargepoint.infra.clock import Clock
from chargepoint.link.outbox import Outbox, post
from chargepoint.metering.values import MeterValueBuilder, energy_wh
from chargepoint.metering.watch import MeterWatch
from chargepoint.transactions.lifecycle import Transaction, Transactions
from configkeys import Configuration
from drivers.meter import MeterReading

log = logging.getLogger(__name__)


class Metered(Protocol):
    """A connector as this sampler sees it; its transaction is asked after each meter read."""

    @property
    def id(self) -> int: ...

    @property
    def meter(self) -> MeterWatch: ...

    @property
    def transaction(self) -> Transaction | None: ...


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
        outbox: Outbox,
        metered: Sequence[Metered],
    ) -> None:
        self._config = config
        self._clock = clock
        self._builder = builder
        self._transactions = transactions
        self._outbox = outbox
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
        for connector in self._metered:
            try:
                reading = await connector.meter.read()
            except Exception as exc:
                log.error("connector %d: no clock-aligned value, meter read failed: %s", connector.id, exc)
                fresh = False
                continue
            station_energy += reading.energy_wh
            station_power += reading.power_w
            self._report(connector.id, reading, connector.transaction, timestamp)
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
            if value is not None:  # not queued: stale values outside a transaction mislead more than help
                meter_values = call.MeterValues(connector_id=connector_id, meter_value=[value])
                post(self._outbox, meter_values, f"connector {connector_id}: clock-aligned MeterValues")
            return
        kept = self._builder.build(reading, "StopTxnAlignedData", ReadingContext.sample_clock, previous, timestamp)
        self._builder.sign([value, kept], transaction.connector, transaction.id_tag, reading, ReadingContext.sample_clock)
        if value is not None:
            self._transactions.sample(transaction, energy_wh(reading), timestamp, value)
        if kept is not None:
            transaction.data_values.append(kept)


def seconds_to_next_tick(now: datetime, interval: int) -> float:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = (now - midnight).total_seconds()
    return interval - elapsed % interval
