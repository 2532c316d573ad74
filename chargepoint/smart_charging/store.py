"""Installed charging profiles on flash (§3.13): written before SetChargingProfile is answered,
so a profile the CSMS heard Accepted survives a power cut."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chargepoint.infra.database import Database
from chargepoint.smart_charging.schedule import TX, ChargingProfile


@dataclass(frozen=True)
class Installed:
    connector: int
    profile: ChargingProfile


class ProfileStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self) -> list[Installed]:
        rows = self._db.query("SELECT connector, payload FROM charging_profile ORDER BY id")
        return [Installed(connector, ChargingProfile.from_ocpp(json.loads(payload))) for connector, payload in rows]

    def install(self, connector: int, payload: dict[str, Any]) -> None:
        """The same id, or the same purpose and stackLevel on the same connector, is replaced (§3.13.2)."""
        profile = ChargingProfile.from_ocpp(payload)
        with self._db.transaction() as conn:
            conn.execute(
                "DELETE FROM charging_profile WHERE id = ? OR (connector = ? AND purpose = ? AND stack_level = ?)",
                (profile.id, connector, profile.purpose, profile.stack_level),
            )
            conn.execute(
                "INSERT INTO charging_profile (id, connector, purpose, stack_level, payload) VALUES (?, ?, ?, ?, ?)",
                (profile.id, connector, profile.purpose, profile.stack_level, json.dumps(payload)),
            )

    def replaces(self, connector: int, profile: ChargingProfile) -> bool:
        """Whether installing `profile` takes the place of one already installed."""
        rows = self._db.query(
            "SELECT COUNT(*) FROM charging_profile WHERE id = ? OR (connector = ? AND purpose = ? AND stack_level = ?)",
            (profile.id, connector, profile.purpose, profile.stack_level),
        )
        return bool(rows[0][0])

    def count(self) -> int:
        return int(self._db.query("SELECT COUNT(*) FROM charging_profile")[0][0])

    def clear(
        self, id: int | None, connector: int | None, purpose: str | None, stack_level: int | None
    ) -> int:
        """ClearChargingProfile (§5.5, errata): by id, else every profile matching all given criteria."""
        values: list[int | str]
        if id is not None:
            where, values = "id = ?", [id]
        else:
            criteria: dict[str, int | str | None] = {"connector": connector, "purpose": purpose, "stack_level": stack_level}
            given = {column: value for column, value in criteria.items() if value is not None}
            where = " AND ".join(f"{column} = ?" for column in given) or "1"
            values = list(given.values())
        with self._db.transaction() as conn:
            return conn.execute(f"DELETE FROM charging_profile WHERE {where}", values).rowcount

    def end_transaction(self, connector: int) -> int:
        """A TxProfile lives only as long as its transaction (§3.13.1)."""
        return self.clear(None, connector, TX, None)

    def drop_expired(self, now: datetime) -> None:
        for installed in self.all():
            valid_to = installed.profile.valid_to
            if valid_to is not None and valid_to <= now:
                self.clear(installed.profile.id, None, None, None)
