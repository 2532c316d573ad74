"""The drivers a connector runs on, as the settings name them.

Real meters come from their URL; the EV, cable and pilot are simulated on the bench, and the
simulated cable, EV battery, meter register and emergency stop button are found again where
they were when the station stopped.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import asdict

from drivers.battery import Battery
from drivers.evse import PilotState
from drivers.meter import Meter
from drivers.meter_url import MeterSpec, RtuSpec, SimSpec, figures_of, open_meter
from drivers.simulated import SimulatedEmergencyStop, SimulatedEvse, SimulatedMeter
from chargepoint.app.settings import Settings, SettingsError
from chargepoint.infra.state import StateTable


def simulated_evse(settings: Settings, number: int, state: StateTable) -> SimulatedEvse:
    """The car on connector `number`; its battery is what `ev N battery` last said, else one whose
    flat power is `ev_power_w`."""
    name, battery_name = f"simulated-pilot-{number}", f"simulated-ev-battery-{number}"
    stored = state.get(battery_name)
    evse = SimulatedEvse(
        settings.ev_power_w,
        tethered=not settings.station_model.has_lock,
        pilot=PilotState(state.get(name) or PilotState.A),
        battery=Battery(**json.loads(stored)) if stored else None,
        dc=settings.station_model.current_type == "DC",
    )
    evse.on_pilot_change(lambda pilot: state.set(name, pilot.value))
    evse.on_battery_change(lambda battery: state.set(battery_name, json.dumps(asdict(battery))))
    return evse


def ev_reports_soc(settings: Settings) -> bool:
    """A DC car always tells the station its SoC (DIN 70121, ISO 15118-2); on AC only an
    ISO 15118 car does, which the settings say."""
    return settings.station_model.current_type == "DC" or settings.ev_reports_soc


def reading_figures(settings: Settings, spec: MeterSpec) -> frozenset[str]:
    """What a connector's readings hold: the meter's figures, SoC only where the EV reports it."""
    figures = figures_of(spec)
    return figures if ev_reports_soc(settings) else figures - {"soc_percent"}


def simulated_emergency_stop(state: StateTable) -> SimulatedEmergencyStop:
    """Found as it was left: the button latches, a restart does not release it."""
    name = "simulated-emergency-stop"
    button = SimulatedEmergencyStop(pressed=state.get(name) == "pressed")
    button.on_change(lambda pressed: state.set(name, "pressed" if pressed else "released"))
    return button


def meter_for(settings: Settings, number: int, spec: MeterSpec, evse: SimulatedEvse, fsync: bool = True) -> Meter:
    """A simulated meter measures what the simulated EV draws; its register is kept in data_dir
    (not in the station's database: it is the meter's memory, and outlives a station reset)."""
    if isinstance(spec, SimSpec):
        soc = (lambda: evse.soc) if ev_reports_soc(settings) else (lambda: None)
        register = settings.data_dir / f"simulated-meter-{number}.wh"
        return SimulatedMeter(lambda: evse.power_w, register, evse.delivered, soc, fsync)
    if isinstance(spec, RtuSpec):
        _check_serial_device(spec.device)
    return open_meter(spec)


_NOT_SERIAL = ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a directory"), (stat.S_ISBLK, "a block device"))


def _check_serial_device(path: str) -> None:
    """Stops the start at a path that holds something other than a serial line. A missing path
    does not: a USB adapter or a socat pair may appear later, and until then the CSMS sees
    PowerMeterFailure instead of a station that never connects."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not stat.S_ISCHR(mode):
        kind = next((name for test, name in _NOT_SERIAL if test(mode)), "no character device")
        raise SettingsError([f"meters: {path} is {kind}, not a serial device (a character device or pty)"])
