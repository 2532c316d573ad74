"""One connector's transaction: started on the station's own authority, stopped by whoever
may, and judged later by the CSMS's StartTransaction answer (§3.5.3, §5.16,
StopTransactionOnInvalidId, MaxEnergyOnInvalidId).

The transaction and the station's own suspension are facts of the connector; every change
ends in `show()`, so the status follows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ocpp.v16.enums import AuthorizationStatus, ChargePointErrorCode, Reason

from chargepoint.connector.state import ConnectorState
from chargepoint.connector.status import ErrorKind
from chargepoint.infra.clock import Clock
from chargepoint.metering.sampled import TransactionSampler
from chargepoint.metering.values import energy_wh
from chargepoint.metering.watch import MeterWatch
from chargepoint.transactions.lifecycle import Transaction, Transactions
from configkeys import Configuration
from drivers.evse import Evse, PilotState
from drivers.meter import MeterReading

log = logging.getLogger(__name__)

LOCK = "lock"  # the error source of a socket lock that failed


class Refused(str):
    """What the station shows a driver it turns away: still the text, typed so the bench
    command that presented the idTag can fail with it."""


class Charging:
    def __init__(
        self,
        state: ConnectorState,
        evse: Evse,
        meter: MeterWatch,
        transactions: Transactions,
        sampler: TransactionSampler,
        config: Configuration,
        clock: Clock,
        ended: Callable[[bool], None],
    ) -> None:
        self._state = state
        self._evse = evse
        self._meter = meter
        self._transactions = transactions
        self._sampler = sampler
        self._config = config
        self._clock = clock
        self._ended = ended  # ended(cable_in), before the status is shown
        self.transaction: Transaction | None = None
        self.suspended_by_station = False  # invalid idTag answer, or MaxEnergyOnInvalidId reached
        self.held_for: str | None = None  # cable kept locked after DeAuthorized, until its owner returns
        self._energy_cap: float | None = None
        self._sampling: asyncio.Task[None] | None = None
        meter.on_reading(self._enforce_energy_cap)

    async def start(self, id_tag: str, parent_id_tag: str | None, reservation_id: int | None = None) -> str:
        """Under the connector's lock; returns what the driver is shown. `reservation_id`: the
        reservation this transaction ends (§5.13), told to the CSMS in StartTransaction.req."""
        if not self._evse.tethered and not self._evse.set_lock(True):
            self._state.raise_error(LOCK, ChargePointErrorCode.connector_lock_failure, "socket lock did not close", ErrorKind.FAULT)
            return Refused("transaction not started: the socket lock failed")
        reading = await self._reading()
        if reading is None:
            self._evse.set_lock(False)
            self._state.show()
            return Refused("transaction not started: the meter has never been read")
        transaction = self._transactions.begin(
            self._state.id, id_tag, energy_wh(reading), self._sampler.stamp(reading), reservation_id
        )
        self._sampler.begin(transaction, reading)
        transaction.parent_id_tag = parent_id_tag
        self.transaction, self._energy_cap, self.suspended_by_station = transaction, None, False
        self._state.show()
        self._sampling = self._state.spawn(self._sampler.run(transaction, self._meter))
        return "transaction started"

    async def stop(self, reason: Reason, id_tag: str | None = None) -> None:
        """Stop on a command (remote stop, unlock, reset); no-op without a transaction."""
        async with self._state.lock:
            if self.transaction is not None:
                await self.end(reason, id_tag)

    async def end(self, reason: Reason, id_tag: str | None, info: str | None = None, keep_locked: bool = False) -> None:
        """Under the connector's lock, with a transaction running. `keep_locked` holds the
        cable for the transaction's owner (their idTag, or UnlockConnector, frees it)."""
        assert self.transaction is not None
        self._evse.set_contactor(False)  # before the final reading: the energy it shows is final
        self._evse.set_offered_current(0)
        reading = await self._reading()
        transaction, self.transaction = self.transaction, None
        if self._sampling is not None:
            self._sampling.cancel()
        if reading is None:
            meter_stop = transaction.last_stored_wh
            stopped_at, end_values = self._clock.timestamp(), []
        else:
            meter_stop, stopped_at = energy_wh(reading), self._sampler.stamp(reading)
            end_values = self._sampler.end(transaction, reading, reason)
        self._transactions.end(transaction, meter_stop, stopped_at, reason, id_tag, end_values)
        self.suspended_by_station = False
        self._ended(self._evse.pilot in (PilotState.B, PilotState.C))
        self._state.show(info)
        if keep_locked:
            self.held_for = transaction.id_tag
        else:
            self._evse.set_lock(False)

    async def _reading(self) -> MeterReading | None:
        """A fresh reading, else the last good one: meterStart/meterStop must come from a real
        reading, and a stale one keeps its own time."""
        if self._meter.failing:
            return self._meter.latest  # a silent meter would hold the connector for seconds
        try:
            return await self._meter.read()
        except Exception as exc:
            log.error("connector %d: meter unreadable (%s); using the last good reading", self._state.id, exc)
            return self._meter.latest

    async def start_answered(self, local_id: int, transaction_id: int, id_tag_info: dict[str, Any]) -> None:
        """The CSMS's verdict on a transaction already running."""
        async with self._state.lock:
            transaction = self.transaction
            if transaction is None or transaction.local_id != local_id:
                return  # already over; the StopTransaction carries the id from the database
            transaction.transaction_id = transaction_id
            transaction.parent_id_tag = id_tag_info.get("parent_id_tag") or transaction.parent_id_tag
            status = id_tag_info.get("status")
            if status == AuthorizationStatus.accepted:
                return
            log.warning("connector %d: CSMS answered %s for transaction %d", self._state.id, status, transaction_id)
            if self._config.boolean("StopTransactionOnInvalidId"):
                await self.end(Reason.de_authorized, None, keep_locked=True)
                return
            budget = self._config.integer("MaxEnergyOnInvalidId") if self._config.has("MaxEnergyOnInvalidId") else 0
            self._energy_cap = (self._meter.latest.energy_wh if self._meter.latest else transaction.meter_start) + budget
            if budget <= 0:
                self._suspend("idTag not accepted by the CSMS")

    def _enforce_energy_cap(self, reading: MeterReading) -> None:
        if self._energy_cap is not None and self.transaction is not None and reading.energy_wh >= self._energy_cap:
            self._energy_cap = None
            self._state.spawn(self._suspend_locked("MaxEnergyOnInvalidId reached"))

    async def _suspend_locked(self, info: str) -> None:
        async with self._state.lock:
            if self.transaction is not None:
                self._suspend(info)

    def _suspend(self, info: str) -> None:
        self.suspended_by_station = True
        self._state.show(info)
