"""Installed charging profiles on flash (§3.13): written before SetChargingProfile is answered,
so a profile the CSMS heard Accepted survives a power cut. They are read once at start and
kept in memory, since the enforcer and every status change consult them."""

from __future__ import annotations

import json
from collections.abc import Callable
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
        rows = db.query("SELECT connector, payload FROM charging_profile ORDER BY id")
        self._installed = [Installed(c, ChargingProfile.from_ocpp(json.loads(payload))) for c, payload in rows]

    def all(self) -> list[Installed]:
        return list(self._installed)

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
        self._installed = [i for i in self._installed if not _replaced_by(i, connector, profile)]
        self._installed.append(Installed(connector, profile))

    def replaces(self, connector: int, profile: ChargingProfile) -> bool:
        """Whether installing `profile` takes the place of one already installed."""
        return any(_replaced_by(i, connector, profile) for i in self._installed)

    def count(self) -> int:
        return len(self._installed)

    def clear(
        self, id: int | None, connector: int | None, purpose: str | None, stack_level: int | None
    ) -> int:
        """ClearChargingProfile (§5.5, errata): by id, else every profile matching all given criteria."""
        if id is not None:
            return self._delete(lambda i: i.profile.id == id)
        return self._delete(
            lambda i: connector in (None, i.connector)
            and purpose in (None, i.profile.purpose)
            and stack_level in (None, i.profile.stack_level)
        )

    def end_transaction(self, connector: int) -> int:
        """A TxProfile lives only as long as its transaction (§3.13.1)."""
        return self.clear(None, connector, TX, None)

    def drop_expired(self, now: datetime) -> None:
        self._delete(lambda i: i.profile.valid_to is not None and i.profile.valid_to <= now)

    def _delete(self, matches: Callable[[Installed], bool]) -> int:
        """Remove the matching profiles; no write at all when none matches."""
        gone = [i.profile.id for i in self._installed if matches(i)]
        if gone:
            with self._db.transaction() as conn:
                conn.executemany("DELETE FROM charging_profile WHERE id = ?", [(pid,) for pid in gone])
            self._installed = [i for i in self._installed if i.profile.id not in gone]
        return len(gone)


def _replaced_by(installed: Installed, connector: int, profile: ChargingProfile) -> bool:
    same_slot = (installed.connector, installed.profile.purpose, installed.profile.stack_level) == (
        connector,
        profile.purpose,
        profile.stack_level,
    )
    return installed.profile.id == profile.id or same_slot
