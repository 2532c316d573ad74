"""Simulated hardware for the bench and tests: an EV on a connector, a meter it drives, and the
emergency stop button."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from drivers.battery import Battery, charged, curve_power_w
from drivers.evse import PilotState
from drivers.meter import MeterReading
from drivers.register import DurableRegister

NOMINAL_VOLTAGE = 230.0
NOMINAL_FREQUENCY = 50.0


class SimulatedEvse:
    """The station side of one connector with a simulated EV behind it.

    The EV draws what its battery's charging curve asks for, capped by what the offered current
    allows on three phases, and only while it asks for energy (pilot C) and the contactor is
    closed. Each plug-in is a car arriving at the battery's starting SoC; it stops asking at
    the target (pilot B, SuspendedEV).
    """

    def __init__(
        self,
        ev_power_w: float,
        tethered: bool,
        pilot: PilotState = PilotState.A,
        phases: int = 3,
        battery: Battery | None = None,
        dc: bool = False,
    ) -> None:
        self.battery = battery or Battery(max_ac_kw=ev_power_w / 1000, max_dc_kw=ev_power_w / 1000)
        self._dc = dc
        self._soc = self.battery.start_soc
        self._full = False  # the car itself stopped asking, at its target
        self._battery_listeners: list[Callable[[Battery], None]] = []
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
        wanted = curve_power_w(self.battery.max_power_w(self._dc), self._soc, self.battery.target_soc)
        return min(wanted, self._offered * NOMINAL_VOLTAGE * self._phases)

    @property
    def soc(self) -> float | None:
        """The car's state of charge in %, as it reports it; None with no car plugged in."""
        return None if self._pilot is PilotState.A else self._soc

    @property
    def full(self) -> bool:
        """The car is at its target and asks for no more energy."""
        return self._soc >= self.battery.target_soc

    def delivered(self, energy_wh: float) -> None:
        """The meter counted `energy_wh` more into the car: at its target it stops asking."""
        if self._pilot is PilotState.A:
            return
        self._soc = charged(self._soc, energy_wh, self.battery.capacity_kwh)
        if self.full and self._pilot is PilotState.C:
            self._full = True
            self._set_pilot(PilotState.B)

    def on_battery_change(self, callback: Callable[[Battery], None]) -> None:
        self._battery_listeners.append(callback)

    def set_battery(self, battery: Battery, soc_given: bool = False) -> None:
        """Bench: new values for the car. A SoC given is the plugged car's SoC now too; a car
        that stopped at its target asks again when the target is raised."""
        if soc_given:
            self._soc = battery.start_soc
        self.battery = battery
        for listener in self._battery_listeners:
            listener(battery)
        if self._full and not self.full and self._pilot is PilotState.B:
            self._full = False
            self._set_pilot(PilotState.C)

    @property
    def evccid(self) -> str | None:
        return self._evccid

    # Bench actions: what a person does with the car and the cable.
    def plug(self, evccid: str | None = None) -> None:
        self._evccid = evccid
        self._soc, self._full = self.battery.start_soc, False
        self._set_pilot(PilotState.B)

    def unplug(self) -> None:
        self._evccid = None
        self._set_pilot(PilotState.A)

    def ev_charge(self) -> None:
        self._full = False
        self._set_pilot(PilotState.C)

    def ev_suspend(self) -> None:
        self._full = False
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

    def __init__(
        self,
        power: Callable[[], float],
        register: Path | None = None,
        delivered: Callable[[float], None] = lambda energy_wh: None,
        soc: Callable[[], float | None] = lambda: None,
        fsync: bool = True,
    ) -> None:
        self._power = power
        self._delivered = delivered  # the EV counts the same energy into its battery
        self._soc = soc  # the EV's SoC where it reports one (DC, ISO 15118)
        self._register = DurableRegister(register, fsync=fsync)
        self._last = time.monotonic()
        self._last_power = 0.0

    async def read(self) -> MeterReading:
        now = time.monotonic()
        # The power seen at the previous read held until now: the station polls often enough
        # (about once a second) that a change in between costs at most one poll's worth.
        added = self._last_power * (now - self._last) / 3600
        energy_wh = self._register.add(added)
        self._delivered(added)
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
            soc_percent=self._soc(),
        )

    async def close(self) -> None:
        self._register.close()
