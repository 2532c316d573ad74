"""The one SQLite database every module persists to.

The board's flash may lose power at any instant, so the database runs in WAL mode with
synchronous=FULL: a write that returned is on the medium. Each write is a single short
transaction; callers persist before they acknowledge anything to the CSMS.

A file deleted or replaced under the open connection would take every later write into an
inode no restart reads: the database notices (before each commit, and every GHOST_CHECK
seconds while idle), refuses all further writes, and its watcher ends the station so the
service manager starts it again on what is really on disk.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chargepoint.infra.inode import still_names

log = logging.getLogger(__name__)

GHOST_CHECK = 1.0  # seconds between looks at the file while nothing is written

# Forward-only migrations: index i upgrades a database at user_version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE config_key (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE connector_availability (
        connector INTEGER PRIMARY KEY,
        availability TEXT NOT NULL CHECK (availability IN ('Operative', 'Inoperative'))
    );
    CREATE TABLE charging_transaction (
        local_id INTEGER PRIMARY KEY AUTOINCREMENT,
        connector INTEGER NOT NULL,
        id_tag TEXT NOT NULL,
        meter_start INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        transaction_id INTEGER,
        meter_stop INTEGER,
        stopped_at TEXT,
        stop_reason TEXT
    );
    """,
    """
    ALTER TABLE charging_transaction ADD COLUMN last_meter_wh INTEGER;
    ALTER TABLE charging_transaction ADD COLUMN last_meter_at TEXT;
    CREATE TABLE transaction_message (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        local_id INTEGER NOT NULL REFERENCES charging_transaction (local_id),
        action TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before REAL NOT NULL DEFAULT 0
    );
    CREATE TABLE id_tag_cache (
        id_tag TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        expiry_date TEXT,
        parent_id_tag TEXT,
        updated_at REAL NOT NULL
    );
    CREATE TABLE local_list (
        id_tag TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        expiry_date TEXT,
        parent_id_tag TEXT
    );
    CREATE TABLE station_state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    """
    CREATE TABLE charging_profile (
        id INTEGER PRIMARY KEY,
        connector INTEGER NOT NULL,
        purpose TEXT NOT NULL,
        stack_level INTEGER NOT NULL,
        payload TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE firmware_update (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        location TEXT NOT NULL,
        retrieve_at TEXT NOT NULL,
        tries INTEGER NOT NULL,
        retry_interval INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        phase TEXT NOT NULL,
        image TEXT NOT NULL,
        version TEXT,
        outcome TEXT
    );
    """,
    """
    CREATE TABLE reservation (
        id INTEGER PRIMARY KEY,
        connector INTEGER NOT NULL,
        id_tag TEXT NOT NULL,
        expiry_date TEXT NOT NULL,
        parent_id_tag TEXT
    );
    """,
    """
    CREATE TABLE security_event (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        tech_info TEXT,
        attempts INTEGER NOT NULL DEFAULT 0
    );
    """,
)


def private_directory(directory: Path) -> None:
    """The data directory holds the AuthorizationKey and the control socket: no other user may
    enter it. Checked before anything is created in it (the lock file comes first)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = directory.stat()
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        if info.st_uid != os.getuid() or mode & stat.S_ISVTX:  # someone else's, or shared like /tmp
            raise PermissionError(f"mode {mode:04o} lets other users in; give the station a directory of its own")
        log.warning("data directory %s was mode %04o; making it 0700", directory, mode)
        directory.chmod(0o700)


def _private(path: Path) -> None:
    """The database holds the AuthorizationKey: its directory is 0700 and the file 0600
    (SQLite gives the -wal and -shm files the database file's mode)."""
    private_directory(path.parent)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        log.warning("%s was readable by others; making it 0600", path)
        path.chmod(0o600)


class SchemaTooNew(Exception):
    """The file was written by a newer build; touching it could destroy what it knows."""


class DatabaseGone(Exception):
    """The file was deleted or replaced while open: nothing written now would survive a restart."""


class Database:
    """An open chargepoint.db, migrated to the newest schema."""

    def __init__(self, path: Path, fsync: bool = True) -> None:
        """`fsync`: every commit reaches the disk before it returns, so a power cut loses
        nothing (synchronous=FULL). Without it (a fleet's emulated stations, which share one
        host and each fsync would stall the event loop for milliseconds) a commit survives the
        process being killed, not the host losing power (WAL with synchronous=OFF)."""
        _private(path)
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None)
        self._file = os.stat(path)
        self._gone = False
        if not fsync:  # before the switch to WAL, which would sync otherwise
            self._conn.execute("PRAGMA synchronous=OFF")
        self._conn.execute("PRAGMA journal_mode=WAL")
        if fsync:
            self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise SchemaTooNew(
                f"{self.path} has schema version {version}, newer than this build knows "
                f"({len(MIGRATIONS)}); refusing to touch it"
            )
        for target, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction() as conn:
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={target}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
            self.check()
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

    def check(self) -> None:
        """Raise DatabaseGone unless `path` is still the file this connection writes; once
        gone, always gone, even if a new file appears there."""
        if not self._gone and not still_names(self.path, self._file):
            self._gone = True
            log.error("%s was deleted or replaced while the station ran; refusing every change and exiting", self.path)
        if self._gone:
            raise DatabaseGone(f"{self.path} is no longer the file the station opened")

    async def watch(self) -> None:
        """Notice a vanished file while nothing is written; ends with DatabaseGone."""
        while True:
            self.check()
            await asyncio.sleep(GHOST_CHECK)

    def close(self) -> None:
        self._conn.close()
