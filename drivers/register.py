"""The energy register of a simulated meter, kept across restarts as a real meter keeps it.

A real meter's register never reads lower than it once did, whatever happens to the station;
the next meterStart is never below the last meterStop. Writing every reading to flash would
wear it once a second, so the file holds a ceiling a little ahead of what was read and is
rewritten only when a reading passes it. After a SIGKILL or a power cut the register resumes
at that ceiling: at most HEADROOM_WH appear that nobody drew, but nothing already reported
(a meterStop, a MeterValues) is above the new start. A clean stop saves the exact value.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

HEADROOM_WH = 100.0


class DurableRegister:
    """Energy in Wh; with no file it lives only as long as the process (tests, the demo)."""

    def __init__(
        self, path: Path | None, start_wh: float = 0.0, headroom_wh: float = HEADROOM_WH, fsync: bool = True
    ) -> None:
        """Without `fsync` (a fleet's emulated meters) the file survives the process being
        killed but not the host losing power, and no write waits for the disk."""
        self._path = path
        self._fsync = fsync
        self._headroom = headroom_wh
        stored = _load(path) if path is not None else None
        self.wh = start_wh if stored is None else stored
        self._ceiling = self.wh  # on disk (or nothing to keep): no value shown is ever above it

    def add(self, wh: float) -> float:
        """Count `wh` more; the register to show, durable before it is returned."""
        self.wh += wh
        if self._path is not None and self.wh > self._ceiling:
            self._ceiling = self.wh + self._headroom
            _save(self._path, self._ceiling, self._fsync)
        return self.wh

    def close(self) -> None:
        """A clean stop: the exact value, so a restart adds nothing."""
        if self._path is not None:
            _save(self._path, self.wh, self._fsync)
            self._ceiling = self.wh


def _load(path: Path) -> float | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return float(text)
    except ValueError:
        log.warning("%s holds no energy register (%r); starting from the configured value", path, text[:40])
        return None


def _save(path: Path, wh: float, fsync: bool) -> None:
    """Write, fsync, rename, fsync the directory: after a crash the file holds the old value or
    the new one, never half of one."""
    scratch = path.with_name(path.name + ".tmp")
    with scratch.open("w") as file:
        file.write(f"{wh!r}\n")  # repr: read back exactly
        file.flush()
        if fsync:
            os.fsync(file.fileno())
    os.replace(scratch, path)
    if not fsync:
        return
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
