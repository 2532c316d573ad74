"""The OCPP endpoint on one WebSocket connection: frames in and out, CSMS calls routed.

The endpoint owns no action. Each feature declares the CSMS actions it answers with the `ocpp`
library's `@on` / `@after` on its own methods; the station passes the merged route map of the
features its model serves. So an action no served feature owns is answered CALLERROR
NotSupported here, by itself, and a profile the station does not serve can never be half-served.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.messages import Call
from ocpp.routing import create_route_map
from ocpp.v16 import ChargePoint

from chargepoint.link.framelog import FrameLog
from chargepoint.link.framing import NOT_SUPPORTED, FrameRejected, check_action, check_payload, parse_frame
from chargepoint.link.observer import LinkObserver, Unobserved
from chargepoint.link.replay import Seen, SeenCalls
from chargepoint.security.events import SecurityEvent

log = logging.getLogger(__name__)

Routes = dict[str, dict[str, Any]]
# A feature's own leniency, applied to a CALL before the schema judges it (a vendor message
# whose manual shows JSON where OCPP says text); it edits the payload in place.
Lenience = Callable[[Any], None]
# Where the endpoint reports what it refused for security's sake (whitepaper §8), with techInfo.
SecurityReport = Callable[[SecurityEvent, str], None]
SECURITY_ERROR = "SecurityError"


def unreported(_kind: SecurityEvent, _tech_info: str) -> None:
    """No security log to tell (a station library used without one)."""


def strict(_: Any) -> None:
    """No leniency: every CALL meets the official schema as it came."""


def merge_routes(features: Iterable[object]) -> Routes:
    """One route map for all `features`; an action owned twice is a wiring mistake."""
    merged: Routes = {}
    for feature in features:
        for action, handlers in create_route_map(feature).items():
            if action in merged:
                raise ValueError(f"{action} is answered by two features ({type(feature).__name__} and another)")
            merged[action] = handlers
    return merged


class _LibraryLog(logging.LoggerAdapter[logging.Logger]):
    """The `ocpp` library's logger. The library logs whatever a handler raises with its
    traceback, 14 lines for a CALL a feature refuses on purpose (an OCPPError, which it answers
    with that CALLERROR); such a refusal is one line here. Any other exception is a fault in the
    station and keeps its traceback."""

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        refusal = sys.exc_info()[1]
        if isinstance(refusal, OCPPError) and args and isinstance(args[0], Call):
            log.warning("CSMS request %s refused (%s: %s)", args[0].action, refusal.code, refusal.description)
            return
        super().exception(msg, *args, **kwargs)


class StationEndpoint(ChargePoint):
    def __init__(
        self,
        identity: str,
        connection: Any,
        response_timeout: int,
        frame_log: FrameLog,
        answering: Callable[[], bool],
        routes: Routes,
        lenience: Lenience = strict,
        report: SecurityReport = unreported,
        observer: LinkObserver | None = None,
    ) -> None:
        super().__init__(identity, connection, response_timeout, logger=_LibraryLog(logging.getLogger("ocpp")))
        self._report = report
        self._seen = SeenCalls()
        self._frame_log = frame_log
        self._answering = answering
        self.route_map = routes
        self._lenience = lenience
        self._observer = observer or Unobserved()
        self._idle = asyncio.Event()  # no CSMS request is being handled
        self._idle.set()

    def set_response_timeout(self, seconds: int) -> None:
        """MessageTimeout changed: the library reads this attribute at every CALL."""
        self._response_timeout = seconds

    async def answered(self) -> None:
        """Until the CSMS request being handled, if any, has had its answer sent: a change it
        made (new credentials, say) may close the link only after the CSMS heard Accepted."""
        await self._idle.wait()

    async def route_message(self, raw_msg: str | bytes) -> None:
        self._idle.clear()
        try:
            await self._route(raw_msg)
        finally:
            self._idle.set()

    async def _route(self, raw_msg: str | bytes) -> None:
        # A binary WebSocket frame is read as the UTF-8 text OCPP-J §4.1.2 says it must be.
        self._observer.frame()
        self._frame_log.record("in", raw_msg if isinstance(raw_msg, str) else raw_msg.decode("utf-8", "replace"))
        what = "frame"  # until the frame is known to be a CALL, then its action
        try:
            message = parse_frame(raw_msg)
            if message.message_type_id != 2:
                self._response_queue.put_nowait(message)
                return
            if not self._answering():
                log.info("ignoring %s from the CSMS: registration Rejected", message.action)
                return
            what = str(message.action)
            check_action(message, self.route_map)
            self._lenience(message)
            check_payload(message)
            self._check_replay(message)
        except FrameRejected as rejected:
            if rejected.code == NOT_SUPPORTED:
                log.info("CSMS request not supported by this station: %s", rejected.description)
            elif rejected.code != SECURITY_ERROR:
                log.warning("bad %s from the CSMS (%s: %s)", what, rejected.code, rejected.description)
                self._report(SecurityEvent.invalid_messages, f"bad {what} ({rejected.code}: {rejected.description})")
            if rejected.unique_id is not None:
                await self._send(rejected.call_error())
            return
        await self._handle_call(message)

    def _check_replay(self, message: Call) -> None:
        seen = self._seen.check(message.unique_id, message.action, message.payload)
        if seen is Seen.RESENT:
            log.info("%s %s came again with the same payload: answered as a resend", message.action, message.unique_id)
        elif seen is Seen.REPLAYED:
            info = f"{message.action} reused the message ID {message.unique_id} of an earlier CALL with other content"
            log.warning("refused %s (OCPP-J 4.1.4)", info)
            self._report(SecurityEvent.attempted_replay_attacks, info)
            raise FrameRejected(message.unique_id, SECURITY_ERROR, "message ID already used on this connection")

    async def _send(self, message: str) -> None:
        self._observer.frame()
        self._frame_log.record("out", message)
        await super()._send(message)
