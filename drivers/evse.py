"""The EVSE hardware behind one connector: control pilot, contactor, offered current, lock.

Real boards implement this over GPIO/PWM; the simulated one serves the bench and the tests.
The station only ever talks to this interface, so both behave the same to the state machine.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Protocol


class PilotState(StrEnum):
    """IEC 61851-1 control pilot states."""

    A = "A"  # no vehicle
    B = "B"  # vehicle connected, not asking for energy
    C = "C"  # vehicle asks for energy
    E = "E"  # short / no pilot: an error the EVSE must treat as a fault
    F = "F"  # EVSE not available


class Evse(Protocol):
    @property
    def pilot(self) -> PilotState: ...

    @property
    def tethered(self) -> bool:
        """A fixed cable: there is nothing to lock or unlock at the station."""
        ...

    def on_pilot_change(self, callback: Callable[[PilotState], None]) -> None: ...

    def set_contactor(self, closed: bool) -> None: ...

    def set_offered_current(self, amps: float) -> None:
        """The current the pilot PWM duty advertises; 0 tells the EV not to draw."""
        ...

    def set_lock(self, locked: bool) -> bool:
        """Drive the socket lock; False when the lock did not reach the position."""
        ...

    @property
    def locked(self) -> bool: ...

    @property
    def power_w(self) -> float:
        """Power flowing through the contactor now (what a meter would see)."""
        ...

    @property
    def offered_current(self) -> float: ...

    @property
    def evccid(self) -> str | None:
        """The EV's EVCCID (hex) from its DIN 70121 / ISO 15118 SessionSetupReq, while the
        cable is in; None for an EV that talks no high-level protocol."""
        ...
