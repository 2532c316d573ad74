"""What stops connector 0, the Charge Point as a whole, stops every connector.

§4.9 says connector 0's status "has no direct connection" to the connectors', but Faulted
means "not available for energy delivery" (§7.7): a GroundFailure or an OverVoltage of the
station cuts the energy of every connector. Each goes Faulted with the station's error, its
contactor open and nothing offered; a running transaction is suspended, not ended, and goes on
when connector 0's fault clears (§4.9: the status "returns to the pre-fault state").
"""

from __future__ import annotations

from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from chargepoint.connector.connectors import Connectors
from chargepoint.connector.state import ConnectorState


class StationWide:
    def __init__(self, station: ConnectorState, connectors: Connectors) -> None:
        self._station = station
        self._connectors = connectors
        station.on_status(self._station_changed)

    def _station_changed(
        self, _connector: int, status: ChargePointStatus, _code: ChargePointErrorCode, _info: str | None
    ) -> None:
        fault = self._station.error if status == ChargePointStatus.faulted else None
        for connector in self._connectors:
            connector.spawn(connector.follow_station(fault))
