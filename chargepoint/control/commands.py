"""Commands of the control socket: status, local configuration and the bench actions.

Bench actions stand in for a person at the station (plugging a cable, swiping a card); they
act on the simulated hardware, which then raises the same events real drivers would.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from chargepoint.connector.connector import Connector
from chargepoint.connector.connectors import Connectors
from chargepoint.connector.charging import Refused
from chargepoint.connector.state import ConnectorBusy, ConnectorState
from chargepoint.connector.status import FAULT_CODES, ErrorKind
from chargepoint.control.server import CommandError, Handler, Reply, Request
from chargepoint.link.connection import Connection
from chargepoint.transactions.queue import TransactionQueue
from chargepoint.vendors.wallbox import id_tag_from_pin
from configkeys import ChangeStatus, Configuration, TooManyKeys
from drivers.battery import changed
from drivers.evse import PilotState
from drivers.simulated import SimulatedEmergencyStop, SimulatedEvse

log = logging.getLogger(__name__)

# DIN 70121 and ISO 15118-2 carry the EVCCID as hexBinary of at most 8 and 6 bytes.
EVCCID = re.compile(r"(?:[0-9A-Fa-f]{2}){1,8}")


@dataclass(frozen=True)
class FrontPanel:
    """What a person at this model finds besides the cable: a card reader, a PIN pad, and a
    display that each of their actions wakes."""

    model: str
    reader: bool
    pin_pad: bool
    touched: Callable[[], None] = lambda: None


class BenchCommands:
    def __init__(
        self,
        link: Connection,
        queue: TransactionQueue,
        config: Configuration,
        station_status: ConnectorState,
        connectors: Connectors,
        reports: Callable[[], dict[str, Any]],
        panel: FrontPanel,
        emergency_button: SimulatedEmergencyStop,
    ) -> None:
        self._emergency_button = emergency_button
        self._reports = reports  # firmware, diagnostics and vendor parts, as each describes itself
        self._panel = panel
        self._link = link
        self._queue = queue
        self._config = config
        self._station_status = station_status
        self._connectors = connectors

    def handlers(self) -> dict[str, Handler]:
        return {
            "status": self.status,
            "config-get": self.config_get,
            "config-set": self.config_set,
            "plug": self.plug,
            "unplug": self.unplug,
            "swipe": self.swipe,
            "pin": self.pin,
            "ev": self.ev,
            "fault": self.fault,
            "lock": self.lock,
            "estop": self.emergency_stop,
        }

    async def status(self, request: Request) -> Reply:
        return {
            "link": self._link.link_state.value,
            "link_error": self._link.link_error,
            "registration": self._link.registration.value if self._link.registration else "None",
            "queued": self._link.queued + len(self._queue),
            "station": {"status": self._station_status.status, "error_code": self._station_status.error_code.value},
            "emergency_stop": self._emergency_button.pressed,
            "connectors": [_connector_status(c) for c in self._connectors],
            **self._reports(),
        }

    async def config_get(self, request: Request) -> Reply:
        return config_get(self._config, request.get("keys") or [])

    async def config_set(self, request: Request) -> Reply:
        key, value = str(request.get("key")), str(request.get("value"))
        reply = config_set(self._config, key, value)
        why = f" ({reply['reason']})" if reply["reason"] else ""
        log.info("config set %s=%s: %s%s", key, self._config.shown(key, value), reply["status"], why)
        return reply

    async def plug(self, request: Request) -> Reply:
        evse = _simulated(self._connector(request))
        evccid = request.get("evccid")
        if evccid is not None and not (isinstance(evccid, str) and EVCCID.fullmatch(evccid)):
            raise CommandError("--evccid must be 1 to 8 bytes in hexadecimal, e.g. 0A1B2C3D4E5F")
        if evse.pilot is not PilotState.A:
            raise CommandError(f"connector {request['connector']}: the cable is already plugged in; nothing changed")
        evse.plug(evccid.upper() if evccid else None)
        self._panel.touched()
        presented = f" (the EV presents EVCCID {evccid.upper()})" if evccid else ""
        return {"message": f"connector {request['connector']}: cable plugged in{presented}"}

    async def unplug(self, request: Request) -> Reply:
        evse = _simulated(self._connector(request))
        if evse.pilot is PilotState.A:
            raise CommandError(f"connector {request['connector']}: no cable is plugged in; nothing changed")
        evse.unplug()
        self._panel.touched()
        return {"message": f"connector {request['connector']}: cable unplugged"}

    async def ev(self, request: Request) -> Reply:
        evse = _simulated(self._connector(request))
        action = request.get("action")
        if action == "battery":
            return _battery(evse, request)
        if action not in ("charge", "suspend"):
            raise CommandError("ev action must be 'charge', 'suspend' or 'battery'")
        if evse.pilot is PilotState.A:
            raise CommandError(f"connector {request['connector']}: no cable is plugged in, so no EV to {action}; plug first")
        if (evse.pilot is PilotState.C) == (action == "charge"):
            already = "already asks for energy" if action == "charge" else "is already paused"
            raise CommandError(f"connector {request['connector']}: the EV {already}; nothing changed")
        if action == "charge" and evse.full:
            raise CommandError(
                f"connector {request['connector']}: the EV is at its target SoC ({evse.battery.target_soc:g} %);"
                f" raise it with `ev {request['connector']} battery --target`"
            )
        if action == "charge":
            evse.ev_charge()
        else:
            evse.ev_suspend()
        return {"message": f"connector {request['connector']}: EV asks to {action}"}

    async def emergency_stop(self, request: Request) -> Reply:
        """Bench: the emergency button, latched until `estop --release`; pressing it ends every
        running transaction with reason EmergencyStop."""
        if request.get("release"):
            if not self._emergency_button.set(False):
                raise CommandError("emergency stop was not pressed; nothing changed")
            return {"message": "emergency stop released"}
        stopped = [c.id for c in self._connectors if c.transaction is not None]
        if not self._emergency_button.set(True):
            raise CommandError("emergency stop is already pressed; nothing changed (`estop --release` releases it)")
        return {
            "message": f"emergency stop pressed: transactions stopped on connectors {stopped or 'none'};"
            " `estop --release` releases it"
        }

    async def lock(self, request: Request) -> Reply:
        """Bench: make the socket lock stick (jam) or work again (free), to test lock failures."""
        evse = _simulated(self._connector(request))
        if evse.tethered:
            raise CommandError(f"connector {request['connector']} has a tethered cable: no lock")
        jam = request.get("state") == "jam"
        if evse.lock_jammed == jam:
            raise CommandError(f"connector {request['connector']}: the lock is already {'jammed' if jam else 'free'}; nothing changed")
        evse.lock_jammed = jam
        return {"message": f"connector {request['connector']}: lock {'jammed' if evse.lock_jammed else 'free'}"}

    async def swipe(self, request: Request) -> Reply:
        if not self._panel.reader:
            raise CommandError(
                f"{self._panel.model} has no RFID reader: start with RemoteStartTransaction (the CPO's app),"
                " or set AuthEnabled false for free charging"
            )
        id_tag = str(request.get("id_tag", ""))
        if not 1 <= len(id_tag) <= 20:
            raise CommandError("idTag must be 1 to 20 characters (OCPP IdToken)")
        return await self._present(id_tag, request)

    async def pin(self, request: Request) -> Reply:
        """Bench: a PIN typed on the station's pad (Wallbox Commander 2)."""
        if not self._panel.pin_pad:
            raise CommandError(f"{self._panel.model} has no PIN pad")
        try:
            id_tag = id_tag_from_pin(str(request.get("code", "")))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        return await self._present(id_tag, request)

    async def _present(self, id_tag: str, request: Request) -> Reply:
        self._panel.touched()
        connector = self._connector(request) if request.get("connector") is not None else self._pick_for(id_tag)
        try:
            shown = await connector.identification.present(id_tag)
        except ConnectorBusy as exc:
            raise CommandError(str(exc)) from None
        if isinstance(shown, Refused):
            raise CommandError(f"connector {connector.id}: {shown}")
        return {"message": f"connector {connector.id}: {shown}"}

    async def fault(self, request: Request) -> Reply:
        number = _connector_number(request)
        code = request.get("code")
        if number == 0:
            target: ConnectorState = self._station_status
        else:
            target = self._connector(request)
        try:
            if code is None:
                if not await target.clear_fault():
                    raise CommandError(self._nothing_to_clear(number))
                return {"message": f"connector {number}: fault cleared"}
            if code not in FAULT_CODES:
                raise CommandError(f"unknown error code {code!r}; one of: {', '.join(FAULT_CODES)}")
            if not await target.fault(ChargePointErrorCode(code), request.get("info")):
                raise CommandError(f"connector {number}: {code} is already raised; nothing changed")
        except ConnectorBusy as exc:
            raise CommandError(str(exc)) from None
        return {"message": f"connector {number}: {code}"}

    def _nothing_to_clear(self, number: int) -> str:
        """Why `fault N --clear` changed nothing: a connector cannot clear the station's fault."""
        station = self._station_status.error
        if number and station is not None and station.kind is ErrorKind.FAULT:
            return (f"connector {number}: the fault is the station's ({station.code.value}); "
                    "`fault 0 --clear` clears it; nothing changed")
        return f"connector {number}: no fault to clear; nothing changed"

    def _connector(self, request: Request) -> Connector:
        number = _connector_number(request)
        connector = self._connectors.number(number)
        if connector is None:
            raise CommandError(f"connector {number} does not exist: this station has connectors 1 to {len(self._connectors)}")
        return connector

    def _pick_for(self, id_tag: str) -> Connector:
        """The connector a reader shared by all connectors would act on; the connector then
        decides whether the idTag may start or stop there."""
        if len(self._connectors) == 1:
            return self._connectors[0]
        for connector in self._connectors:
            if connector.transaction is not None and connector.transaction.id_tag == id_tag:
                return connector
        for wanted in (ChargePointStatus.preparing, ChargePointStatus.reserved, ChargePointStatus.available):
            for connector in self._connectors:
                if connector.status == wanted and connector.transaction is None and _may_take(connector, id_tag):
                    return connector
        charging = [c for c in self._connectors if c.transaction is not None]
        if len(charging) == 1:
            return charging[0]  # perhaps a card of the same group as the owner's
        raise CommandError("no connector can take an idTag now; name one with --connector")


