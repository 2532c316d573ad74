"""A real OCPP 1.6J Central System for the tests.

Tests assert on what the station puts on the wire, so this server records every frame in both
directions before the `ocpp` library gets to see it (malformed and unanswered frames included),
and its answers are plain attributes a test may change at any moment.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

CALL, CALLRESULT, CALLERROR = 2, 3, 4
SUBPROTOCOL = "ocpp1.6"

Payload = dict[str, Any]


@dataclass(frozen=True)
class Frame:
    """One WebSocket message as it crossed the wire.

    `message_type`, `unique_id`, `action` and `payload` are None where the raw text does not
    carry them (a non-string unique id counts as missing), so a malformed frame is still
    recorded and can be asserted on. For a CALLERROR the payload is
    {"errorCode", "errorDescription", "errorDetails"}. `at` is time.monotonic()
    (for measuring intervals), `wall` the UTC wall clock (for comparing with timestamps).
    """

    direction: str  # "in" = from the station, "out" = to the station
    message_type: int | None
    unique_id: str | None
    action: str | None
    payload: Any
    raw: str | bytes
    at: float
    wall: datetime = field(compare=False)
    identity: str | None = field(default=None, compare=False)  # the station that sent or got it


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _item(message: list[Any], index: int) -> Any:
    return message[index] if len(message) > index else None


def _parse(direction: str, raw: str | bytes, actions: dict[tuple[str, str], str]) -> Frame:
    """Parse leniently: a frame the station gets wrong is evidence, not an error here."""
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        message = None
    kind = _item(message, 0) if isinstance(message, list) else None
    if kind not in (CALL, CALLRESULT, CALLERROR):
        return Frame(direction, None, None, None, None, raw, time.monotonic(), datetime.now(UTC))
    unique_id = _item(message, 1)
    if not isinstance(unique_id, str):
        unique_id = None
    if kind == CALL:
        action, payload = _item(message, 2), _item(message, 3)
        if unique_id is not None and isinstance(action, str):
            actions[(direction, unique_id)] = action
    else:
        # A response carries no action; take it from the CALL it answers (sent the other way).
        action = actions.get(("out" if direction == "in" else "in", unique_id))
        payload = (
            _item(message, 2)
            if kind == CALLRESULT
            else {
                "errorCode": _item(message, 2),
                "errorDescription": _item(message, 3),
                "errorDetails": _item(message, 4),
            }
        )
    return Frame(direction, kind, unique_id, action, payload, raw, time.monotonic(), datetime.now(UTC))


class _CentralSystem(ChargePoint):
    """The `ocpp` library's view of one station connection; answers come from the Csms knobs."""

    def __init__(self, identity: str, connection: ServerConnection, csms: Csms) -> None:
        super().__init__(identity, connection, response_timeout=3600)
        self._csms = csms
        # Responses to CALLs made through the library; the rest (call_raw) must not reach its queue.
        self.library_call_ids: set[str] = set()

    async def route_message(self, raw_msg: str | bytes) -> None:
        frame = self._csms._record("in", raw_msg, self.id)
        if frame.message_type == CALL:
            if frame.action in self._csms.ignore:
                return
            if frame.action in self._csms.answers:
                answer = self._csms.answers[frame.action](frame.payload)
                await self._send(json.dumps([CALLRESULT, frame.unique_id, answer]))
                return
            if frame.action in self._csms.errors:
                error = [CALLERROR, frame.unique_id, self._csms.errors[frame.action], "injected by test CSMS", {}]
                await self._send(json.dumps(error))
                return
        elif frame.message_type in (CALLRESULT, CALLERROR) and frame.unique_id not in self.library_call_ids:
            return
        await super().route_message(raw_msg)

    async def _send(self, message: str) -> None:
        self._csms._record("out", message, self.id)
        await super()._send(message)

    @on("BootNotification")
    def _boot(self, **_: Any) -> call_result.BootNotification:
        return call_result.BootNotification(
            current_time=_utc_now(), interval=self._csms.boot_interval, status=self._csms.boot_status
        )

    @on("Heartbeat")
    def _heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=self._csms.heartbeat_time or _utc_now())

    @on("StatusNotification")
    def _status(self, **_: Any) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on("Authorize")
    def _authorize(self, id_tag: str) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info=self._csms.id_tag_info(id_tag))

    @on("StartTransaction")
    def _start(self, id_tag: str, **_: Any) -> call_result.StartTransaction:
        return call_result.StartTransaction(
            transaction_id=self._csms.take_transaction_id(),
            id_tag_info=self._csms.start_id_tags.get(id_tag) or self._csms.id_tag_info(id_tag),
        )

    @on("StopTransaction")
    def _stop(self, id_tag: str | None = None, **_: Any) -> call_result.StopTransaction:
        return call_result.StopTransaction(id_tag_info=self._csms.id_tag_info(id_tag) if id_tag else None)

    @on("MeterValues")
    def _meter_values(self, **_: Any) -> call_result.MeterValues:
        return call_result.MeterValues()

    @on("DataTransfer")
    def _data_transfer(self, **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status=self._csms.data_transfer_status)

    @on("DiagnosticsStatusNotification")
    def _diagnostics_status(self, **_: Any) -> call_result.DiagnosticsStatusNotification:
        return call_result.DiagnosticsStatusNotification()

    @on("FirmwareStatusNotification")
    def _firmware_status(self, **_: Any) -> call_result.FirmwareStatusNotification:
        return call_result.FirmwareStatusNotification()

    # The 1.6 security extension, for stations configured with a security profile.

    @on("SecurityEventNotification")
    def _security_event(self, **_: Any) -> call_result.SecurityEventNotification:
        return call_result.SecurityEventNotification()

    @on("SignCertificate")
    def _sign_certificate(self, **_: Any) -> call_result.SignCertificate:
        return call_result.SignCertificate(status="Accepted")

    @on("LogStatusNotification")
    def _log_status(self, **_: Any) -> call_result.LogStatusNotification:
        return call_result.LogStatusNotification()

    @on("SignedFirmwareStatusNotification")
    def _signed_firmware_status(self, **_: Any) -> call_result.SignedFirmwareStatusNotification:
        return call_result.SignedFirmwareStatusNotification()


