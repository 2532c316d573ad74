"""The reservations in force: on flash, held on their connectors, and their word on who may
start where (each connector's `Admission`).

A reservation is a fact of the connector it holds, so Reserved, and Available again after it,
come from the connector's derived status. It ends (§5.13) when a transaction of its idTag or
group starts, at its expiryDate, with CancelReservation, or when the Charge Point or the
connector becomes Faulted or Unavailable; the last two are seen here, in the status changes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ocpp.v16.enums import ChargePointStatus

from chargepoint.connector.connectors import Connectors
from chargepoint.connector.state import ConnectorState
from chargepoint.infra.clock import Clock
from chargepoint.reservation.rules import Claim, Reservation, claim, ended_by_status
from chargepoint.reservation.store import ReservationStore

log = logging.getLogger(__name__)


class ReservationBook:
    def __init__(self, store: ReservationStore, station: ConnectorState, connectors: Connectors, clock: Clock) -> None:
        self._store = store
        self._station = station
        self._connectors = connectors
        self._clock = clock
        self._held: dict[int, Reservation] = {}  # by reservationId; taken from the store by `restore`
        self.changed = asyncio.Event()  # a reservation came or went: the expiry timer looks again
        for connector in connectors:
            connector.identification.admission = self
            connector.on_status(self._status_changed)
        station.on_status(self._status_changed)

    def all(self) -> list[Reservation]:
        return sorted(self._held.values(), key=lambda reservation: reservation.id)

    def in_force(self) -> list[Reservation]:
        """Held and not expired: the timer may not have ended one whose expiryDate just passed."""
        now = self._clock.now()
        return [r for r in self.all() if r.expiry > now]

    async def restore(self, served: bool) -> None:
        """The stored reservations back on their connectors; all dropped where the profile is no
        longer served, and those a Faulted or Unavailable connector holds ended."""
        stored = self._store.load()
        if not served:
            for reservation in stored:
                self._store.remove(reservation.id)
            if stored:
                log.warning("%d reservation(s) dropped: the Reservation profile is no longer served", len(stored))
            return
        now = self._clock.now()
        for reservation in stored:
            self._held[reservation.id] = reservation
            connector = self._connectors.number(reservation.connector)
            if connector is not None and reservation.expiry > now:
                log.info("connector %d: reservation %d for %s kept over the restart", connector.id, reservation.id, reservation.id_tag)
                await connector.reserve(reservation.id)
        for state in (self._station, *self._connectors):
            self._status_changed(state.id, state.status)

    async def hold(self, reservation: Reservation) -> None:
        """On flash before the CSMS hears Accepted; a replaced reservation lets go of its connector."""
        replaced = self._held.get(reservation.id)
        self._store.put(reservation)
        self._held[reservation.id] = reservation
        self.changed.set()
        if replaced is not None and replaced.connector != reservation.connector:
            await self._release(replaced)
        connector = self._connectors.number(reservation.connector)
        if connector is not None:
            await connector.reserve(reservation.id)

    async def end(self, reservation: Reservation, why: str) -> None:
        if self._forget(reservation, why):
            await self._release(reservation)

    # Who may start where (the connectors' Admission)

    def refusal(self, connector: int, id_tag: str, parent_id_tag: str | None, group_known: bool = True) -> str | None:
        return self._claim(connector, id_tag, parent_id_tag, group_known).refusal

    def ended_by(self, connector: int, id_tag: str, parent_id_tag: str | None) -> int | None:
        reservation = self._claim(connector, id_tag, parent_id_tag, True).reservation
        return None if reservation is None else reservation.id

    def _claim(self, connector: int, id_tag: str, parent_id_tag: str | None, group_known: bool) -> Claim:
        free = sum(1 for c in self._connectors if c.id != connector and c.status == ChargePointStatus.available)
        return claim(self.in_force(), connector, id_tag, parent_id_tag, free, group_known)

    # Ending

    def _forget(self, reservation: Reservation, why: str) -> bool:
        """Off flash and out of force; False when it had already ended (or been replaced)."""
        if self._held.get(reservation.id) is not reservation:
            return False
        del self._held[reservation.id]
        self._store.remove(reservation.id)
        self.changed.set()
        log.info("connector %d: reservation %d for %s ended: %s", reservation.connector, reservation.id, reservation.id_tag, why)
        return True

    async def _release(self, reservation: Reservation) -> None:
        connector = self._connectors.number(reservation.connector)
        if connector is not None:
            await connector.release(reservation.id)

    def _status_changed(self, connector_id: int, status: ChargePointStatus, *_: Any) -> None:
        """§5.13: a transaction that carries the reservationId, or a Faulted or Unavailable
        status, ends a reservation. Called inside a status change, so the connector lets go of
        it afterwards, under its lock."""
        why = f"connector {connector_id} is {status}"
        ending = [(r, why) for r in ended_by_status(self.all(), connector_id, status)]
        connector = self._connectors.number(connector_id)
        transaction = connector.transaction if connector is not None else None
        if transaction is not None and transaction.reservation_id in self._held:
            ending.append((self._held[transaction.reservation_id], f"transaction (local {transaction.local_id}) started"))
        for reservation, reason in ending:
            holder = self._connectors.number(reservation.connector)
            if self._forget(reservation, reason) and holder is not None:
                holder.spawn(holder.release(reservation.id))