def config_get(config: Configuration, keys: list[str]) -> Reply:
    try:
        reports, unknown = config.get(keys or None)
    except TooManyKeys as exc:
        raise CommandError(str(exc)) from None
    # A write-only key is unknown to a CSMS that reads it (see Configuration.get), but the
    # technician on site may learn whether it is set; never its value.
    write_only = [name for name in unknown if config.has(name)]
    return {
        "keys": [{"key": r.key, "readonly": r.readonly, "value": r.value} for r in reports],
        "unknown": [name for name in unknown if name not in write_only],
        "write_only": [{"key": name, "set": config.value(name) is not None} for name in write_only],
    }


def config_set(config: Configuration, key: str, value: str) -> Reply:
    outcome = config.change_with_reason(key, value)
    accepted = outcome.status in (ChangeStatus.ACCEPTED, ChangeStatus.REBOOT_REQUIRED)
    return {"status": outcome.status.value, "accepted": accepted, "reason": outcome.reason}


def _may_take(connector: Connector, id_tag: str) -> bool:
    """A Reserved connector is the reader's pick only for a card its reservation may admit."""
    return connector.status != ChargePointStatus.reserved or connector.identification.reserved_against(id_tag) is None


def _connector_number(request: Request) -> int:
    number = request.get("connector")
    if not isinstance(number, int) or isinstance(number, bool):
        raise CommandError("a connector number is required")
    return number


