"""RemoteStartTransaction and RemoteStopTransaction (§5.11, §5.12, Core profile).

Each answer reflects what the station will really do: a command is Accepted only when the
connector can act on it, and the work that follows (authorizing, waiting for the cable) runs
after the answer has left, so a handler never waits on another CALL.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Protocol

from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, AuthorizationStatus, ChargingProfilePurposeType, Reason, RemoteStartStopStatus

from chargepoint.authorization.authorizer import Authorizer
from chargepoint.connector.connector import Connector
from chargepoint.connector.connectors import Connectors
from chargepoint.link.outbox import Outbox
from configkeys import Configuration, FeatureProfile

log = logging.getLogger(__name__)


class TxProfiles(Protocol):
    """Smart Charging, where served: the TxProfile of a RemoteStartTransaction (§5.11)."""

    def refusal(self, connector_id: int, payload: dict[str, Any], transaction_id: int | None | bool) -> str | None: ...

    def install(self, connector_id: int, payload: dict[str, Any]) -> None: ...


class RemoteTransactions:
    profile: ClassVar[FeatureProfile] = FeatureProfile.CORE

    def __init__(
        self,
        connectors: Connectors,
        outbox: Outbox,
        authorizer: Authorizer,
        config: Configuration,
        tx_profiles: TxProfiles | None,
    ) -> None:
        self._connectors = connectors
        self._outbox = outbox
        self._authorizer = authorizer
        self._config = config
        self._tx_profiles = tx_profiles

    @on(Action.remote_start_transaction, skip_schema_validation=True)
    def remote_start(
        self, id_tag: str, connector_id: int | None = None, charging_profile: dict[str, Any] | None = None
    ) -> call_result.RemoteStartTransaction:
        connector = self._pick(connector_id, id_tag)
        refusal = self._start_refusal(connector, charging_profile, id_tag)
        if refusal is not None:
            log.info("RemoteStartTransaction for %s rejected: %s", id_tag, refusal)
            return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.rejected)
        assert connector is not None
        if charging_profile is not None and self._tx_profiles is not None:
            self._tx_profiles.install(connector.id, charging_profile)  # it governs the transaction to come
        elif charging_profile is not None:
            log.info("connector %d: the TxProfile is not applied: Smart Charging is not served", connector.id)
        connector.spawn(self._start_remotely(connector, id_tag))
        return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.accepted)

    def _pick(self, connector_id: int | None, id_tag: str) -> Connector | None:
        """Without a connectorId the station chooses: a cable already in wins over an empty socket,
        and a connector reserved for another idTag is passed over."""
        if connector_id is not None:
            return self._connectors.number(connector_id)
        free = [c for c in self._connectors if c.idle and c.identification.reserved_against(id_tag) is None]
        return next((c for c in free if c.plugged), free[0] if free else None)

    def _start_refusal(self, connector: Connector | None, profile: dict[str, Any] | None, id_tag: str) -> str | None:
        if not self._outbox.accepted:
            return "the station is not Accepted yet"
        if connector is None:
            return "no such connector, or none free"
        if not connector.idle:
            return f"connector {connector.id} is {connector.status}"
        if (reserved := connector.identification.reserved_against(id_tag)) is not None:
            return reserved  # §5.13
        if profile is not None and profile.get("charging_profile_purpose") != ChargingProfilePurposeType.tx_profile:
            return "a RemoteStartTransaction profile must be a TxProfile"
        if profile is not None and self._tx_profiles is not None:
            return self._tx_profiles.refusal(connector.id, profile, None)  # the transaction is still to come
        return None

    async def _start_remotely(self, connector: Connector, id_tag: str) -> None:
        if self._config.boolean("AuthorizeRemoteTxRequests"):
            verdict = await self._authorizer.authorize(id_tag)
            if verdict.status != AuthorizationStatus.accepted:
                log.info("connector %d: remote start for %s not authorized (%s)", connector.id, id_tag, verdict.status)
                return
        log.info("connector %d: remote start for %s: %s", connector.id, id_tag, await connector.identification.remote_authorized(id_tag))

    @on(Action.remote_stop_transaction, skip_schema_validation=True)
    def remote_stop(self, transaction_id: int) -> call_result.RemoteStopTransaction:
        connector = self._connectors.with_transaction(transaction_id)
        if connector is not None:
            connector.spawn(connector.charging.stop(Reason.remote))
            return call_result.RemoteStopTransaction(status=RemoteStartStopStatus.accepted)
        log.info("RemoteStopTransaction: no running transaction %d", transaction_id)
        return call_result.RemoteStopTransaction(status=RemoteStartStopStatus.rejected)
