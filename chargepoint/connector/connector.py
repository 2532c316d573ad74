"""One connector's charging flow: hardware events in, facts changed, transactions out.

The pilot signal and presented idTags drive the flow: cable and idTag in either order lead
to a transaction, the owner's idTag (or one with the same parent), unplugging, or a CSMS
command ends it. Handlers only change facts; the status follows from them (see
`connector.status`). Transactions start on the station's own authority; the CSMS's verdict
in the StartTransaction answer arrives later and is applied when it does (§3.5.3, §5.16).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ocpp.v16.enums import (
    AuthorizationStatus,
    AvailabilityStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    ReadingContext,
    Reason,
    UnlockStatus,
)

from chargepoint.authorization.authorizer import Authorizer, same_id_token
from chargepoint.connector.state import HARDWARE, ConnectorBusy, ConnectorState
from chargepoint.connector.status import ConnectorFacts, ErrorKind, contactor_closed, current_offered, derive_status
from chargepoint.connector.timeout import PreparingTimeout
from chargepoint.infra.clock import Clock
from chargepoint.metering.sampled import TransactionSampler
from chargepoint.metering.values import energy_wh
from chargepoint.metering.watch import MeterWatch
from chargepoint.transactions.lifecycle import Transaction, Transactions
from configkeys import Configuration
from drivers.evse import Evse, PilotState
from drivers.meter import MeterReading

log = logging.getLogger(__name__)

S = ChargePointStatus
SUSPENDING_ERRORS = frozenset({ChargePointErrorCode.ev_communication_error})
EV_CONNECTED = frozenset({S.preparing, S.charging, S.suspended_ev, S.suspended_evse, S.finishing})
LOCK, METER = "lock", "meter"  # error sources besides the bench's HARDWARE

__all__ = ["Connector", "ConnectorBusy"]


class Connector(ConnectorState):
    def __init__(
        self,
        number: int,
        evse: Evse,
        meter: MeterWatch,
        authorizer: Authorizer,
        transactions: Transactions,
        sampler: TransactionSampler,
        config: Configuration,
        clock: Clock,
        max_current: float,
        shares_reader: bool,
        operative: bool,
    ) -> None:
        self.evse = evse
        self.meter = meter
        self.transaction: Transaction | None = None
        self.authorized_id_tag: str | None = None
        self._authorized_parent: str | None = None
        self._station_suspended = False  # energy stopped by the station (invalid idTag, energy cap)
        self._finishing = False
        self._timed_out = False
        self.held_for: str | None = None  # cable kept locked after DeAuthorized, until its owner returns
        self._energy_cap: float | None = None  # MaxEnergyOnInvalidId after an invalid StartTransaction answer
        plugged = evse.pilot in (PilotState.B, PilotState.C)
        super().__init__(number, derive_status(ConnectorFacts(operative=operative, plugged=plugged)), operative)
        self._authorizer = authorizer
        self._transactions = transactions
        self._sampler = sampler
        self._config = config
        self._clock = clock
        self._max_current = max_current
        self._shares_reader = shares_reader
        self._sampling: asyncio.Task[None] | None = None
        self.timeout = PreparingTimeout(self.status, lambda: config.integer("ConnectionTimeOut"), self._timed_out_now)
        self.on_status(self.timeout)
        evse.on_pilot_change(self._pilot_changed)
        meter.on_reading(self._enforce_energy_cap)
        meter.on_health(self._health_changed)

    @property
    def plugged(self) -> bool:
        return self.evse.pilot in (PilotState.B, PilotState.C)

    @property
    def idle(self) -> bool:
        """Free for a new session: no transaction and not out of service."""
        return self.transaction is None and self.status in (S.available, S.preparing)

    def facts(self) -> ConnectorFacts:
        return ConnectorFacts(
            operative=self.operative,
            errors=tuple(self._errors.values()),
            plugged=self.plugged,
            ev_ready=self.evse.pilot is PilotState.C,
            transaction=self.transaction is not None,
            authorized=self.authorized_id_tag is not None,
            suspended_by_station=self._station_suspended,
            finishing=self._finishing,
            timed_out=self._timed_out,
        )

    def _derive(self, facts: ConnectorFacts) -> ChargePointStatus:
        return derive_status(facts)

    def _apply(self, facts: ConnectorFacts) -> None:
        self.evse.set_offered_current(current_offered(facts, self._max_current))
        self.evse.set_contactor(contactor_closed(facts))

    # Hardware events ------------------------------------------------------------------

    def _pilot_changed(self, pilot: PilotState) -> None:
        self.spawn(self._follow_pilot(pilot))

    def _health_changed(self, failure: str | None) -> None:
        self.spawn(self._meter_health(failure))

    async def _follow_pilot(self, pilot: PilotState) -> None:
        async with self.lock:
            self._timed_out = False  # a new cable event is a new chance to identify
            if pilot is PilotState.A:
                await self._unplugged()
                return
            self.show()
            if self.status != S.preparing or self.transaction is not None:
                return
            id_tag = self.authorized_id_tag or self._authorizer.free_vend_id_tag()
            if id_tag is not None:
                await self._start(id_tag)

    async def _unplugged(self) -> None:
        self._finishing = False
        keep_going = not self._config.boolean("StopTransactionOnEVSideDisconnect")
        if self.transaction is not None and keep_going and not self.faulted:
            self.show("EV side disconnected")  # §4.9: the transaction goes on, energy stops
            return
        unlock = self._config.boolean("UnlockConnectorOnEVSideDisconnect")
        if self.transaction is not None:
            await self._stop(Reason.ev_disconnected, None, info="EV side disconnected", keep_locked=not unlock)
        if unlock:
            self.evse.set_lock(False)
            self.held_for = None
        self.authorized_id_tag = None
        self.show()

    async def after_restart(self, resume_for: str | None) -> None:
        """A cable still in after a restart: resume for `resume_for` without asking again, or wait
        for identification within ConnectionTimeOut like any fresh plug-in."""
        async with self.lock:
            if self.status != S.preparing:
                return
            id_tag = resume_for or self._authorizer.free_vend_id_tag()
            if id_tag is not None:
                log.info("connector %d: cable in at start; charging for %s", self.id, id_tag)
                await self._start(id_tag)
            else:
                self.timeout.start()

    async def _meter_health(self, failure: str | None) -> None:
        """PowerMeterFailure is a warning: the connector may still charge, but no figure is trusted."""
        async with self.lock:
            if failure is None:
                self.clear_error(METER)
            else:
                self.raise_error(METER, ChargePointErrorCode.power_meter_failure, failure[:50], ErrorKind.WARNING)

    # Identification ----------------------------------------------------------------------

    async def present(self, id_tag: str) -> str:
        """An idTag at the reader; returns what the station would show the driver.

        Asking the CSMS happens outside the connector's lock: the library reads the answer only
        after the handler of any CSMS request in between has returned, and those take the lock.
        """
        async with self.lock:
            owner = self.transaction
            if owner is None:
                local_answer = self._present_locally(id_tag)
                if local_answer is not None:
                    return local_answer
        if owner is not None:
            if not await self._authorizer.may_stop(owner.id_tag, owner.parent_id_tag, id_tag):
                raise ConnectorBusy(f"connector {self.id} is charging for another idTag")
            async with self.lock:
                if self.transaction is not owner:
                    return f"{id_tag}: the transaction had already ended"
                await self._stop(Reason.local, id_tag)
                return f"transaction stopped by {id_tag}"
        verdict = await self._authorizer.authorize(id_tag)
        if verdict.status != AuthorizationStatus.accepted:
            return f"{id_tag} refused ({verdict.status})"
        async with self.lock:
            if not self.idle:
                return f"{id_tag} accepted, but connector {self.id} is now {self.status}"
            return await self.authorized(id_tag, verdict.parent_id_tag)

    def _present_locally(self, id_tag: str) -> str | None:
        """What needs no authorization; None when the idTag must be authorized."""
        if self.faulted or self.status == S.unavailable:
            raise ConnectorBusy(f"connector {self.id} is {self.status}")
        if self.held_for is not None and same_id_token(id_tag, self.held_for):
            self.held_for = None
            self.evse.set_lock(False)
            return f"{id_tag}: cable unlocked"
        if self.status == S.finishing:
            raise ConnectorBusy(f"connector {self.id} is Finishing: unplug first")
        if self.authorized_id_tag is not None and same_id_token(id_tag, self.authorized_id_tag) and not self.plugged:
            # A second presentation before the cable arrived ends the intended usage (§4.9 B1).
            self._cancel_preparing()
            return f"{id_tag}: session cancelled"
        return None

    async def authorized(self, id_tag: str, parent_id_tag: str | None = None) -> str:
        """An accepted idTag (local card or remote start): start now if the cable is in."""
        self.authorized_id_tag = id_tag
        self._authorized_parent = parent_id_tag
        if not self.plugged:
            self.show()
            return f"{id_tag} accepted: plug in the cable"
        return await self._start(id_tag)

    async def remote_authorized(self, id_tag: str) -> str:
        """RemoteStartTransaction, once authorized: the connector may have been taken meanwhile."""
        async with self.lock:
            if not self.idle:
                return f"connector {self.id} is no longer free"
            return await self.authorized(id_tag)

    async def _timed_out_now(self) -> None:
        async with self.lock:
            if self.status == S.preparing and self.transaction is None:
                log.info("connector %d: ConnectionTimeOut passed without a transaction", self.id)
                self._cancel_preparing()

    def _cancel_preparing(self) -> None:
        self.authorized_id_tag = None
        # Errata 3.20 (B6): with several connectors on one reader a cable left in goes to
        # Finishing, so the next card cannot start on it by accident.
        if self.plugged:
            self._finishing = self._shares_reader
            self._timed_out = not self._shares_reader
        self.show()

    # Transactions ----------------------------------------------------------------------

    async def _start(self, id_tag: str) -> str:
        self.authorized_id_tag = None
        if not self.evse.tethered and not self.evse.set_lock(True):
            self.raise_error(LOCK, ChargePointErrorCode.connector_lock_failure, "socket lock did not close", ErrorKind.FAULT)
            return "transaction not started: the socket lock failed"
        reading = await self._reading()
        if reading is None:
            self.evse.set_lock(False)
            self.show()
            return "transaction not started: the meter has never been read"
        self.transaction = self._transactions.begin(self.id, id_tag, energy_wh(reading), self._stamp(reading))
        self.transaction.data_values = self._sampler.values(
            reading, "StopTxnSampledData", ReadingContext.transaction_begin, float(energy_wh(reading))
        )
        self.transaction.parent_id_tag = self._authorized_parent
        self._authorized_parent = None
        self._energy_cap = None
        self._station_suspended = False
        self._finishing = False
        self.show()
        self._sampling = self.spawn(self._sampler.run(self.transaction, self.meter))
        return "transaction started"

    async def stop(self, reason: Reason, id_tag: str | None = None) -> None:
        """Stop on a command (remote stop, unlock, reset); no-op without a transaction."""
        async with self.lock:
            if self.transaction is not None:
                await self._stop(reason, id_tag)

    async def _stop(self, reason: Reason, id_tag: str | None, info: str | None = None, keep_locked: bool = False) -> None:
        assert self.transaction is not None
        self.evse.set_contactor(False)  # before the final reading: the energy it shows is final
        self.evse.set_offered_current(0)
        reading = await self._reading()
        transaction, self.transaction = self.transaction, None
        if self._sampling is not None:
            self._sampling.cancel()
        if reading is None:
            meter_stop = transaction.last_meter_wh if transaction.last_meter_wh is not None else transaction.meter_start
            stopped_at, end_values = self._clock.timestamp(), []
        else:
            meter_stop, stopped_at = energy_wh(reading), self._stamp(reading)
            end_values = self._sampler.values(
                reading, "StopTxnSampledData", ReadingContext.transaction_end, float(transaction.meter_start)
            )
        self._transactions.end(transaction, meter_stop, stopped_at, reason, id_tag, end_values)
        self._finishing = self.plugged
        self._station_suspended = False
        self.show(info)
        if keep_locked:
            self.held_for = transaction.id_tag  # until its owner comes back (or UnlockConnector)
        else:
            self.evse.set_lock(False)

    async def _reading(self) -> MeterReading | None:
        """A fresh reading, else the last good one: meterStart/meterStop must come from a real
        reading, and a stale one keeps its own time (see _stamp)."""
        if self.meter.failure is not None:
            return self.meter.latest  # a silent meter would hold the connector for seconds
        try:
            return await self.meter.read()
        except Exception as exc:
            log.error("connector %d: meter unreadable (%s); using the last good reading", self.id, exc)
            return self.meter.latest

    def _stamp(self, reading: MeterReading) -> str:
        return self._sampler.stamp(reading)

    async def start_answered(self, local_id: int, transaction_id: int, id_tag_info: dict[str, Any]) -> None:
        """The CSMS's verdict on a transaction already running (§5.16, StopTransactionOnInvalidId)."""
        async with self.lock:
            transaction = self.transaction
            if transaction is None or transaction.local_id != local_id:
                return  # already over; the StopTransaction carries the id from the database
            transaction.transaction_id = transaction_id
            transaction.parent_id_tag = id_tag_info.get("parent_id_tag") or transaction.parent_id_tag
            status = id_tag_info.get("status")
            if status == AuthorizationStatus.accepted:
                return
            log.warning("connector %d: CSMS answered %s for transaction %d", self.id, status, transaction_id)
            if self._config.boolean("StopTransactionOnInvalidId"):
                await self._stop(Reason.de_authorized, None, keep_locked=True)
                return
            budget = self._config.integer("MaxEnergyOnInvalidId") if self._config.has("MaxEnergyOnInvalidId") else 0
            self._energy_cap = (self.meter.latest.energy_wh if self.meter.latest else transaction.meter_start) + budget
            if budget <= 0:
                self._suspend_by_station("idTag not accepted by the CSMS")

    def _enforce_energy_cap(self, reading: MeterReading) -> None:
        if self._energy_cap is not None and self.transaction is not None and reading.energy_wh >= self._energy_cap:
            self._energy_cap = None
            self.spawn(self._suspend_locked("MaxEnergyOnInvalidId reached"))

    async def _suspend_locked(self, info: str) -> None:
        async with self.lock:
            if self.transaction is not None:
                self._suspend_by_station(info)

    def _suspend_by_station(self, info: str) -> None:
        self._station_suspended = True
        self.show(info)

    # CSMS and bench commands -------------------------------------------------------------

    async def unlock(self) -> UnlockStatus:
        """UnlockConnector (§5.18): a running transaction is stopped first (reason UnlockCommand)."""
        async with self.lock:
            if self.transaction is not None:
                await self._stop(Reason.unlock_command, None)
            self.held_for = None
            if self.evse.set_lock(False):
                return UnlockStatus.unlocked
            self.raise_error(LOCK, ChargePointErrorCode.connector_lock_failure, "lock did not open", ErrorKind.FAULT)
            return UnlockStatus.unlock_failed

    async def change_operative(self, operative: bool) -> AvailabilityStatus:
        """ChangeAvailability (§5.2): Scheduled while a transaction runs, applied when it ends."""
        async with self.lock:
            self.operative = operative
            if self.transaction is not None and not operative:
                return AvailabilityStatus.scheduled
            self._timed_out = False
            if not operative:
                self.authorized_id_tag = None  # an intended usage cannot outlive the connector's service
            self.show()
            return AvailabilityStatus.accepted

    async def fault(self, code: ChargePointErrorCode, info: str | None) -> None:
        """A hardware error; EVCommunicationError is a warning (§4.9), the rest stop charging."""
        async with self.lock:
            if code not in SUSPENDING_ERRORS:
                self.raise_error(HARDWARE, code, info, ErrorKind.FAULT)
            elif self.status in EV_CONNECTED:
                self.raise_error(HARDWARE, code, info, ErrorKind.SUSPENDS)
            else:
                raise ConnectorBusy(f"{code} applies only while an EV is connected (connector {self.id} is {self.status})")

    async def clear_fault(self) -> None:
        async with self.lock:
            self.clear_error(HARDWARE, LOCK)