def _simulated(connector: Connector) -> SimulatedEvse:
    if not isinstance(connector.evse, SimulatedEvse):
        raise CommandError(f"connector {connector.id} has real hardware: bench actions need the simulated EVSE")
    return connector.evse


def _battery(evse: SimulatedEvse, request: Request) -> Reply:
    """Bench: the car's battery (`ev N battery`); without values, what it is now."""
    changes = request.get("battery") or {}
    if not isinstance(changes, dict):
        raise CommandError("battery values must be an object")
    try:
        evse.set_battery(changed(evse.battery, changes), soc_given="soc" in changes)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    b = evse.battery
    now = f", now {evse.soc:.0f} %" if evse.soc is not None else ""
    return {
        "message": f"connector {request['connector']}: EV battery {b.capacity_kwh:g} kWh, SoC {b.start_soc:g} % at plug-in{now},"
        f" target {b.target_soc:g} %, max {b.max_ac_kw:g} kW AC / {b.max_dc_kw:g} kW DC"
    }


def _connector_status(connector: Connector) -> dict[str, Any]:
    reading = connector.meter.latest
    transaction = connector.transaction
    return {
        "connector": connector.id,
        "status": connector.status,
        "error_code": connector.error_code.value,
        "transaction_id": transaction.transaction_id if transaction else None,
        "id_tag": transaction.id_tag if transaction else connector.identification.id_tag,
        "energy_wh": round(reading.energy_wh, 1) if reading else None,
        "power_w": round(reading.power_w, 1) if reading else None,
        "soc_percent": int(reading.soc_percent) if reading and reading.soc_percent is not None else None,  # the EV's
        "offered_a": connector.evse.offered_current,
        "limit_a": connector.limit,  # None: no charging profile limits the connector
        "limit_source": connector.limit_source,
        "locked": connector.evse.locked,
        "derated_a": connector.derated,  # None: the cabinet lets the full current through
        "asking": connector.identification.asking,  # why the station asks for a card, if it does
        "reservation_id": connector.reservation,  # the reservation holding the connector, if any
    }
