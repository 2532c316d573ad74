"""Process-wide logging for the commands that run a station: one line per event on stderr.

Handlers are global to the process, so only a command (`run`, `demo`) installs them; a Station
object never does, and several stations in one process share what the command set up.
"""

from __future__ import annotations

import logging

from chargepoint.infra.secrets import ScrubbingFilter, SecretScrubber


def setup_logging(level: str, scrubber: SecretScrubber) -> None:
    """One line per event on stderr, where systemd's journal collects it."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(ScrubbingFilter(scrubber))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The ocpp library logs whole frames at INFO; our frame log is the place for those.
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    for chatty in ("websockets", "transitions"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
