"""What stops connector 0, the Charge Point as a whole, stops every connector.

§4.9 says connector 0's status "has no direct connection" to the connectors', but Faulted
means "not available for energy delivery" (§7.7): a GroundFailure or an OverVoltage of the
station cuts the energy of every connector. Each goes Faulted with the station's error, its
contactor open and nothing offered; a running transaction is suspended, not ended, and goes on
when connector 0's fault clears (§4.9: the status "returns to the pre-fault state").

The emergency stop button ends every transaction (reason EmergencyStop) and holds connector 0
and every connector Unavailable until it is released; it latches, so a station that starts
with it pressed starts Unavailable.
"""

from __future__ import annotations

import logging

from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from chargepoint.connector.connectors import Connectors
from chargepoint.connector.state import ConnectorState
from drivers.emergency_stop import EmergencyStop

log = logging.getLogger(__name__)


class StationWide:
    def __init__(self, station: ConnectorState, connectors: Connectors, button: EmergencyStop) -> None:
        self._station = station
        self._connectors = connectors
        self._button = button
        station.on_status(self._station_changed)
        button.on_change(self._button_changed)

    async def start(self) -> None:
        """Before anything resumes at start: a button left pressed still holds the station."""
        if self._button.pressed:
            log.warning("emergency stop pressed at start: the station stays Unavailable until it is released")
            for part in (self._station, *self._connectors):
                await part.emergency_stop(True)

    def _station_changed(
        self, _connector: int, status: ChargePointStatus, _code: ChargePointErrorCode, _info: str | None
    ) -> None:
        fault = self._station.error if status == ChargePointStatus.faulted else None
        for connector in self._connectors:
            connector.spawn(connector.follow_station(fault))

    def _button_changed(self, pressed: bool) -> None:
        log.warning("emergency stop %s", "pressed: ending every transaction" if pressed else "released")
        for part in (self._station, *self._connectors):
            part.spawn(part.emergency_stop(pressed))
