"""UnlockConnector (§5.18, Core): a tethered cable has no lock to open, so NotSupported."""

from __future__ import annotations

from typing import ClassVar

from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, UnlockStatus

from chargepoint.connector.connectors import Connectors
from configkeys import FeatureProfile


class Unlocking:
    profile: ClassVar[FeatureProfile] = FeatureProfile.CORE

    def __init__(self, connectors: Connectors) -> None:
        self._connectors = connectors

    @on(Action.unlock_connector, skip_schema_validation=True)
    async def unlock(self, connector_id: int) -> call_result.UnlockConnector:
        connector = self._connectors.number(connector_id)
        if connector is None or connector.evse.tethered:
            return call_result.UnlockConnector(status=UnlockStatus.not_supported)
        return call_result.UnlockConnector(status=await connector.unlock())
