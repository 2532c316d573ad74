"""Simulated hardware for the bench and tests: an EV on a connector, a meter it drives, and the
emergency stop button."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from drivers.evse import PilotState
from drivers.meter import MeterReading
from drivers.register import DurableRegister

NOMINAL_VOLTAGE = 230.0
NOMINAL_FREQUENCY = 50.0


class SimulatedEvse:
    """The station side of one connector with a simulated EV behind it.

    The EV draws its configured power, capped by what the offered current allows on three
    phases, and only while it asks for energy (pilot C) and the contactor is closed.
    """

    def __init__(self, ev_power_w: float, tethered: bool, pilot: PilotState = PilotState.A, phases: int = 3) -> None:
        self.ev_power_w = ev_power_w
        self._tethered = tethered
        self._phases = phases
        self._pilot = pilot  # a real pilot is read from the board at start; the simulation remembers it
        self._contactor = False
        self._offered = 0.0
        self.locked = False
        self.lock_jammed = False
        self._evccid: str | None = None
        self._listeners: list[Callable[[PilotState], None]] = []

    @property
    def pilot(self) -> PilotState:
        return self._pilot

    @property
    def tethered(self) -> bool:
        return self._tethered

    def on_pilot_change(self, callback: Callable[[PilotState], None]) -> None:
        self._listeners.append(callback)

    def set_contactor(self, closed: bool) -> None:
        self._contactor = closed

    def set_offered_current(self, amps: float) -> None:
        self._offered = amps

    @property
    def offered_current(self) -> float:
        return self._offered

    def set_lock(self, locked: bool) -> bool:
        if self._tethered or self.lock_jammed:
            return False
        self.locked = locked
        return True

    @property
    def power_w(self) -> float:
        if not self._contactor or self._pilot is not PilotState.C:
            return 0.0
        return min(self.ev_power_w, self._offered * NOMINAL_VOLTAGE * self._phases)

    @property
    def evccid(self) -> str | None:
        return self._evccid

    # Bench actions: what a person does with the car and the cable.
    def plug(self, evccid: str | None = None) -> None:
        self._evccid = evccid
        self._set_pilot(PilotState.B)

    def unplug(self) -> None:
        self._evccid = None
        self._set_pilot(PilotState.A)

    def ev_charge(self) -> None:
        self._set_pilot(PilotState.C)

    def ev_suspend(self) -> None:
        self._set_pilot(PilotState.B)

    def _set_pilot(self, state: PilotState) -> None:
        if state is self._pilot:
            return
        self._pilot = state
        for listener in self._listeners:
            listener(state)


class SimulatedEmergencyStop:
    """The emergency stop button for the bench: once pressed it stays so until released (`set(False)`)."""

    def __init__(self, pressed: bool = False) -> None:
        self._pressed = pressed
        self._listeners: list[Callable[[bool], None]] = []

    @property
    def pressed(self) -> bool:
        return self._pressed

    def on_change(self, callback: Callable[[bool], None]) -> None:
        self._listeners.append(callback)

    def set(self, pressed: bool) -> bool:
        """Press or release; False when it already was so."""
        if pressed is self._pressed:
            return False
        self._pressed = pressed
        for listener in self._listeners:
            listener(pressed)
        return True


class SimulatedMeter:
    """An energy register integrating the power of a power source over monotonic time; kept in
    `register` across restarts, as a real meter keeps it."""

    def __init__(self, power: Callable[[], float], register: Path | None = None, fsync: bool = True) -> None:
        self._power = power
        self._register = DurableRegister(register, fsync=fsync)
        self._last = time.monotonic()
        self._last_power = 0.0

    async def read(self) -> MeterReading:
        now = time.monotonic()
        # The power seen at the previous read held until now: the station polls often enough
        # (about once a second) that a change in between costs at most one poll's worth.
        energy_wh = self._register.add(self._last_power * (now - self._last) / 3600)
        power = self._power()
        self._last, self._last_power = now, power
        per_phase = power / 3
        return MeterReading(
            energy_wh,
            power,
            datetime.now(timezone.utc),
            voltage_v=(NOMINAL_VOLTAGE,) * 3,
            current_a=(per_phase / NOMINAL_VOLTAGE,) * 3,
            phase_power_w=(per_phase,) * 3,
            frequency_hz=NOMINAL_FREQUENCY,
            export_energy_wh=0.0,
            power_factor=1.0,
        )

    async def close(self) -> None:
        self._register.close()
