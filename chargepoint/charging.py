"""One connector's charging flow: hardware events in, status changes and transactions out.

The pilot signal and presented idTags drive the connector through the §4.9 machine: cable
and idTag in either order lead to a transaction, the EV's requests switch between Charging
and SuspendedEV, and the owner's idTag (or one with the same parent), unplugging, or a CSMS
command ends it. Transactions start on the station's own authority; the CSMS's verdict in
the StartTransaction answer arrives later and is applied when it does (§3.5.3, §5.16).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from ocpp.v16.enums import (
    AuthorizationStatus,
    ReadingContext,
    AvailabilityStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    Reason,
    UnlockStatus,
)

from chargepoint.authorization import Authorizer, same_id_token
from chargepoint.clock import Clock
from chargepoint.connector import ConnectorStatus
from chargepoint.metering import MeterWatch, TransactionSampler, energy_wh
from chargepoint.transactions import Transaction, Transactions
from configkeys import Configuration
from drivers.evse import Evse, PilotState
from drivers.meter import MeterReading

log = logging.getLogger(__name__)

S = ChargePointStatus
SUSPENDING_ERRORS = frozenset({ChargePointErrorCode.ev_communication_error})
SUSPENDABLE = frozenset({S.charging, S.suspended_ev})
EV_CONNECTED_STATUSES = frozenset({S.preparing, S.suspended_ev, S.suspended_evse, S.finishing})


class ConnectorBusy(Exception):
    """A bench or CSMS request that the connector cannot honour in its present state."""


class Connector:
    def __init__(
        self,
        status: ConnectorStatus,
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
        self.id = status.connector_id
        self.status = status
        self.evse = evse
        self.meter = meter
        self._authorizer = authorizer
        self._transactions = transactions
        self._sampler = sampler
        self._config = config
        self._clock = clock
        self._max_current = max_current
        self._shares_reader = shares_reader
        self.inoperative = not operative  # ChangeAvailability; may be pending until a transaction ends
        self.transaction: Transaction | None = None
        self.authorized_id_tag: str | None = None
        self._authorized_parent: str | None = None
        self._station_suspended = False  # energy stopped by the station (invalid idTag, energy cap)
        self.held_for: str | None = None  # cable kept locked after DeAuthorized, until its owner returns
        self._energy_cap: float | None = None  # MaxEnergyOnInvalidId after an invalid StartTransaction answer
        self._sampling: asyncio.Task[None] | None = None
        self._preparing_timeout: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # held so the loop cannot drop them
        self._lock = asyncio.Lock()
        evse.on_pilot_change(self._pilot_changed)
        meter.on_reading(self._enforce_energy_cap)
        meter.on_health(self._meter_health)

    @property
    def plugged(self) -> bool:
        return self.evse.pilot in (PilotState.B, PilotState.C)

    @property
    def idle(self) -> bool:
        """Free for a new session: no transaction and not out of service."""
        return self.transaction is None and self.status.status in (S.available, S.preparing)

    def spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("connector %d: %r", self.id, task.exception())

    # Hardware events ------------------------------------------------------------------

    def _pilot_changed(self, pilot: PilotState) -> None:
        self.spawn(self._follow_pilot(pilot))

    async def _follow_pilot(self, pilot: PilotState) -> None:
        async with self._lock:
            if self.status.faulted:
                await self._follow_pilot_while_faulted(pilot)
                return
            if pilot is PilotState.A:
                await self._unplugged()
                return
            if self.transaction is not None:
                if not self._station_suspended and self.status.status != S.suspended_evse:
                    self.evse.set_contactor(True)  # the EV may have come back after an EV-side disconnect
                    await self.status.move_to(self._charging_status())
                return
            if self.status.status == S.available:
                await self._enter_preparing()
            if self.status.status != S.preparing:
                return
            id_tag = self.authorized_id_tag or self._authorizer.free_vend_id_tag()
            if id_tag is not None:
                await self._start(id_tag)

    async def _follow_pilot_while_faulted(self, pilot: PilotState) -> None:
        """The status stays Faulted, but clearing must land where the cable and EV are now."""
        if pilot is PilotState.A:
            if self.transaction is not None:
                await self._stop(Reason.ev_disconnected, None)
            self.authorized_id_tag = None
            self.status.return_after_fault(S.available)
        elif self.transaction is not None:
            self.status.return_after_fault(S.suspended_evse if self._station_suspended else self._charging_status())
        else:
            self.status.return_after_fault(S.preparing)

    async def _unplugged(self) -> None:
        if self.transaction is not None and not self._config.boolean("StopTransactionOnEVSideDisconnect"):
            # §4.9: the transaction goes on; the CSMS learns why energy stopped.
            self.evse.set_contactor(False)
            await self.status.move_to(S.suspended_ev, info="EV side disconnected")
            return
        if self.transaction is not None:
            keep = not self._config.boolean("UnlockConnectorOnEVSideDisconnect")
            await self._stop(Reason.ev_disconnected, None, info="EV side disconnected", keep_locked=keep)
        if self._config.boolean("UnlockConnectorOnEVSideDisconnect"):
            self.evse.set_lock(False)
            self.held_for = None
        self.authorized_id_tag = None
        if self.status.can_move_to(self._resting_status()):
            await self.status.move_to(self._resting_status())

    def _resting_status(self) -> ChargePointStatus:
        """Where a connector goes when nobody uses it: Unavailable once set Inoperative."""
        return S.unavailable if self.inoperative else S.available

    async def after_restart(self, resume_for: str | None) -> None:
        """A cable still in after a restart: resume for `resume_for` without asking again, or wait
        for identification within ConnectionTimeOut like any fresh plug-in."""
        async with self._lock:
            if self.status.status != S.preparing:
                return
            id_tag = resume_for or self._authorizer.free_vend_id_tag()
            if id_tag is not None:
                log.info("connector %d: cable in at start; charging for %s", self.id, id_tag)
                await self._start(id_tag)
            else:
                await self._enter_preparing()

    # Identification ----------------------------------------------------------------------

    async def present(self, id_tag: str) -> str:
        """An idTag at the reader; returns what the station would show the driver.

        Asking the CSMS happens outside the connector's lock: the library reads the answer only
        after the handler of any CSMS request in between has returned, and those take the lock.
        """
        async with self._lock:
            owner = self.transaction
            if owner is None:
                local_answer = await self._present_locally(id_tag)
                if local_answer is not None:
                    return local_answer
        if owner is not None:
            if not await self._authorizer.may_stop(owner.id_tag, owner.parent_id_tag, id_tag):
                raise ConnectorBusy(f"connector {self.id} is charging for another idTag")
            async with self._lock:
                if self.transaction is not owner:
                    return f"{id_tag}: the transaction had already ended"
                await self._stop(Reason.local, id_tag)
                return f"transaction stopped by {id_tag}"
        verdict = await self._authorizer.authorize(id_tag)
        if verdict.status != AuthorizationStatus.accepted:
            return f"{id_tag} refused ({verdict.status})"
        async with self._lock:
            if not self.idle:
                return f"{id_tag} accepted, but connector {self.id} is now {self.status.status}"
            return await self.authorized(id_tag, verdict.parent_id_tag)

    async def _present_locally(self, id_tag: str) -> str | None:
        """What needs no authorization; None when the idTag must be authorized."""
        if self.status.faulted or self.status.status == S.unavailable:
            raise ConnectorBusy(f"connector {self.id} is {self.status.status}")
        if self.held_for is not None and same_id_token(id_tag, self.held_for):
            self.held_for = None
            self.evse.set_lock(False)
            return f"{id_tag}: cable unlocked"
        if self.status.status == S.finishing:
            raise ConnectorBusy(f"connector {self.id} is Finishing: unplug first")
        if self.authorized_id_tag is not None and same_id_token(id_tag, self.authorized_id_tag) and not self.plugged:
            # A second presentation before the cable arrived ends the intended usage (§4.9 B1).
            await self._cancel_preparing()
            return f"{id_tag}: session cancelled"
        return None

    async def authorized(self, id_tag: str, parent_id_tag: str | None = None) -> str:
        """An accepted idTag (local card or remote start): start now if the cable is in."""
        self.authorized_id_tag = id_tag
        self._authorized_parent = parent_id_tag
        if not self.plugged:
            await self._enter_preparing()
            return f"{id_tag} accepted: plug in the cable"
        return await self._start(id_tag)

    async def _enter_preparing(self) -> None:
        await self.status.move_to(S.preparing)
        if self._preparing_timeout is not None:
            self._preparing_timeout.cancel()
        self._preparing_timeout = asyncio.get_running_loop().create_task(self._time_out_preparing())

    async def _time_out_preparing(self) -> None:
        """ConnectionTimeOut (errata 3.21): the cable or the idTag did not come in time."""
        await asyncio.sleep(self._config.integer("ConnectionTimeOut"))
        async with self._lock:
            if self.status.status == S.preparing and self.transaction is None:
                log.info("connector %d: ConnectionTimeOut passed without a transaction", self.id)
                await self._cancel_preparing()

    async def _cancel_preparing(self) -> None:
        if self._preparing_timeout is not None and self._preparing_timeout is not asyncio.current_task():
            self._preparing_timeout.cancel()
        self._preparing_timeout = None
        self.authorized_id_tag = None
        # Errata 3.20 (B6): with several connectors on one reader a cable left in goes to
        # Finishing, so the next card cannot start on it by accident.
        if self.plugged and self._shares_reader:
            await self.status.move_to(S.finishing)
        else:
            await self.status.move_to(S.available)

    # Transactions ----------------------------------------------------------------------

    async def _start(self, id_tag: str) -> str:
        if self._preparing_timeout is not None:
            self._preparing_timeout.cancel()
            self._preparing_timeout = None
        self.authorized_id_tag = None
        if not self.evse.tethered and not self.evse.set_lock(True):
            await self.status.fault(ChargePointErrorCode.connector_lock_failure, "socket lock did not close")
            return "transaction not started: the socket lock failed"
        reading = await self._reading()
        if reading is None:
            self.evse.set_lock(False)
            return "transaction not started: the meter has never been read"
        self.transaction = self._transactions.begin(self.id, id_tag, energy_wh(reading), self._stamp(reading))
        self.transaction.data_values = self._sampler.values(
            reading, "StopTxnSampledData", ReadingContext.transaction_begin, float(energy_wh(reading))
        )
        self.transaction.parent_id_tag = self._authorized_parent
        self._authorized_parent = None
        self._energy_cap = None
        self._station_suspended = False
        self.evse.set_offered_current(self._max_current)
        self.evse.set_contactor(True)
        await self.status.move_to(self._charging_status())
        self._sampling = self.spawn(self._sampler.run(self.transaction, self.meter))
        return "transaction started"

    async def stop(self, reason: Reason, id_tag: str | None = None) -> None:
        """Stop on a command (remote stop, unlock, reset); no-op without a transaction."""
        async with self._lock:
            if self.transaction is not None:
                await self._stop(reason, id_tag)

    async def _stop(self, reason: Reason, id_tag: str | None, info: str | None = None, keep_locked: bool = False) -> None:
        assert self.transaction is not None
        self.evse.set_contactor(False)
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
        if self.plugged:
            await self.status.move_to(S.finishing, info=info)
        else:
            await self.status.move_to(self._resting_status(), info=info)
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
        async with self._lock:
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
                await self._suspend_by_station("idTag not accepted by the CSMS")

    def _meter_health(self, failure: str | None) -> None:
        """PowerMeterFailure is a warning: the connector may still charge, but no figure is trusted."""
        code = ChargePointErrorCode.no_error if failure is None else ChargePointErrorCode.power_meter_failure
        self.spawn(self._report_meter(code, failure))

    async def _report_meter(self, code: ChargePointErrorCode, info: str | None) -> None:
        async with self._lock:
            await self.status.warn(code, info[:50] if info else None)

    def _enforce_energy_cap(self, reading: MeterReading) -> None:
        if self._energy_cap is not None and self.transaction is not None and reading.energy_wh >= self._energy_cap:
            self._energy_cap = None
            self.spawn(self._suspend_locked("MaxEnergyOnInvalidId reached"))

    async def _suspend_locked(self, info: str) -> None:
        async with self._lock:
            if self.transaction is not None:
                await self._suspend_by_station(info)

    async def _suspend_by_station(self, info: str) -> None:
        self._station_suspended = True
        self.evse.set_offered_current(0)
        self.evse.set_contactor(False)
        await self.status.move_to(S.suspended_evse, info=info)

    async def remote_authorized(self, id_tag: str) -> str:
        """RemoteStartTransaction, once authorized: the connector may have been taken meanwhile."""
        async with self._lock:
            if not self.idle:
                return f"connector {self.id} is no longer free"
            return await self.authorized(id_tag)

    async def unlock(self) -> UnlockStatus:
        """UnlockConnector (§5.18): a running transaction is stopped first (reason UnlockCommand)."""
        async with self._lock:
            if self.transaction is not None:
                await self._stop(Reason.unlock_command, None)
            self.held_for = None
            if self.evse.set_lock(False):
                return UnlockStatus.unlocked
            await self.status.fault(ChargePointErrorCode.connector_lock_failure, "lock did not open")
            return UnlockStatus.unlock_failed

    async def set_operative(self, operative: bool) -> AvailabilityStatus:
        """ChangeAvailability (§5.2): Scheduled while a transaction runs, applied when it ends."""
        async with self._lock:
            self.inoperative = not operative
            if self.transaction is not None and not operative:
                return AvailabilityStatus.scheduled
            if self.status.faulted:
                self.status.return_after_fault(self._idle_status())
            elif self.status.status in (S.available, S.unavailable, S.preparing):
                if self.status.status == S.preparing and not operative:
                    await self._cancel_preparing()  # §4.9 has no Preparing -> Unavailable
                if self._idle_status() == S.preparing:
                    await self._enter_preparing()
                else:
                    await self.status.move_to(self._idle_status())
            return AvailabilityStatus.accepted

    def _idle_status(self) -> ChargePointStatus:
        if self.inoperative:
            return S.unavailable
        return S.preparing if self.plugged else S.available

    def _charging_status(self) -> ChargePointStatus:
        return S.charging if self.evse.pilot is PilotState.C else S.suspended_ev

    # Faults ----------------------------------------------------------------------------

    async def fault(self, code: ChargePointErrorCode, info: str | None) -> None:
        """A hardware error; EVCommunicationError is a warning (§4.9), the rest stop charging."""
        async with self._lock:
            if code in SUSPENDING_ERRORS:
                await self._suspend_for(code, info)
                return
            if self.transaction is not None:
                self.evse.set_contactor(False)
            await self.status.fault(code, info)

    async def _suspend_for(self, code: ChargePointErrorCode, info: str | None) -> None:
        if self.status.status in SUSPENDABLE and self.transaction is not None:
            self.evse.set_offered_current(0)
            await self.status.move_to(S.suspended_evse, code, info)
        elif self.status.status in EV_CONNECTED_STATUSES:
            await self.status.warn(code, info)
        else:
            raise ConnectorBusy(f"{code} applies only while an EV is connected (connector {self.id} is {self.status.status})")

    async def clear_fault(self) -> None:
        async with self._lock:
            if self.status.faulted:
                await self.status.clear_fault()
                if self.status.status == S.preparing and self.transaction is None:
                    await self._enter_preparing()  # ConnectionTimeOut counts from here again
            elif self.status.error_code in SUSPENDING_ERRORS and self.transaction is not None:
                self.evse.set_offered_current(self._max_current)
                await self.status.move_to(self._charging_status())
            elif self.status.error_code != ChargePointErrorCode.no_error:
                await self.status.warn(ChargePointErrorCode.no_error)
            if self.transaction is not None and not self.status.faulted and not self._station_suspended:
                self.evse.set_contactor(True)
