"""Who is at the connector: idTags presented at the reader or sent by RemoteStartTransaction,
matched with the cable in either order (§4.9: Preparing), and ConnectionTimeOut ending an
identification that never met its cable (errata 3.21).

Asking the CSMS happens outside the connector's lock: the library reads the answer only after
the handler of any CSMS request in between has returned, and those take the lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ocpp.v16.enums import AuthorizationStatus, ChargePointStatus, Reason

from chargepoint.authorization.authorizer import Authorizer, same_id_token, why_refused
from chargepoint.connector.charging import Charging, Refused
from chargepoint.connector.state import ConnectorBusy, ConnectorState
from drivers.evse import Evse, PilotState

log = logging.getLogger(__name__)

S = ChargePointStatus


@dataclass(frozen=True)
class VehicleId:
    """The idTag an EV's own identity stands for (WEMOB AutoCharge), and whether it must be
    authorized like a card or names a session that needs no authorization."""

    id_tag: str
    authorize: bool


class Admission(Protocol):
    """Who may start a session on which connector while reservations hold them: the
    Reservation profile's word (§5.13). `ended_by` names the reservation a start ends."""

    def refusal(self, connector: int, id_tag: str, parent_id_tag: str | None, group_known: bool = True) -> str | None: ...

    def ended_by(self, connector: int, id_tag: str, parent_id_tag: str | None) -> int | None: ...


class Unreserved:
    """No Reservation profile wired: every idTag may start anywhere."""

    def refusal(self, connector: int, id_tag: str, parent_id_tag: str | None, group_known: bool = True) -> str | None:
        return None

    def ended_by(self, connector: int, id_tag: str, parent_id_tag: str | None) -> int | None:
        return None


