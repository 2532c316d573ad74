"""Optional diagnostics log of every OCPP frame, one JSON object per line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from chargepoint.infra.clock import Clock
from chargepoint.infra.secrets import SecretScrubber


class FrameLog:
    def __init__(self, path: Path | None, clock: Clock, scrubber: SecretScrubber) -> None:
        self._clock = clock
        self._scrubber = scrubber
        self._file: TextIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8", buffering=1)

    def record(self, direction: str, frame: str) -> None:
        """direction is 'in' (from the CSMS) or 'out'; the frame is kept as text if not JSON."""
        if self._file is None:
            return
        text = self._scrubber.scrub(frame)
        try:
            parsed: object = json.loads(text)
        except ValueError:
            parsed = text
        line = {"time": self._clock.timestamp(), "direction": direction, "frame": parsed}
        self._file.write(json.dumps(line, separators=(",", ":")) + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
