"""The OCPP endpoint on one WebSocket connection: frames in and out, CSMS calls routed.

Handlers are one-liners that hand the request to the feature module owning it. They never
await an outbound CALL themselves: the library reads the next frame only after a handler
returns, so a handler waiting on a response would wait forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

from chargepoint.configuration import ConfigurationService
from chargepoint.framelog import FrameLog
from chargepoint.framing import FrameRejected, check_call, parse_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Features:
    """The domain modules that own the CSMS's requests."""

    configuration: ConfigurationService


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

    def set_response_timeout(self, seconds: int) -> None:
        """MessageTimeout changed: the library reads this attribute at every CALL."""
        self._response_timeout = seconds

    async def route_message(self, raw_msg: str) -> None:
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
