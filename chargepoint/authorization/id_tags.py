"""What the station knows about idTags on its own: the Authorization Cache and the Local List.

Both live in chargepoint.db because spec §3.5.1 and §3.5.2 (and errata 3.4) want them to
survive reboots, resets and power cuts. IdToken is a CiString20 (errata 3.74), so every lookup
ignores letter case: a reader that prints hex in lower case must still find an upper-case entry.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ocpp.v16.enums import AuthorizationStatus

from chargepoint.infra.database import Database

# The cache keeps CSMS answers for cards seen at this station: a busy public site sees a few
# hundred distinct cards a month. The cap bounds flash use on a small board and makes the
# §3.5.1 eviction rule ("when the cache is full") apply; 1000 rows are about 100 kB.
CACHE_CAPACITY = 1000
LIST_VERSION_KEY = "local_list_version"
# §3.5.2 maps Accepted and ConcurrentTx to "valid"; the rest are NOT-valid, evicted first.
VALID_STATUSES = (AuthorizationStatus.accepted, AuthorizationStatus.concurrent_tx)
_STORED_TIME = "%Y-%m-%dT%H:%M:%S.%f+00:00"  # one fixed width, so stored dates compare as text


def parse_expiry(text: str | None) -> datetime | None:
    """An IdTagInfo expiryDate as an aware UTC datetime; ValueError if it is not a dateTime."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text.upper())  # RFC 3339 allows a lower-case "t" and "z"
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class IdTagEntry:
    """One idTag with its IdTagInfo, as the cache or the local list holds it."""

    id_tag: str
    status: AuthorizationStatus
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None

    @classmethod
    def from_info(cls, id_tag: str, info: Mapping[str, Any]) -> IdTagEntry:
        """From an IdTagInfo in the ocpp library's snake_case; ValueError if malformed."""
        return cls(
            id_tag,
            AuthorizationStatus(info["status"]),
            parse_expiry(info.get("expiry_date")),
            info.get("parent_id_tag"),
        )

    def status_at(self, now: datetime) -> AuthorizationStatus:
        """§3.5.4: an identifier that was valid but whose expiryDate has passed is Expired."""
        if self.status in VALID_STATUSES and self.expiry_date is not None and self.expiry_date <= now:
            return AuthorizationStatus.expired
        return self.status

    def as_row(self) -> tuple[str, str, str | None, str | None]:
        expiry = None if self.expiry_date is None else self.expiry_date.strftime(_STORED_TIME)
        return self.id_tag, self.status.value, expiry, self.parent_id_tag


class LocalListTooLong(Exception):
    """A SendLocalList would leave more entries than LocalAuthListMaxLength allows."""


def _entry(row: tuple[str, str, str | None, str | None]) -> IdTagEntry:
    id_tag, status, expiry, parent = row
    return IdTagEntry(id_tag, AuthorizationStatus(status), parse_expiry(expiry), parent)


class IdTagStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # The Authorization Cache (§3.5.1)

    def cached(self, id_tag: str) -> IdTagEntry | None:
        rows = self._db.query(
            "SELECT id_tag, status, expiry_date, parent_id_tag FROM id_tag_cache WHERE id_tag = ? COLLATE NOCASE",
            (id_tag,),
        )
        return _entry(rows[0]) if rows else None

    def cache(self, entry: IdTagEntry, now: datetime) -> None:
        """Insert or update, then evict NOT-valid entries and then the oldest valid ones (§3.5.1)."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM id_tag_cache WHERE id_tag = ? COLLATE NOCASE", (entry.id_tag,))
            conn.execute(
                "INSERT INTO id_tag_cache (id_tag, status, expiry_date, parent_id_tag, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (*entry.as_row(), time.time()),
            )
            self._evict(conn, now)

    def _evict(self, conn: sqlite3.Connection, now: datetime) -> None:
        valid = ", ".join(f"'{status.value}'" for status in VALID_STATUSES)
        conn.execute(
            "DELETE FROM id_tag_cache WHERE id_tag IN (SELECT id_tag FROM id_tag_cache ORDER BY "
            f"(status IN ({valid}) AND (expiry_date IS NULL OR expiry_date > ?)), updated_at "
            "LIMIT max(0, (SELECT count(*) FROM id_tag_cache) - ?))",
            (now.strftime(_STORED_TIME), CACHE_CAPACITY),
        )

    def mark_expired(self, id_tag: str) -> None:
        """§3.5.1: an entry whose validity has passed SHALL be changed to Expired in the cache."""
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE id_tag_cache SET status = ? WHERE id_tag = ? COLLATE NOCASE",
                (AuthorizationStatus.expired.value, id_tag),
            )

    def clear_cache(self) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM id_tag_cache")

    def cache_size(self) -> int:
        return int(self._db.query("SELECT count(*) FROM id_tag_cache")[0][0])

    # The Local Authorization List (§3.5.2)

    def listed(self, id_tag: str) -> IdTagEntry | None:
        rows = self._db.query(
            "SELECT id_tag, status, expiry_date, parent_id_tag FROM local_list WHERE id_tag = ? COLLATE NOCASE",
            (id_tag,),
        )
        return _entry(rows[0]) if rows else None

    def list_version(self) -> int:
        rows = self._db.query("SELECT value FROM station_state WHERE name = ?", (LIST_VERSION_KEY,))
        return int(rows[0][0]) if rows else 0

    def list_size(self) -> int:
        return int(self._db.query("SELECT count(*) FROM local_list")[0][0])

    def update_list(
        self, version: int, upserts: Iterable[IdTagEntry], removals: Iterable[str], *, full: bool, max_length: int
    ) -> None:
        """Apply one SendLocalList in a single transaction: all of it is on flash, or none.

        An empty list takes version 0: §5.10 reserves 0 for "the list is empty", and the
        version a Differential update is compared with must be the one GetLocalListVersion shows.
        Raises LocalListTooLong, leaving the list as it was, if the result exceeds `max_length`.
        """
        with self._db.transaction() as conn:
            if full:
                conn.execute("DELETE FROM local_list")
            for id_tag in removals:
                conn.execute("DELETE FROM local_list WHERE id_tag = ? COLLATE NOCASE", (id_tag,))
            for entry in upserts:
                conn.execute("DELETE FROM local_list WHERE id_tag = ? COLLATE NOCASE", (entry.id_tag,))
                conn.execute(
                    "INSERT INTO local_list (id_tag, status, expiry_date, parent_id_tag) VALUES (?, ?, ?, ?)",
                    entry.as_row(),
                )
            size = conn.execute("SELECT count(*) FROM local_list").fetchone()[0]
            if size > max_length:
                raise LocalListTooLong(f"the list would hold {size} entries; LocalAuthListMaxLength is {max_length}")
            conn.execute(
                "INSERT INTO station_state (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (LIST_VERSION_KEY, str(version if size else 0)),
            )
