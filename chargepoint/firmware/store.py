"""The firmware update in progress, on flash: what was asked, how far it got, what to report.

One row at most. A new UpdateFirmware replaces it under a new id, so a late callback for the
old one (its outcome delivered) cannot delete the new one. What a SignedUpdateFirmware adds
(whitepaper L01) is a station fact written in the same transaction, tagged with the row's id.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from enum import StrEnum

from chargepoint.infra.database import Database
from chargepoint.infra.state import StateTable, put_state

SIGNED_KEY = "signed_firmware_update"  # station_state: the Signed part of the update in the row


class Phase(StrEnum):
    SCHEDULED = "Scheduled"  # waiting for retrieveDate
    DOWNLOADING = "Downloading"
    DOWNLOADED = "Downloaded"  # waiting for the transactions to end
    INSTALLING = "Installing"
    RESTARTING = "Restarting"  # installed; the restart that brings it in is under way
    DONE = "Done"  # only `outcome` is left to report


@dataclass(frozen=True)
class Signed:
    """A SignedUpdateFirmware's own fields: checked before the install, reported with requestId."""

    request_id: int
    certificate: str  # PEM, the firmware signing certificate
    signature: str  # base64
    install_at: str | None = None  # installDateTime, ISO 8601 UTC


@dataclass(frozen=True)
class Update:
    location: str
    retrieve_at: datetime
    tries: int
    retry_interval: int
    image: str  # file name under the firmware directory
    phase: Phase = Phase.SCHEDULED
    attempts: int = 0
    version: str | None = None  # the image's, once downloaded
    outcome: str | None = None  # the FirmwareStatus to report, in phase Done
    id: int = 0
    signed: Signed | None = None


_COLUMNS = "location, retrieve_at, tries, retry_interval, image, phase, attempts, version, outcome"


class UpdateStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def load(self) -> Update | None:
        rows = self._db.query(f"SELECT {_COLUMNS}, id FROM firmware_update ORDER BY id DESC LIMIT 1")
        if not rows:
            return None
        location, retrieve_at, tries, interval, image, phase, attempts, version, outcome, number = rows[0]
        stored = json.loads(StateTable(self._db).get(SIGNED_KEY) or "{}")
        signed = Signed(**stored["signed"]) if stored.get("id") == number else None
        return Update(
            location, datetime.fromisoformat(retrieve_at), tries, interval, image,
            Phase(phase), attempts, version, outcome, number, signed,
        )

    def replace(self, update: Update) -> Update:
        """Start over with `update` as the only one; it gets its id."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM firmware_update")
            cursor = conn.execute(
                f"INSERT INTO firmware_update ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _values(update)
            )
            number = int(cursor.lastrowid or 0)
            conn.execute("DELETE FROM station_state WHERE name = ?", (SIGNED_KEY,))
            if update.signed is not None:
                put_state(conn, SIGNED_KEY, json.dumps({"id": number, "signed": asdict(update.signed)}))
        return replace(update, id=number)

    def save(self, update: Update, state_key: str | None = None, state_value: str | None = None) -> None:
        """Its progress; with `state_key`, a station fact in the same transaction (the version a
        bench install puts in place), so a power cut keeps both or neither."""
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE firmware_update SET phase = ?, attempts = ?, version = ?, outcome = ? WHERE id = ?",
                (update.phase.value, update.attempts, update.version, update.outcome, update.id),
            )
            if state_key is not None and state_value is not None:
                put_state(conn, state_key, state_value)

    def forget(self, update: Update) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM firmware_update WHERE id = ?", (update.id,))
            conn.execute("DELETE FROM station_state WHERE name = ? AND json_extract(value, '$.id') = ?", (SIGNED_KEY, update.id))


def _values(update: Update) -> tuple[object, ...]:
    return (
        update.location, update.retrieve_at.isoformat(), update.tries, update.retry_interval, update.image,
        update.phase.value, update.attempts, update.version, update.outcome,
    )
