"""The log of every OCPP frame, one JSON object per line: what GetDiagnostics sends a CSMS.

It is size-capped like the station's log: past `max_bytes` the file becomes `<name>.1`
(replacing the older one) and a new one starts, so a board's flash never fills with frames.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TextIO

from chargepoint.infra.clock import Clock
from chargepoint.infra.secrets import SecretScrubber

UNCAPPED = 0


def rotated(path: Path) -> Path:
    return path.with_name(path.name + ".1")


class FrameLog:
    def __init__(self, path: Path | None, clock: Clock, scrubber: SecretScrubber, max_bytes: int = UNCAPPED) -> None:
        self._clock = clock
        self._scrubber = scrubber
        self._path = path
        self._max_bytes = max_bytes
        self._file: TextIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self._open(path)

    @property
    def files(self) -> tuple[Path, ...]:
        """Oldest first, as a diagnostics file takes them."""
        return () if self._path is None else (rotated(self._path), self._path)

    @staticmethod
    def _open(path: Path) -> TextIO:
        return open(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a", encoding="utf-8", buffering=1)

    def record(self, direction: str, frame: str) -> None:
        """direction is 'in' (from the CSMS) or 'out'; the frame is kept as text if not JSON."""
        if self._file is None or self._path is None:
            return
        text = self._scrubber.scrub(frame)
        try:
            parsed: object = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
            parsed = text
        line = {"time": self._clock.timestamp(), "direction": direction, "frame": parsed}
        self._file.write(json.dumps(line, separators=(",", ":")) + "\n")
        if self._max_bytes and self._file.tell() > self._max_bytes:
            self._file.close()
            os.replace(self._path, rotated(self._path))
            self._file = self._open(self._path)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
