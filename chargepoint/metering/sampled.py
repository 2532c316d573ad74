"""MeterValues of a running transaction (context Sample.Periodic), through the durable queue."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ocpp.v16.enums import ReadingContext

from chargepoint.metering.values import MeterValueBuilder, energy_wh
from chargepoint.metering.watch import MeterWatch
from chargepoint.transactions.lifecycle import Transaction, Transactions
from configkeys import Configuration
from drivers.meter import MeterError, MeterReading

log = logging.getLogger(__name__)


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
                except MeterError:
                    continue  # no sample is sent as fresh while the meter fails; the watch logs it
                except Exception as exc:
                    log.error("connector %d: no sample, meter read failed: %r", transaction.connector, exc)
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
