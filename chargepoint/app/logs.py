"""Process-wide logging for the commands that run a station: one line per event on stderr,
and the same lines in the station's own size-capped file, which GetDiagnostics sends.

Handlers are global to the process, so only a command (`run`, `demo`) installs them; a Station
object never does, and several stations in one process share what the command set up.
"""

from __future__ import annotations

import logging
import os
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path

from chargepoint.infra.secrets import ScrubbingFilter, SecretScrubber

LINE = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _UtcFormatter(logging.Formatter):
    """ISO 8601 in UTC, the form of OCPP's startTime and stopTime, so a diagnostics request can
    pick its entries whatever zone the board is set to."""

    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"

    def converter(self, seconds: float | None) -> time.struct_time:
        return time.gmtime(seconds)


def setup_logging(level: str, scrubber: SecretScrubber, log_file: Path | None = None, max_bytes: int = 0) -> None:
    """stderr for systemd's journal; `log_file` (rotated past `max_bytes`) for diagnostics."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    handlers[0].setFormatter(logging.Formatter(LINE))
    if log_file is not None:
        log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(log_file, os.O_CREAT | os.O_WRONLY, 0o600))  # created private, not by umask
        file_handler = RotatingFileHandler(log_file, maxBytes=max_bytes, backupCount=1, encoding="utf-8")
        file_handler.setFormatter(_UtcFormatter(LINE))
        handlers.append(file_handler)
    root = logging.getLogger()
    for handler in handlers:
        handler.addFilter(ScrubbingFilter(scrubber))
    root.handlers[:] = handlers
    root.setLevel(level)
    # The ocpp library logs whole frames at INFO; our frame log is the place for those.
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    for chatty in ("websockets", "transitions", "aiohttp"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    # pymodbus logs each failed attempt (errors included) and its own "Repeating…" lines; the
    # meter driver raises each failure and the meter watch logs it, rate-limited.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
