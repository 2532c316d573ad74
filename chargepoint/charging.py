"""One connector's charging flow: hardware events in, status changes and transactions out.

The pilot signal and presented idTags drive the connector through the §4.9 machine: cable
and idTag in either order lead to a transaction, the EV's requests switch between Charging
and SuspendedEV, and a second presentation of the same idTag or unplugging ends it.
"""

from __future__ import annotations

import asyncio
import logging

from ocpp.v16.enums import AuthorizationStatus, ChargePointErrorCode, ChargePointStatus, Reason

from chargepoint.authorization import Authorizer
from chargepoint.connector import ConnectorStatus
from chargepoint.metering import MeterWatch, TransactionSampler, energy_wh
from chargepoint.transactions import Transaction, TransactionRefused, Transactions
from drivers.evse import Evse, PilotState

log = logging.getLogger(__name__)

SUSPENDING_ERRORS = frozenset({ChargePointErrorCode.ev_communication_error})
SUSPENDABLE = frozenset({ChargePointStatus.charging, ChargePointStatus.suspended_ev})
EV_CONNECTED_STATUSES = frozenset(
    {
        ChargePointStatus.preparing,
        ChargePointStatus.suspended_ev,
        ChargePointStatus.suspended_evse,
        ChargePointStatus.finishing,
    }
)


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
        max_current: float,
    ) -> None:
        self.id = status.connector_id
        self.status = status
        self.evse = evse
        self.meter = meter
        self._authorizer = authorizer
        self._transactions = transactions
        self._sampler = sampler
        self._max_current = max_current
        self.transaction: Transaction | None = None
        self.authorized_id_tag: str | None = None
        self._sampling: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # held so the loop cannot drop them
        self._lock = asyncio.Lock()
        evse.on_pilot_change(self._pilot_changed)

    @property
    def plugged(self) -> bool:
        return self.evse.pilot in (PilotState.B, PilotState.C)

    def _pilot_changed(self, pilot: PilotState) -> None:
        task = asyncio.get_running_loop().create_task(self._follow_pilot(pilot))
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("connector %d: pilot change not handled: %r", self.id, task.exception())

    async def _follow_pilot(self, pilot: PilotState) -> None:
        async with self._lock:
            if self.status.faulted:
                await self._follow_pilot_while_faulted(pilot)
                return
            if pilot is PilotState.A:
                await self._unplugged()
            elif self.transaction is not None:
                if self.status.status != ChargePointStatus.suspended_evse:
                    await self.status.move_to(self._charging_status())
            elif self.status.status == ChargePointStatus.available:
                await self.status.move_to(ChargePointStatus.preparing)
            if self.authorized_id_tag and self.plugged and self.transaction is None:
                await self._start(self.authorized_id_tag)

    async def _follow_pilot_while_faulted(self, pilot: PilotState) -> None:
        """The status stays Faulted, but clearing must land where the cable and EV are now."""
        if pilot is PilotState.A:
            if self.transaction is not None:
                await self._stop(Reason.ev_disconnected, None)
            self.authorized_id_tag = None
            self.status.return_after_fault(ChargePointStatus.available)
        elif self.transaction is not None:
            self.status.return_after_fault(self._charging_status())
        else:
            self.status.return_after_fault(ChargePointStatus.preparing)

    async def _unplugged(self) -> None:
        if self.transaction is not None:
            await self._stop(Reason.ev_disconnected, None)
        self.authorized_id_tag = None
        if self.status.can_move_to(ChargePointStatus.available):
            await self.status.move_to(ChargePointStatus.available)

    async def present(self, id_tag: str) -> str:
        """An idTag at the reader; returns what the station would show the driver."""
        async with self._lock:
            if self.status.faulted or self.status.status == ChargePointStatus.unavailable:
                raise ConnectorBusy(f"connector {self.id} is {self.status.status}")
            if self.transaction is not None:
                if id_tag != self.transaction.id_tag:
                    raise ConnectorBusy(f"connector {self.id} is charging for another idTag")
                await self._stop(Reason.local, id_tag)
                return f"transaction stopped by {id_tag}"
            if self.status.status == ChargePointStatus.finishing:
                raise ConnectorBusy(f"connector {self.id} is Finishing: unplug first")
            if id_tag == self.authorized_id_tag:
                # A second presentation before the cable arrived ends the intended usage (§4.9 B1).
                self.authorized_id_tag = None
                await self.status.move_to(ChargePointStatus.available)
                return f"{id_tag}: session cancelled"
            verdict = await self._authorizer.authorize(id_tag)
            if verdict != AuthorizationStatus.accepted:
                return f"{id_tag} refused ({verdict})"
            self.authorized_id_tag = id_tag
            if not self.plugged:
                await self.status.move_to(ChargePointStatus.preparing)
                return f"{id_tag} accepted: plug in the cable"
            return await self._start(id_tag)

    async def _start(self, id_tag: str) -> str:
        if not self.evse.tethered and not self.evse.set_lock(True):
            self.authorized_id_tag = None
            await self.status.fault(ChargePointErrorCode.connector_lock_failure, "socket lock did not close")
            return "transaction not started: the socket lock failed"
        reading = await self.meter.read()
        try:
            self.transaction = await self._transactions.start(self.id, id_tag, energy_wh(reading))
        except TransactionRefused as exc:
            self.authorized_id_tag = None
            self.evse.set_lock(False)
            log.warning("connector %d: no transaction: %s", self.id, exc)
            return f"transaction not started: {exc}"
        self.authorized_id_tag = None
        self.evse.set_offered_current(self._max_current)
        self.evse.set_contactor(True)
        await self.status.move_to(self._charging_status())
        self._sampling = asyncio.get_running_loop().create_task(
            self._sampler.run(self.id, self.transaction.transaction_id, self.meter)
        )
        return f"transaction {self.transaction.transaction_id} started"

    async def _stop(self, reason: Reason, id_tag: str | None) -> None:
        assert self.transaction is not None
        transaction, self.transaction = self.transaction, None
        if self._sampling is not None:
            self._sampling.cancel()
        self.evse.set_contactor(False)
        self.evse.set_offered_current(0)
        reading = await self.meter.read()
        if self.plugged:
            await self.status.move_to(ChargePointStatus.finishing)
        self.evse.set_lock(False)
        await self._transactions.stop(transaction, energy_wh(reading), reason, id_tag)

    def _charging_status(self) -> ChargePointStatus:
        if self.evse.pilot is PilotState.C:
            return ChargePointStatus.charging
        return ChargePointStatus.suspended_ev

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
            await self.status.move_to(ChargePointStatus.suspended_evse, code, info)
        elif self.status.status in EV_CONNECTED_STATUSES:
            await self.status.warn(code, info)
        else:
            raise ConnectorBusy(f"{code} applies only while an EV is connected (connector {self.id} is {self.status.status})")

    async def clear_fault(self) -> None:
        async with self._lock:
            if self.status.faulted:
                await self.status.clear_fault()
            elif self.status.error_code in SUSPENDING_ERRORS and self.transaction is not None:
                self.evse.set_offered_current(self._max_current)
                await self.status.move_to(self._charging_status())
            elif self.status.error_code != ChargePointErrorCode.no_error:
                await self.status.warn(ChargePointErrorCode.no_error)
            if self.transaction is not None and not self.status.faulted:
                self.evse.set_contactor(True)
