"""Reservations on flash: written before ReserveNow is answered Accepted and removed before
CancelReservation is, so what the CSMS was told survives a power cut."""

from __future__ import annotations

from datetime import datetime

from chargepoint.infra.database import Database
from chargepoint.reservation.rules import Reservation

_COLUMNS = "id, connector, id_tag, expiry_date, parent_id_tag"


class ReservationStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def load(self) -> list[Reservation]:
        rows = self._db.query(f"SELECT {_COLUMNS} FROM reservation ORDER BY id")
        return [
            Reservation(number, connector, id_tag, datetime.fromisoformat(expiry), parent)
            for number, connector, id_tag, expiry, parent in rows
        ]

    def put(self, reservation: Reservation) -> None:
        """A reservationId already stored is replaced (§5.13)."""
        with self._db.transaction() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO reservation ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (reservation.id, reservation.connector, reservation.id_tag, reservation.expiry.isoformat(), reservation.parent_id_tag),
            )

    def remove(self, reservation_id: int) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM reservation WHERE id = ?", (reservation_id,))
