"""MeterValues of a running transaction (context Sample.Periodic), through the durable queue,
and the readings that begin and end it.

Signed (setting signed_meter_values), the begin reading travels in a MeterValues of its own,
context Transaction.Begin: StartTransaction.req has only meterStart, and OCMF ("Embedding in
OCPP") has the controller send the signed start and end beside the plain values. The end
reading goes in StopTransaction's transactionData (Transaction.End) when StopTxnSampledData
puts the register there, else in a MeterValues just before it (errata 3.14.5: both StopTxn keys
empty means no transactionData at all).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from ocpp.v16.enums import ReadingContext, Reason

from chargepoint.metering.values import DEFAULT_MEASURAND, MeterValueBuilder, energy_wh, has_register
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

    def begin(self, transaction: Transaction, reading: MeterReading) -> None:
        """The Transaction.Begin values: kept for transactionData, and signed (see above)."""
        context = ReadingContext.transaction_begin
        kept = self._builder.build(reading, "StopTxnSampledData", context, float(energy_wh(reading)))
        alone = self._builder.of(reading, [DEFAULT_MEASURAND], context) if self._builder.signer else None
        self._builder.sign([kept, alone], transaction.connector, transaction.id_tag, reading, context)
        transaction.data_values = [kept] if kept is not None else []
        if alone is not None:
            self._transactions.sample(transaction, energy_wh(reading), alone["timestamp"], alone)

    def end(self, transaction: Transaction, reading: MeterReading, reason: Reason) -> list[dict[str, Any]]:
        """The Transaction.End values for StopTransaction's transactionData."""
        context = ReadingContext.transaction_end
        kept = self._builder.build(reading, "StopTxnSampledData", context, float(transaction.meter_start))
        self._sign_end(transaction, reading, reason, kept)
        return [kept] if kept is not None else []

    def interrupted(self, transaction: Transaction, reason: Reason) -> list[dict[str, Any]]:
        """Transaction.End values of a transaction a power cut ended: signed, the last stored
        reading at its own time, the one its StopTransaction bills (`close_interrupted`)."""
        if self._builder.signer is None:
            return []
        energy, timestamp = transaction.last_stored_wh, transaction.last_stored_at
        taken_at = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        reading = MeterReading(float(energy), 0.0, taken_at)
        kept = None
        if DEFAULT_MEASURAND in self._config.csl("StopTxnSampledData"):
            kept = self._builder.of(reading, [DEFAULT_MEASURAND], ReadingContext.transaction_end, timestamp=timestamp)
        self._sign_end(transaction, reading, reason, kept, timestamp)
        return [kept] if kept is not None else []

    def _sign_end(
        self,
        transaction: Transaction,
        reading: MeterReading,
        reason: Reason,
        kept: dict[str, Any] | None,
        timestamp: str | None = None,
    ) -> None:
        if self._builder.signer is None:
            return
        context = ReadingContext.transaction_end
        alone = None
        if kept is None or not has_register(kept):
            alone = self._builder.of(reading, [DEFAULT_MEASURAND], context, timestamp=timestamp)
        self._builder.sign([kept, alone], transaction.connector, transaction.id_tag, reading, context, reason)
        if alone is not None:
            self._transactions.sample(transaction, energy_wh(reading), alone["timestamp"], alone)

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
                self._builder.sign(
                    [sample, kept], transaction.connector, transaction.id_tag, reading, ReadingContext.sample_periodic
                )
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
