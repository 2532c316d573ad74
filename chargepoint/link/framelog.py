"""The log of every OCPP frame, one JSON object per line: what GetDiagnostics sends a CSMS.

It is size-capped: past `max_bytes` the file becomes `<name>.1`, `.1` becomes `.2` and so on,
keeping `files` files in all, and a new one starts, so a board's flash never fills with frames.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from chargepoint.infra.clock import Clock
from chargepoint.infra.secrets import SecretScrubber

UNCAPPED = 0
KEPT_FILES = 2  # the current file and one older

FrameListener = Callable[[dict[str, Any]], None]


def rotated(path: Path, number: int = 1) -> Path:
    return path.with_name(f"{path.name}.{number}")


def shift(path: Path, files: int) -> None:
    """The current file becomes `.1`, `.1` becomes `.2`…; the one beyond `files` is gone."""
    for number in range(files - 1, 0, -1):
        newer = rotated(path, number - 1) if number > 1 else path
        if newer.exists():
            os.replace(newer, rotated(path, number))
    if files == 1:
        path.unlink()


class FrameLog:
    def __init__(
        self, path: Path | None, clock: Clock, scrubber: SecretScrubber, max_bytes: int = UNCAPPED, files: int = KEPT_FILES
    ) -> None:
        self._clock = clock
        self._scrubber = scrubber
        self._path = path
        self._max_bytes = max_bytes
        self._files = files
        self._file: TextIO | None = None
        self._listeners: list[FrameListener] = []
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._drop_beyond_kept()
            self._file = self._open(path)

    @property
    def files(self) -> tuple[Path, ...]:
        """Oldest first, as a diagnostics file takes them."""
        if self._path is None:
            return ()
        return (*(rotated(self._path, n) for n in range(self._files - 1, 0, -1)), self._path)

    def _drop_beyond_kept(self) -> None:
        """Older files that a larger `files` once kept: left alone, nothing would ever remove them."""
        assert self._path is not None
        for old in self._path.parent.glob(f"{self._path.name}.*"):
            number = old.name.removeprefix(f"{self._path.name}.")
            if number.isdecimal() and int(number) >= self._files:
                old.unlink()

    @staticmethod
    def _open(path: Path) -> TextIO:
        return open(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a", encoding="utf-8", buffering=1)

    def listen(self, listener: FrameListener) -> Callable[[], None]:
        """Each line as it is recorded, secrets already scrubbed, with or without a file: the
        bench's web page shows them live, and a scenario run watches the exchange through it
        rather than a second client on the link. Returns the call that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def record(self, direction: str, frame: str) -> None:
        """direction is 'in' (from the CSMS) or 'out'; the frame is kept as text if not JSON."""
        if (self._file is None or self._path is None) and not self._listeners:
            return
        text = self._scrubber.scrub(frame)
        try:
            parsed: object = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
            parsed = text
        line = {"time": self._clock.timestamp(), "direction": direction, "frame": parsed}
        for listener in list(self._listeners):
            listener(line)
        if self._file is None or self._path is None:
            return
        self._file.write(json.dumps(line, separators=(",", ":")) + "\n")
        if self._max_bytes and self._file.tell() > self._max_bytes:
            self._file.close()
            shift(self._path, self._files)
            self._file = self._open(self._path)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