class Identification:
    def __init__(
        self,
        state: ConnectorState,
        evse: Evse,
        charging: Charging,
        authorizer: Authorizer,
        cancelled: Callable[[], None],
    ) -> None:
        self._state = state
        self._evse = evse
        self._charging = charging
        self._authorizer = authorizer
        self._cancelled = cancelled  # an identification ended without a transaction, cable perhaps in
        self.id_tag: str | None = None  # accepted, waiting for the cable
        self._parent: str | None = None
        self.asking: str | None = None  # why the station asks the driver for a card, if it does
        self.admission: Admission = Unreserved()  # the Reservation profile sets its own

    @property
    def _plugged(self) -> bool:
        return self._evse.pilot in (PilotState.B, PilotState.C)

    @property
    def idle(self) -> bool:
        """Free for a new session: no transaction and not out of service (a reservation says
        for whom: `admission`)."""
        return self._charging.transaction is None and self._state.status in (S.available, S.preparing, S.reserved)

    async def present(self, id_tag: str) -> str:
        """An idTag at the reader; returns what the station would show the driver, once the
        decision is made (a `Refused` when nothing came of it)."""
        async with self._state.lock:
            owner = self._charging.transaction
            if owner is None:
                local_answer = self._present_locally(id_tag)
                if local_answer is not None:
                    return local_answer
        if owner is not None:
            if not await self._authorizer.may_stop(owner.id_tag, owner.parent_id_tag, id_tag):
                raise ConnectorBusy(f"connector {self._state.id} is charging for another idTag")
            async with self._state.lock:
                if self._charging.transaction is not owner:
                    return Refused(f"{id_tag}: the transaction had already ended")
                await self._charging.end(Reason.local, id_tag)
                return f"transaction stopped by {id_tag}"
        verdict = await self._authorizer.authorize(id_tag)
        if verdict.status != AuthorizationStatus.accepted:
            return Refused(f"{id_tag} refused: {why_refused(verdict)}")
        async with self._state.lock:
            if not self.idle:
                return Refused(f"{id_tag} accepted, but connector {self._state.id} is now {self._state.status}")
            return await self.accepted(id_tag, verdict.parent_id_tag)

    def _present_locally(self, id_tag: str) -> str | None:
        """What needs no authorization; None when the idTag must be authorized."""
        state = self._state
        if state.faulted or state.status == S.unavailable:
            raise ConnectorBusy(f"connector {state.id} is {state.status}")
        held_for = self._charging.held_for
        if held_for is not None and same_id_token(id_tag, held_for):
            self._charging.held_for = None
            self._evse.set_lock(False)
            return f"{id_tag}: cable unlocked"
        if state.status == S.finishing:
            raise ConnectorBusy(f"connector {state.id} is Finishing: unplug first")
        if self.id_tag is not None and same_id_token(id_tag, self.id_tag) and not self._plugged:
            # A second presentation before the cable arrived ends the intended usage (§4.9 B1).
            self.cancel()
            return f"{id_tag}: session cancelled"
        return None

    async def accepted(self, id_tag: str, parent_id_tag: str | None = None) -> str:
        """Under the lock: an accepted idTag starts now if the cable is in, else waits for it."""
        refusal = self.admission.refusal(self._state.id, id_tag, parent_id_tag)
        if refusal is not None:
            log.info("connector %d: %s refused: %s", self._state.id, id_tag, refusal)
            return Refused(f"{id_tag} refused: {refusal}")
        self.id_tag, self._parent, self.asking = id_tag, parent_id_tag, None
        if not self._plugged:
            self._state.show()
            return f"{id_tag} accepted: plug in the cable"
        return await self.start(id_tag)

    async def start(self, id_tag: str) -> str:
        """Under the lock, with the cable in; a reservation may still turn the idTag away
        (a free-vend plug-in, say), or end with this start (§5.13)."""
        parent, self.id_tag, self._parent = self._parent, None, None
        refusal = self.admission.refusal(self._state.id, id_tag, parent)
        if refusal is not None:
            log.info("connector %d: no transaction for %s: %s", self._state.id, id_tag, refusal)
            self._state.show()
            return Refused(f"{id_tag} refused: {refusal}")
        return await self._charging.start(id_tag, parent, self.admission.ended_by(self._state.id, id_tag, parent))

    async def vehicle_identified(self, id_tag: str) -> None:
        """The EV named itself (AutoCharge): authorized like a card, under the same keys; a
        refusal leaves the connector Preparing and the station asking for a card."""
        verdict = await self._authorizer.authorize(id_tag)
        async with self._state.lock:
            if not self._plugged or not self.idle or self.id_tag is not None:
                return  # unplugged, taken or identified by a card meanwhile
            if not verdict.accepted:
                self.asking = f"{id_tag} {verdict.status}: present a card"
                log.info("connector %d: %s", self._state.id, self.asking)
                return
            await self.accepted(id_tag, verdict.parent_id_tag)

    async def remote_authorized(self, id_tag: str) -> str:
        """RemoteStartTransaction, once authorized: the connector may have been taken meanwhile.
        A group reservation needs the idTag's parentIdTag: the list or cache, else Authorize (§5.13)."""
        parent = None
        if self.reserved_against(id_tag) is None and self.admission.refusal(self._state.id, id_tag, None) is not None:
            verdict = await self._authorizer.authorize(id_tag)
            parent = verdict.parent_id_tag if verdict.accepted else None
        async with self._state.lock:
            if not self.idle:
                return f"connector {self._state.id} is no longer free"
            return await self.accepted(id_tag, parent)

    def reserved_against(self, id_tag: str) -> str | None:
        """Why a reservation turns `id_tag` away here whatever its group: RemoteStartTransaction
        is answered before the group can be asked."""
        return self.admission.refusal(self._state.id, id_tag, None, group_known=False)

    async def timed_out(self) -> None:
        async with self._state.lock:
            if self._state.status == S.preparing and self._charging.transaction is None:
                log.info("connector %d: ConnectionTimeOut passed without a transaction", self._state.id)
                self.cancel()

    def cancel(self) -> None:
        self.id_tag = self.asking = None
        self._cancelled()
