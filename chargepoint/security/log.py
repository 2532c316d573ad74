"""The security log (whitepaper A04.FR.04, N01.FR.05): every security event, critical or not, one
JSON object per line, {"time", "event", "techInfo"}; what GetLog SecurityLog uploads.

It only grows, size-capped and rolling like the frame log ("it is recommended to implement this
in a rolling format"): past `max_bytes` the file becomes `security.log.1` and a new one starts, so
the board's flash never fills. Nothing but `clear` removes an entry, and clearing is itself the
next entry (SecurityLogWasCleared, raised by the caller), so a wiped log still says it was wiped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from chargepoint.diagnostics.window import Window, frame_log_lines
from chargepoint.link.framelog import rotated, shift

MAX_BYTES = 1024 * 1024
KEPT_FILES = 2  # the current file and one older


class SecurityLog:
    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, files: int = KEPT_FILES) -> None:
        self._path = path
        self._max_bytes = max_bytes
        self._files = files
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._file = self._open()

    def _open(self) -> TextIO:
        descriptor = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return open(descriptor, "a", encoding="utf-8", buffering=1)

    @property
    def files(self) -> tuple[Path, ...]:
        """Oldest first."""
        return (*(rotated(self._path, n) for n in range(self._files - 1, 0, -1)), self._path)

    def append(self, time: str, event: str, tech_info: str | None) -> None:
        line = {"time": time, "event": event, "techInfo": tech_info}
        self._file.write(json.dumps(line, separators=(",", ":")) + "\n")
        if self._file.tell() > self._max_bytes:
            self._file.close()
            shift(self._path, self._files)
            self._file = self._open()

    def entries(self, window: Window = Window()) -> Iterator[str]:
        """The lines inside `window`, oldest first, each ending in a newline."""
        return frame_log_lines(self._lines(), window)

    def _lines(self) -> Iterator[str]:
        for path in self.files:
            try:
                with path.open(encoding="utf-8", errors="replace") as lines:
                    yield from lines
            except FileNotFoundError:
                continue

    def clear(self) -> None:
        self._file.close()
        for path in self.files[:-1]:
            path.unlink(missing_ok=True)
        os.truncate(self._path, 0)
        self._file = self._open()

    def close(self) -> None:
        self._file.close()
