"""One process per data directory: an exclusive `flock` on `data_dir/chargepoint.lock`.

Two daemons on one directory connect with the same identity, write the same database and
remove each other's control socket; an offline `config set` racing a starting daemon writes a
key the daemon has already read. So `run` holds this lock for the life of its process, and
`config` while it opens the store directly.

The kernel drops an flock when its holder dies, SIGKILL included, so a crash never leaves a
stale lock; the PID written inside only names the holder in a refusal. The file is never
removed: unlinking a lock file lets the next process lock a new inode while the old holder
still holds the unlinked one. The descriptor is not inherited (Python opens files
close-on-exec), so children never keep the lock and a soft reset's exec lets go of it.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from chargepoint.infra.database import private_directory

LOCK_NAME = "chargepoint.lock"
POLL = 0.05  # seconds between tries while waiting for the holder to let go


class DataDirBusy(Exception):
    """Another live process holds the data directory; the message names it and its PID."""


class DataDirLock:
    """The held lock; closing it (or the process's end) lets the next one in."""

    def __init__(self, directory: Path, wait: float = 0.0) -> None:
        """Take the lock, trying for up to `wait` seconds; DataDirBusy if it stays taken."""
        private_directory(directory)
        self._file = os.fdopen(os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600), "r+")
        deadline = time.monotonic() + wait
        while not self._taken():
            if time.monotonic() >= deadline:
                holder = self._file.read().strip() or "unknown"
                self._file.close()
                raise DataDirBusy(f"data_dir {directory} is in use by PID {holder}; one station per data directory")
            time.sleep(POLL)
        self._file.truncate(0)
        self._file.write(f"{os.getpid()}\n")
        self._file.flush()

    def _taken(self) -> bool:
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> DataDirLock:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
