"""ReserveNow (§5.13) and CancelReservation (§5.1): the Reservation profile's CSMS requests, and
the timer that ends a reservation at its expiryDate. Key: ReserveConnectorZeroSupported.

What the reservations in force mean for the connectors is the book's (`book`); the answers are
pure rules (`rules`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any, ClassVar

from ocpp.exceptions import TypeConstraintViolationError
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, CancelReservationStatus, ReservationStatus

from chargepoint.authorization.id_tags import parse_expiry
from chargepoint.connector.connectors import Connectors
from chargepoint.connector.state import ConnectorState
from chargepoint.infra.clock import Clock
from chargepoint.reservation.book import ReservationBook
from chargepoint.reservation.rules import Reservation, answer, expired
from chargepoint.reservation.store import ReservationStore
from configkeys import Configuration, FeatureProfile

log = logging.getLogger(__name__)

ZERO_KEY = "ReserveConnectorZeroSupported"
# The expiry timer looks again at least this often: the CSMS may correct the clock meanwhile.
MAX_WAIT = 60.0


class Reservations:
    profile: ClassVar[FeatureProfile] = FeatureProfile.RESERVATION

    def __init__(
        self, store: ReservationStore, station: ConnectorState, connectors: Connectors, config: Configuration, clock: Clock
    ) -> None:
        self._station = station
        self._connectors = connectors
        self._config = config
        self._clock = clock
        self._book = ReservationBook(store, station, connectors, clock)

    @on(Action.reserve_now, skip_schema_validation=True)
    async def reserve_now(
        self, connector_id: int, expiry_date: str, id_tag: str, reservation_id: int, parent_id_tag: str | None = None
    ) -> call_result.ReserveNow:
        request = Reservation(reservation_id, connector_id, id_tag, _moment(expiry_date), parent_id_tag)
        others = [r for r in self._book.in_force() if r.id != reservation_id]  # the same id is replaced
        statuses = {connector.id: connector.status for connector in self._connectors}
        status = answer(request, self._station.status, statuses, others, self._clock.now(), self._zero_supported)
        log.info("connector %d: ReserveNow %d for %s until %s: %s", connector_id, reservation_id, id_tag, expiry_date, status.value)
        if status == ReservationStatus.accepted:
            await self._book.hold(request)
        return call_result.ReserveNow(status=status)

    @on(Action.cancel_reservation, skip_schema_validation=True)
    async def cancel_reservation(self, reservation_id: int) -> call_result.CancelReservation:
        reservation = next((r for r in self._book.all() if r.id == reservation_id), None)
        if reservation is None:
            log.info("CancelReservation %d: no such reservation", reservation_id)
            return call_result.CancelReservation(status=CancelReservationStatus.rejected)
        await self._book.end(reservation, "cancelled by the CSMS")
        return call_result.CancelReservation(status=CancelReservationStatus.accepted)

    async def run(self) -> None:
        """Take up the stored reservations, then end each at its expiryDate, until cancelled."""
        await self._book.restore(self.profile in self._config.csl("SupportedFeatureProfiles"))
        while True:
            for reservation in expired(self._book.all(), self._clock.now()):
                await self._book.end(reservation, "its expiryDate passed")
            self._book.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._book.changed.wait(), self._until_next())

    def _until_next(self) -> float | None:
        held = self._book.all()
        if not held:
            return None
        soonest = min(r.expiry for r in held)
        return min(MAX_WAIT, max(0.0, (soonest - self._clock.now()).total_seconds()))

    def summary(self) -> dict[str, Any]:
        """For `chargepoint status`: the reservations in force, connector 0 meaning any."""
        return {
            "reservations": [
                {
                    "reservation_id": r.id,
                    "connector": r.connector,
                    "id_tag": r.id_tag,
                    "parent_id_tag": r.parent_id_tag,
                    "expiry_date": r.expiry.isoformat().replace("+00:00", "Z"),
                }
                for r in self._book.in_force()
            ]
        }

    @property
    def _zero_supported(self) -> bool:
        return self._config.has(ZERO_KEY) and self._config.boolean(ZERO_KEY)


def _moment(text: str) -> datetime:
    try:
        moment = parse_expiry(text)
    except ValueError:
        moment = None
    if moment is None:
        raise TypeConstraintViolationError(description=f"expiryDate: {text!r} is not a dateTime")
    return moment
