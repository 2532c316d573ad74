"""Small tables the station reads back after a restart: configuration-key values and named facts.

Each write is one short SQLite transaction on a synchronous=FULL database, so a value that was
accepted is on flash before anyone hears so.
"""

from __future__ import annotations

import sqlite3

from chargepoint.infra.database import Database


class KeyTable:
    """Configuration-key values, the storage behind configkeys.Configuration."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def load_keys(self) -> dict[str, str]:
        return dict(self._db.query("SELECT name, value FROM config_key"))

    def save_key(self, name: str, value: str) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO config_key (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )


class StateTable:
    """Small named facts the station must find again after a restart."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, name: str) -> str | None:
        rows = self._db.query("SELECT value FROM station_state WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    def set(self, name: str, value: str) -> None:
        with self._db.transaction() as conn:
            put_state(conn, name, value)

    def delete(self, name: str) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM station_state WHERE name = ?", (name,))


def put_state(conn: sqlite3.Connection, name: str, value: str) -> None:
    """Inside a caller's transaction, so a fact can change together with what it belongs to."""
    conn.execute(
        "INSERT INTO station_state (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        (name, value),
    )
