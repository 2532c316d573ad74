"""ChangeAvailability (§5.2, Core) and the stored availability it leaves behind.

§4.9 wants Unavailable to survive a reboot, so the new availability is on flash before the
connectors change and before the CSMS hears the answer.
"""

from __future__ import annotations

from typing import ClassVar

from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, AvailabilityStatus, AvailabilityType

from chargepoint.connector.connectors import Connectors
from chargepoint.connector.state import ConnectorState
from chargepoint.infra.database import Database
from configkeys import FeatureProfile


class AvailabilityTable:
    """Operative/Inoperative per connector, connector 0 being the whole station."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def load(self) -> dict[int, str]:
        return {int(c): a for c, a in self._db.query("SELECT connector, availability FROM connector_availability")}

    def save(self, connector: int, availability: str) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO connector_availability (connector, availability) VALUES (?, ?) "
                "ON CONFLICT(connector) DO UPDATE SET availability = excluded.availability",
                (connector, availability),
            )


class Availability:
    profile: ClassVar[FeatureProfile] = FeatureProfile.CORE

    def __init__(self, station: ConnectorState, connectors: Connectors, table: AvailabilityTable) -> None:
        self._station = station
        self._connectors = connectors
        self._table = table

    @on(Action.change_availability, skip_schema_validation=True)
    async def change_availability(self, connector_id: int, type: str) -> call_result.ChangeAvailability:
        operative = type == AvailabilityType.operative
        if connector_id == 0:
            targets: list[ConnectorState] = [self._station, *self._connectors]
        elif (connector := self._connectors.number(connector_id)) is not None:
            targets = [connector]
        else:
            return call_result.ChangeAvailability(status=AvailabilityStatus.rejected)
        for target in targets:
            self._table.save(target.id, type)
        outcomes = [await target.change_operative(operative) for target in targets]
        status = AvailabilityStatus.scheduled if AvailabilityStatus.scheduled in outcomes else AvailabilityStatus.accepted
        return call_result.ChangeAvailability(status=status)
