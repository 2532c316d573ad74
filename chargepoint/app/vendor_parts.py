"""The vendor's own parts of a station, built for the model it emulates: WEMOB's silent mode
with its cabinet and menu (DC models), display and AutoCharge; and, for every model, the front
panel a person at the station meets (reader, PIN pad)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from chargepoint.app.settings import Settings
from chargepoint.authorization.authorizer import AuthorizationMode
from chargepoint.connector.connectors import Connectors
from chargepoint.connector.identification import VehicleId
from chargepoint.control.commands import FrontPanel
from chargepoint.control.server import CommandError, Handler, Reply, Request
from chargepoint.core.data_transfer import DataTransferRegistry
from chargepoint.infra.clock import Clock
from chargepoint.infra.state import StateTable
from chargepoint.vendors.wemob.auto_charge import AutoCharge
from chargepoint.vendors.wemob.cabinet import CabinetSimulation
from chargepoint.vendors.wemob.display import Display
from chargepoint.vendors.wemob.hmi import Hmi, MenuLocked
from chargepoint.vendors.wemob.silent_mode import MESSAGE_ID, SilentMode
from chargepoint.vendors.wemob.system_health import watch_system_health
from configkeys import Configuration

Worker = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class VendorParts:
    panel: FrontPanel
    handlers: dict[str, Handler]  # bench commands of the vendor's own hardware
    workers: list[Worker] = field(default_factory=list)
    reports: list[Callable[[], dict[str, Any]]] = field(default_factory=list)

    def status(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for report in self.reports:
            merged.update(report())
        return merged


def vehicle_ids(settings: Settings, config: Configuration) -> Callable[[str], VehicleId | None] | None:
    """WEMOB AutoCharge, where the model has the key; other stations ignore an EVCCID."""
    if not config.has("AutoChargeEnabled"):
        return None
    return AutoCharge(config, AuthorizationMode(settings.authorization_mode)).vehicle_id


def vendor_parts(
    settings: Settings,
    config: Configuration,
    state: StateTable,
    connectors: Connectors,
    clock: Clock,
    data_transfer: DataTransferRegistry,
) -> VendorParts:
    model = settings.station_model
    if settings.profile != "wemob":
        return VendorParts(FrontPanel(model.name, model.has_rfid, model.has_pin), {"hmi": _no_menu(model.name)})
    display = Display(config)
    for connector in connectors:
        connector.evse.on_pilot_change(lambda _: display.touched())
    watch_system_health(config)
    parts = VendorParts(
        FrontPanel(model.name, model.has_rfid, model.has_pin, display.touched),
        {"hmi": _no_menu(model.name)},
        reports=[lambda: {"display": display.state}],
    )
    if config.has("SilentMode"):  # the DC models (manual table 4.5)
        silent_mode = SilentMode(config, state, connectors, clock, settings.zone)
        data_transfer.register(None, MESSAGE_ID, silent_mode.install, json_data=True)  # any vendorId
        cabinet = CabinetSimulation(silent_mode, connectors, settings.max_current_a)
        hmi = Hmi(config, state, display)
        parts.handlers["hmi"] = _menu(hmi)
        parts.workers += [silent_mode.run, cabinet.run]
        parts.reports += [silent_mode.summary, cabinet.summary, lambda: {"language": hmi.language}]
    return parts


def _menu(hmi: Hmi) -> Handler:
    async def handle(request: Request) -> Reply:
        setting, value = request.get("setting"), str(request.get("value"))
        try:
            if setting == "silent-mode":
                return {"message": hmi.set_silent_mode(value == "on")}
            return {"message": hmi.set_language(value)}
        except MenuLocked as exc:
            raise CommandError(str(exc)) from None

    return handle


def _no_menu(model: str) -> Handler:
    async def handle(_: Request) -> Reply:
        raise CommandError(f"{model} has no configuration menu (EnableHmiConfiguration is on WEMOB DC models only)")

    return handle