class Csms:
    """A Central System on 127.0.0.1; calls go to the last station connected unless an
    identity names another.

    Every public attribute below is a knob read at the moment a request arrives, so a test can
    change the CSMS's mind mid-session (e.g. boot Pending, then Accepted).
    """

    def __init__(
        self,
        *,
        boot_status: str = "Accepted",
        boot_interval: int = 60,
        heartbeat_time: str | None = None,
        id_tags: dict[str, Payload] | None = None,
        start_id_tags: dict[str, Payload] | None = None,
        data_transfer_status: str = "Accepted",
        basic_auth: tuple[str, str | bytes] | None = None,
        reject_auth: bool = False,
        errors: dict[str, str] | None = None,
        ignore: set[str] | None = None,
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.boot_status = boot_status  # Accepted | Pending | Rejected
        self.boot_interval = boot_interval  # heartbeat interval, or retry interval when not Accepted
        self.heartbeat_time = heartbeat_time  # fixed currentTime for Heartbeat; None = now (UTC)
        self.id_tags: dict[str, Payload] = id_tags or {}  # idTag -> idTagInfo; unknown tags Accepted
        self.start_id_tags: dict[str, Payload] = start_id_tags or {}  # StartTransaction overrides
        self.next_transaction_id = 1
        self.data_transfer_status = data_transfer_status
        self.basic_auth = basic_auth  # (username, password as text or bytes) the upgrade must carry; None = no check
        self.reject_auth = reject_auth  # answer every upgrade with 401
        self.errors: dict[str, str] = errors or {}  # action -> CALLERROR code to answer with
        self.ignore: set[str] = ignore or set()  # actions recorded but never answered
        # action -> the answer's payload from the request's, sent as it is (no schema check)
        self.answers: dict[str, Callable[[Any], Payload]] = {}

        self.frames: list[Frame] = []
        self.connections = 0  # accepted WebSocket connections
        self.refused = 0  # upgrades answered with 401
        self.last_path: str | None = None  # of the last upgrade request, accepted or not
        self.last_headers: Headers | None = None
        self.client_certificates: list[bytes | None] = []  # DER the station presented, per connection

        self._port = port
        self._tls = tls  # serve wss:// on "localhost" with this server context
        self._server: Server | None = None
        self._station: _CentralSystem | None = None  # the last station connected
        self._stations: dict[str, _CentralSystem] = {}  # by identity, for several at once
        self._connected = asyncio.Event()
        self._arrived = asyncio.Event()
        self._call_actions: dict[tuple[str, str], str] = {}

    async def __aenter__(self) -> Self:
        self._server = await serve(
            self._serve,
            "127.0.0.1",
            self._port,
            subprotocols=[SUBPROTOCOL],
            process_request=self._check_request,
            ssl=self._tls,
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "Csms not started"
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """Where the station connects; it appends its identity as the last path segment."""
        return f"wss://localhost:{self.port}/ocpp" if self._tls else f"ws://127.0.0.1:{self.port}/ocpp"

    @property
    def identity(self) -> str | None:
        """The station identity taken from the last upgrade request's path."""
        return self.last_path.rstrip("/").rsplit("/", 1)[-1] if self.last_path else None

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def disconnect(self) -> None:
        """Close the station's link as a CSMS restart would, so reconnect logic can be tested."""
        station = self._station
        self._station = None
        self._connected.clear()
        if station is not None:
            await station._connection.close()

    async def wait_connected(self, timeout: float = 10.0) -> None:
        """Return once a station is connected (after disconnect(): once it has reconnected)."""
        async with asyncio.timeout(timeout):
            await self._connected.wait()

    async def wait_connections(self, count: int, timeout: float = 10.0) -> None:
        """Until the station has opened `count` connections in all: a reconnect after n is n + 1."""
        async with asyncio.timeout(timeout):
            while self.connections < count:
                await asyncio.sleep(0.02)

    def id_tag_info(self, id_tag: str) -> Payload:
        return self.id_tags.get(id_tag, {"status": "Accepted"})

    def take_transaction_id(self) -> int:
        transaction_id = self.next_transaction_id
        self.next_transaction_id += 1
        return transaction_id

    def received(self, action: str) -> list[Frame]:
        """Incoming CALL frames of one action, in arrival order (`at` gives retry spacing)."""
        return [f for f in self.frames if f.direction == "in" and f.message_type == CALL and f.action == action]

    def calls(self, action: str) -> list[Any]:
        return [f.payload for f in self.received(action)]

    async def wait_for(
        self,
        action: str,
        predicate: Callable[[Any], bool] | None = None,
        timeout: float = 10.0,
        after: int | None = None,
        identity: str | None = None,
    ) -> Frame:
        """Wait for an incoming CALL of `action` whose payload satisfies `predicate`.

        `after` is an index into `frames` (typically `len(csms.frames)` taken before the action
        under test), so earlier frames of the same action do not satisfy the wait. `identity`
        limits the wait to one station's frames.
        """

        def match(frame: Frame) -> bool:
            return (
                frame.direction == "in"
                and identity in (None, frame.identity)
                and frame.message_type == CALL
                and frame.action == action
                and (predicate is None or predicate(frame.payload))
            )

        return await self._wait_frame(match, timeout, after or 0, f"CALL {action}")

    async def next_incoming_response(self, unique_id: str, timeout: float = 10.0, after: int = 0) -> list[Any]:
        """The station's CALLRESULT or CALLERROR for `unique_id`, as the parsed JSON list;
        `after` (an index into `frames`) spares a long session a scan from the start."""

        def match(frame: Frame) -> bool:
            return (
                frame.direction == "in"
                and frame.message_type in (CALLRESULT, CALLERROR)
                and frame.unique_id == unique_id
            )

        frame = await self._wait_frame(match, timeout, after, f"response to {unique_id}")
        return json.loads(frame.raw)

    async def call(self, payload: Any, timeout: float = 10.0, identity: str | None = None) -> Any:
        """Send a CALL through the `ocpp` library (schema-validated both ways), to the station
        `identity` names, or the last one connected.

        Returns the call_result dataclass; a CALLERROR raises the matching OCPPError.
        """
        station = self._stations[identity] if identity is not None else self._require_station()
        unique_id = str(uuid.uuid4())
        station.library_call_ids.add(unique_id)
        async with asyncio.timeout(timeout):
            return await station.call(payload, suppress=False, unique_id=unique_id)

    async def call_raw(self, action: str, payload: Any, timeout: float = 10.0) -> list[Any]:
        """Send a CALL without schema validation, to see how the station handles bad requests."""
        unique_id = str(uuid.uuid4())
        await self.send_raw(json.dumps([CALL, unique_id, action, payload]))
        return await self.next_incoming_response(unique_id, timeout)

    async def send_raw(self, text: str | bytes) -> None:
        """Send text as the CSMS wrote it; bytes go out as a binary WebSocket frame."""
        await self._require_station()._send(text)

    def _require_station(self) -> _CentralSystem:
        if self._station is None:
            raise RuntimeError(f"no station connected to {self.url}")
        return self._station

    def _record(self, direction: str, raw: str | bytes, identity: str) -> Frame:
        frame = replace(_parse(direction, raw, self._call_actions), identity=identity)
        self.frames.append(frame)
        # Wake every waiter, then arm a fresh event for the next frame.
        self._arrived.set()
        self._arrived = asyncio.Event()
        return frame

    async def _wait_frame(self, match: Callable[[Frame], bool], timeout: float, start: int, what: str) -> Frame:
        index = start
        try:
            async with asyncio.timeout(timeout):
                while True:
                    arrived = self._arrived
                    for frame in self.frames[index:]:
                        if match(frame):
                            return frame
                    index = len(self.frames)
                    await arrived.wait()
        except TimeoutError:
            seen = [(f.direction, f.message_type, f.action) for f in self.frames[start:]]
            raise TimeoutError(f"no {what} within {timeout}s; frames since #{start}: {seen}") from None

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse the upgrade with 401 when the station's Basic-auth credentials are wrong."""
        self.last_path = request.path
        self.last_headers = request.headers
        if self.reject_auth or (
            self.basic_auth is not None and request.headers.get("Authorization") != _basic(*self.basic_auth)
        ):
            self.refused += 1
            return connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        return None

    async def _serve(self, connection: ServerConnection) -> None:
        identity = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
        station = _CentralSystem(identity, connection, self)
        self._station = station
        self._stations[identity] = station
        self.connections += 1
        tls = connection.transport.get_extra_info("ssl_object")
        self.client_certificates.append(tls.getpeercert(binary_form=True) if tls is not None else None)
        self._connected.set()
        try:
            await station.start()
        except ConnectionClosed:
            pass
        finally:
            if self._station is station:
                self._station = None
                self._connected.clear()


def _basic(username: str, password: str | bytes) -> str:
    secret = password if isinstance(password, bytes) else password.encode()
    return "Basic " + base64.b64encode(username.encode() + b":" + secret).decode()
