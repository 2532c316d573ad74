"""The OCPP endpoint on one WebSocket connection: frames in and out, CSMS calls routed.

Handlers are one-liners that hand the request to the feature module owning it. They never
await an outbound CALL themselves: the library reads the next frame only after a handler
returns, so a handler waiting on a response would wait forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

from chargepoint.configuration import ConfigurationService
from chargepoint.framelog import FrameLog
from chargepoint.framing import FrameRejected, check_call, parse_frame

if TYPE_CHECKING:  # feature modules import session, which imports this module
    from chargepoint.authorization import Authorizer
    from chargepoint.remote import RemoteControl
    from chargepoint.reset import ResetService
    from chargepoint.data_transfer import DataTransfers
    from chargepoint.triggers import Triggers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Features:
    """The domain modules that own the CSMS's requests."""

    configuration: ConfigurationService
    authorization: Authorizer
    remote: RemoteControl
    reset: ResetService
    triggers: Triggers
    data_transfer: DataTransfers


class StationEndpoint(ChargePoint):
    def __init__(
        self,
        identity: str,
        connection: Any,
        response_timeout: int,
        frame_log: FrameLog,
        answering: Callable[[], bool],
        features: Features,
    ) -> None:
        super().__init__(identity, connection, response_timeout, logger=logging.getLogger("ocpp"))
        self._frame_log = frame_log
        self._answering = answering
        self._features = features
        self._handled = set(self.route_map)
        self._idle = asyncio.Event()  # no CSMS request is being handled
        self._idle.set()

    def set_response_timeout(self, seconds: int) -> None:
        """MessageTimeout changed: the library reads this attribute at every CALL."""
        self._response_timeout = seconds

    async def answered(self) -> None:
        """Until the CSMS request being handled, if any, has had its answer sent: a change it
        made (new credentials, say) may close the link only after the CSMS heard Accepted."""
        await self._idle.wait()

    async def route_message(self, raw_msg: str) -> None:
        self._idle.clear()
        try:
            await self._route(raw_msg)
        finally:
            self._idle.set()

    async def _route(self, raw_msg: str) -> None:
        self._frame_log.record("in", raw_msg)
        try:
            message = parse_frame(raw_msg)
            if message.message_type_id != 2:
                self._response_queue.put_nowait(message)
                return
            if not self._answering():
                log.info("ignoring %s from the CSMS: registration Rejected", message.action)
                return
            check_call(message, self._handled)
        except FrameRejected as rejected:
            log.warning("bad frame from the CSMS (%s: %s)", rejected.code, rejected.description)
            if rejected.unique_id is not None:
                await self._send(rejected.call_error())
            return
        await self._handle_call(message)

    async def _send(self, message: str) -> None:
        self._frame_log.record("out", message)
        await super()._send(message)

    @on(Action.get_configuration, skip_schema_validation=True)
    def on_get_configuration(self, key: list[str] | None = None) -> call_result.GetConfiguration:
        return self._features.configuration.get_configuration(key)

    @on(Action.change_configuration, skip_schema_validation=True)
    def on_change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        return self._features.configuration.change_configuration(key, value)

    @on(Action.remote_start_transaction, skip_schema_validation=True)
    def on_remote_start_transaction(
        self, id_tag: str, connector_id: int | None = None, charging_profile: dict[str, Any] | None = None
    ) -> call_result.RemoteStartTransaction:
        return self._features.remote.remote_start(id_tag, connector_id, charging_profile)

    @on(Action.remote_stop_transaction, skip_schema_validation=True)
    def on_remote_stop_transaction(self, transaction_id: int) -> call_result.RemoteStopTransaction:
        return self._features.remote.remote_stop(transaction_id)

    @on(Action.unlock_connector, skip_schema_validation=True)
    async def on_unlock_connector(self, connector_id: int) -> call_result.UnlockConnector:
        return await self._features.remote.unlock(connector_id)

    @on(Action.change_availability, skip_schema_validation=True)
    async def on_change_availability(self, connector_id: int, type: str) -> call_result.ChangeAvailability:
        return await self._features.remote.change_availability(connector_id, type)

    @on(Action.reset, skip_schema_validation=True)
    def on_reset(self, type: str) -> call_result.Reset:
        return self._features.reset.reset(type)

    @on(Action.clear_cache, skip_schema_validation=True)
    def on_clear_cache(self) -> call_result.ClearCache:
        return self._features.authorization.clear_cache()

    @on(Action.get_local_list_version, skip_schema_validation=True)
    def on_get_local_list_version(self) -> call_result.GetLocalListVersion:
        return self._features.authorization.get_local_list_version()

    @on(Action.send_local_list, skip_schema_validation=True)
    def on_send_local_list(
        self, list_version: int, update_type: str, local_authorization_list: list[dict[str, Any]] | None = None
    ) -> call_result.SendLocalList:
        return self._features.authorization.send_local_list(list_version, update_type, local_authorization_list)

    @on(Action.trigger_message, skip_schema_validation=True)
    def on_trigger_message(self, requested_message: str, connector_id: int | None = None) -> call_result.TriggerMessage:
        return self._features.triggers.answer(requested_message, connector_id)

    @after(Action.trigger_message)
    async def after_trigger_message(self, requested_message: str, connector_id: int | None = None) -> None:
        await self._features.triggers.send(requested_message, connector_id)

    @on(Action.data_transfer, skip_schema_validation=True)
    def on_data_transfer(self, vendor_id: str, message_id: str | None = None, data: str | None = None) -> call_result.DataTransfer:
        return self._features.data_transfer.answer(vendor_id, message_id)
