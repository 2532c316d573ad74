"""One connector: hardware events in, facts changed, the derived status out.

The pilot signal and presented idTags drive the flow: cable and idTag in either order lead
to a transaction (`identification`), the owner's idTag, unplugging, or a CSMS command ends it
(`charging`). Handlers only change facts; the status follows from them (`status`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ocpp.v16.enums import AvailabilityStatus, ChargePointErrorCode, ChargePointStatus, Reason, UnlockStatus

from chargepoint.authorization.authorizer import Authorizer
from chargepoint.connector.charging import LOCK, Charging
from chargepoint.connector.identification import Identification, VehicleId
from chargepoint.connector.state import EMERGENCY_STOP, HARDWARE, ConnectorBusy, ConnectorState
from chargepoint.connector.status import (
    ActiveError,
    ConnectorFacts,
    ErrorKind,
    contactor_closed,
    current_offered,
    derive_status,
)
from chargepoint.connector.timeout import PreparingTimeout
from chargepoint.infra.clock import Clock
from chargepoint.metering.sampled import TransactionSampler
from chargepoint.metering.watch import MeterWatch
from chargepoint.transactions.lifecycle import Transaction, Transactions
from configkeys import Configuration
from drivers.evse import Evse, PilotState

log = logging.getLogger(__name__)

S = ChargePointStatus
SUSPENDING_ERRORS = frozenset({ChargePointErrorCode.ev_communication_error})
EV_CONNECTED = frozenset({S.preparing, S.charging, S.suspended_ev, S.suspended_evse, S.finishing})
METER = "meter"  # the error source of the meter's health

__all__ = ["Connector", "ConnectorBusy"]


def _meter_error(failure: str) -> ActiveError:
    """PowerMeterFailure is a warning: the connector may still charge, but no figure is trusted."""
    return ActiveError(ChargePointErrorCode.power_meter_failure, failure[:50], ErrorKind.WARNING)


class Connector(ConnectorState):
    CLEARED_BY_HAND = (HARDWARE, LOCK)

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
        vehicle_ids: Callable[[str], VehicleId | None] | None = None,
    ) -> None:
        plugged = evse.pilot in (PilotState.B, PilotState.C)
        errors = {METER: _meter_error(meter.failure)} if meter.failure is not None else {}
        initial = derive_status(ConnectorFacts(operative=operative, plugged=plugged, errors=tuple(errors.values())))
        super().__init__(number, initial, operative, errors)
        self.evse = evse
        self.meter = meter
        meter.offer = lambda: evse.offered_current
        self._config = config
        self._authorizer = authorizer
        self._max_current = max_current
        self._shares_reader = shares_reader
        self._vehicle_ids = vehicle_ids  # AutoCharge: the idTag an EVCCID stands for, if any
        self._finishing = False  # a transaction ended, or an identification was cancelled, cable in
        self._timed_out = False  # ConnectionTimeOut passed, cable in, nobody identified
        self.limit: float | None = None  # from Smart Charging; see `apply_limit`
        self.limit_source: str = "hardware"
        self.derated: float | None = None  # see `derate`
        self.reservation: int | None = None  # the reservationId holding the connector; see `reserve`
        self.charging = Charging(self, evse, meter, transactions, sampler, config, clock, self._ended)
        self.identification = Identification(self, evse, self.charging, authorizer, self._cancelled)
        self.timeout = PreparingTimeout(self.status, lambda: config.integer("ConnectionTimeOut"), self.identification.timed_out)
        self.on_status(self.timeout)
        evse.on_pilot_change(self._pilot_changed)
        meter.on_health(self._health_changed)

    @property
    def plugged(self) -> bool:
        return self.evse.pilot in (PilotState.B, PilotState.C)

    @property
    def transaction(self) -> Transaction | None:
        return self.charging.transaction

    @property
    def idle(self) -> bool:
        return self.identification.idle

    def facts(self) -> ConnectorFacts:
        return ConnectorFacts(
            operative=self.operative,
            updating=self.updating,
            emergency_stop=self.emergency_stopped,
            errors=tuple(self._errors.values()),
            plugged=self.plugged,
            ev_ready=self.evse.pilot is PilotState.C,
            transaction=self.charging.transaction is not None,
            authorized=self.identification.id_tag is not None,
            suspended_by_station=self.charging.suspended_by_station,
            finishing=self._finishing,
            timed_out=self._timed_out,
            reserved=self.reservation is not None,
            limit=self.limit,
            derated=self.derated,
        )

    def _derive(self, facts: ConnectorFacts) -> ChargePointStatus:
        return derive_status(facts)

    def _apply(self, facts: ConnectorFacts) -> None:
        self.evse.set_offered_current(current_offered(facts, self._max_current))
        self.evse.set_contactor(contactor_closed(facts))

    def _ended(self, cable_in: bool) -> None:
        self._finishing = cable_in

    def _cancelled(self) -> None:
        # Errata 3.20 (B6): with several connectors on one reader a cable left in goes to
        # Finishing, so the next card cannot start on it by accident.
        if self.plugged:
            self._finishing = self._shares_reader
            self._timed_out = not self._shares_reader
        self.show()

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
            vehicle = self._vehicle_id(pilot)
            if vehicle is not None and vehicle.authorize and self.identification.id_tag is None:
                self.spawn(self.identification.vehicle_identified(vehicle.id_tag))
                return
            named = vehicle.id_tag if vehicle is not None else None
            id_tag = self.identification.id_tag or named or self._authorizer.free_vend_id_tag()
            if id_tag is not None:
                await self.identification.start(id_tag)

    def _vehicle_id(self, pilot: PilotState) -> VehicleId | None:
        """The EV's own identity on the plug-in itself (pilot B), where the vendor uses it."""
        evccid = self.evse.evccid
        if pilot is not PilotState.B or evccid is None or self._vehicle_ids is None:
            return None
        return self._vehicle_ids(evccid)

    async def _unplugged(self) -> None:
        self._finishing = False
        keep_going = not self._config.boolean("StopTransactionOnEVSideDisconnect")
        if self.transaction is not None and keep_going and not self.faulted:
            self.show("EV side disconnected")  # §4.9: the transaction goes on, energy stops
            return
        unlock = self._config.boolean("UnlockConnectorOnEVSideDisconnect")
        if self.transaction is not None:
            await self.charging.end(Reason.ev_disconnected, None, info="EV side disconnected", keep_locked=not unlock)
        if unlock:
            self.evse.set_lock(False)
            self.charging.held_for = None
        self.identification.id_tag = self.identification.asking = None
        self.show()

    async def _meter_health(self, failure: str | None) -> None:
        async with self.lock:
            if failure is None:
                self.clear_error(METER)
            else:
                error = _meter_error(failure)
                self.raise_error(METER, error.code, error.info, error.kind)

    async def after_restart(self, resume_for: str | None) -> None:
        """A cable still in after a restart: resume for `resume_for` without asking again, or wait
        for identification within ConnectionTimeOut like any fresh plug-in."""
        async with self.lock:
            if self.status != S.preparing:
                return
            id_tag = resume_for or self._authorizer.free_vend_id_tag()
            if id_tag is not None:
                log.info("connector %d: cable in at start; charging for %s", self.id, id_tag)
                await self.identification.start(id_tag)
            else:
                self.timeout.start()

    # CSMS and bench commands -------------------------------------------------------------

    async def unlock(self) -> UnlockStatus:
        """UnlockConnector (§5.18): a running transaction is stopped first (reason UnlockCommand)."""
        async with self.lock:
            if self.transaction is not None:
                await self.charging.end(Reason.unlock_command, None)
            self.charging.held_for = None
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
                self.identification.id_tag = None  # an intended usage cannot outlive the service
            self.show()
            return AvailabilityStatus.accepted

    async def hold_for_update(self, held: bool) -> None:
        """Errata 3.49: a connector not in use goes Unavailable while an install waits; the one
        charging goes on and follows when its transaction ends."""
        async with self.lock:
            self.updating = held
            if held and self.transaction is None:
                self.identification.id_tag = None  # a card waiting for the cable is turned away
            self._timed_out = False
            self.show()

    async def emergency_stop(self, pressed: bool) -> None:
        """Pressed: the contactor opens and the transaction ends (reason EmergencyStop); nothing
        starts until the button is released."""
        async with self.lock:
            self.emergency_stopped = pressed
            if pressed and self.transaction is not None:
                await self.charging.end(Reason.emergency_stop, None, info=EMERGENCY_STOP)
            if pressed:
                self.identification.id_tag = None  # a card waiting for its cable is turned away
            self._timed_out = False
            self.show(EMERGENCY_STOP if pressed else None)

    async def reserve(self, reservation_id: int) -> None:
        """A reservation holds the connector (§5.13; the Reservation profile says who may start)."""
        async with self.lock:
            self.reservation = reservation_id
            self.show()

    async def release(self, reservation_id: int) -> None:
        """That reservation ended; one made since keeps the connector."""
        async with self.lock:
            if self.reservation == reservation_id:
                self.reservation = None
                self.show()

    async def apply_limit(self, amps: float | None, source: str) -> None:
        """The charging profiles' limit now (Smart Charging); 0 suspends the energy offer."""
        async with self.lock:
            self.limit, self.limit_source = amps, source
            self.show()

    async def derate(self, amps: float | None) -> None:
        """The station's own thermal cap (a hot cabinet in WEMOB silent mode); None lifts it."""
        async with self.lock:
            self.derated = amps
            self.show()

    async def fault(self, code: ChargePointErrorCode, info: str | None) -> bool:
        """A hardware error; EVCommunicationError is a warning (§4.9), the rest stop charging.
        False when the same fault was already raised."""
        async with self.lock:
            if code not in SUSPENDING_ERRORS:
                return self.raise_error(HARDWARE, code, info, ErrorKind.FAULT)
            elif self.status in EV_CONNECTED:
                return self.raise_error(HARDWARE, code, info, ErrorKind.SUSPENDS)
            else:
                raise ConnectorBusy(f"{code} applies only while an EV is connected (connector {self.id} is {self.status})")
