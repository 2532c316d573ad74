"""The station's emergency stop button.

It latches: pressed, it stays pressed until someone turns it to release, and a station that
starts with it pressed must find it so. A board reads it from a GPIO; the bench has the
simulated one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class EmergencyStop(Protocol):
    @property
    def pressed(self) -> bool: ...

    def on_change(self, callback: Callable[[bool], None]) -> None:
        """callback(pressed) each time it is pressed or released."""
        ...
