"""The station's display, dimmed after ScreenSaverTime minutes without anyone at the station
(WEMOB §4.4.7): a card, a cable or the menu counts as someone; 0 never dims."""

from __future__ import annotations

import time

from configkeys import Configuration

KEY = "ScreenSaverTime"


class Display:
    def __init__(self, config: Configuration) -> None:
        self._config = config
        self._last_touch = time.monotonic()

    def touched(self) -> None:
        self._last_touch = time.monotonic()

    @property
    def dimmed(self) -> bool:
        minutes = self._config.integer(KEY)
        return minutes > 0 and time.monotonic() - self._last_touch >= minutes * 60

    @property
    def state(self) -> str:
        return "dimmed" if self.dimmed else "on"
