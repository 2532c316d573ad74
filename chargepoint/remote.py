"""CSMS commands on connectors: RemoteStart/StopTransaction, UnlockConnector, ChangeAvailability.

Each answer reflects what the station will really do: a command is Accepted only when the
connector can act on it, and the work that follows (authorizing, waiting for the cable) runs
after the answer has left, so a handler never waits on another CALL.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import (
    AuthorizationStatus,
    AvailabilityStatus,
    AvailabilityType,
    ChargePointStatus,
    ChargingProfilePurposeType,
    Reason,
    RegistrationStatus,
    RemoteStartStopStatus,
    UnlockStatus,
)

from chargepoint.authorization import Authorizer
from chargepoint.charging import Connector
from chargepoint.connector import ConnectorStatus
from chargepoint.session import Session
from chargepoint.smart_charging import ChargingProfiles
from chargepoint.store import AvailabilityTable
from configkeys import Configuration

log = logging.getLogger(__name__)


class RemoteControl:
    def __init__(
        self,
        connectors: Sequence[Connector],
        station_status: ConnectorStatus,
        session: Session,
        authorizer: Authorizer,
        config: Configuration,
        profiles: ChargingProfiles,
        availability: AvailabilityTable,
    ) -> None:
        self._connectors = connectors
        self._station_status = station_status
        self._session = session
        self._authorizer = authorizer
        self._config = config
        self._profiles = profiles
        self._availability = availability

    def _connector(self, number: int | None) -> Connector | None:
        if number is None or not 1 <= number <= len(self._connectors):
            return None
        return self._connectors[number - 1]

    # §5.11 RemoteStartTransaction --------------------------------------------------------

    def remote_start(
        self, id_tag: str, connector_id: int | None = None, charging_profile: dict[str, Any] | None = None
    ) -> call_result.RemoteStartTransaction:
        connector = self._pick(connector_id)
        refusal = self._start_refusal(connector, charging_profile)
        if refusal is not None:
            log.info("RemoteStartTransaction for %s rejected: %s", id_tag, refusal)
            return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.rejected)
        assert connector is not None
        if charging_profile is not None:
            self._profiles.set_tx_profile(connector.id, charging_profile)
        connector.spawn(self._start_remotely(connector, id_tag))
        return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.accepted)

    def _pick(self, connector_id: int | None) -> Connector | None:
        """Without a connectorId the station chooses: a cable already in wins over an empty socket."""
        if connector_id is not None:
            return self._connector(connector_id)
        free = [c for c in self._connectors if c.idle]
        return next((c for c in free if c.plugged), free[0] if free else None)

    def _start_refusal(self, connector: Connector | None, profile: dict[str, Any] | None) -> str | None:
        if self._session.registration != RegistrationStatus.accepted:
            return "the station is not Accepted yet"
        if connector is None:
            return "no such connector, or none free"
        if not connector.idle:
            return f"connector {connector.id} is {connector.status.status}"
        if profile is not None and profile.get("charging_profile_purpose") != ChargingProfilePurposeType.tx_profile:
            return "a RemoteStartTransaction profile must be a TxProfile"
        return None

    async def _start_remotely(self, connector: Connector, id_tag: str) -> None:
        if self._config.boolean("AuthorizeRemoteTxRequests"):
            verdict = await self._authorizer.authorize(id_tag)
            if verdict.status != AuthorizationStatus.accepted:
                log.info("connector %d: remote start for %s not authorized (%s)", connector.id, id_tag, verdict.status)
                return
        log.info("connector %d: remote start for %s: %s", connector.id, id_tag, await connector.remote_authorized(id_tag))

    # §5.12 RemoteStopTransaction ---------------------------------------------------------

    def remote_stop(self, transaction_id: int) -> call_result.RemoteStopTransaction:
        for connector in self._connectors:
            running = connector.transaction
            if running is not None and running.transaction_id == transaction_id:
                connector.spawn(connector.stop(Reason.remote))
                return call_result.RemoteStopTransaction(status=RemoteStartStopStatus.accepted)
        log.info("RemoteStopTransaction: no running transaction %d", transaction_id)
        return call_result.RemoteStopTransaction(status=RemoteStartStopStatus.rejected)

    # §5.18 UnlockConnector ---------------------------------------------------------------

    async def unlock(self, connector_id: int) -> call_result.UnlockConnector:
        connector = self._connector(connector_id)
        if connector is None or connector.evse.tethered:
            return call_result.UnlockConnector(status=UnlockStatus.not_supported)
        return call_result.UnlockConnector(status=await connector.unlock())

    # §5.2 ChangeAvailability -------------------------------------------------------------

    async def change_availability(self, connector_id: int, type: str) -> call_result.ChangeAvailability:
        operative = type == AvailabilityType.operative
        if connector_id == 0:
            targets = list(self._connectors)
        elif (connector := self._connector(connector_id)) is not None:
            targets = [connector]
        else:
            return call_result.ChangeAvailability(status=AvailabilityStatus.rejected)
        for number in [0] * (connector_id == 0) + [c.id for c in targets]:
            self._availability.save(number, type)  # §4.9: must survive a reboot; stored first
        if connector_id == 0:
            await self._station_status.move_to(ChargePointStatus.available if operative else ChargePointStatus.unavailable)
        outcomes = [await connector.set_operative(operative) for connector in targets]
        status = AvailabilityStatus.scheduled if AvailabilityStatus.scheduled in outcomes else AvailabilityStatus.accepted
        return call_result.ChangeAvailability(status=status)
