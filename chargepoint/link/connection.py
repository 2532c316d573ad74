"""The connection to the CSMS: connect, register with BootNotification, keep alive, reconnect.

Everything the station sends goes through one FIFO, drained by a single sender, so there is
never more than one outstanding CALL and messages leave in the order they were produced
(spec §4.9 wants status notifications in event order). Nothing but BootNotification leaves
before the CSMS has Accepted the station (§4.2). The connection is the features' outbox
(link.outbox); it owns BootNotification, Heartbeat and the keys HeartbeatInterval,
WebSocketPingInterval and MessageTimeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import websockets
from ocpp.exceptions import OCPPError
from ocpp.messages import UnknownCallErrorCodeError
from ocpp.v16 import call
from ocpp.v16.enums import RegistrationStatus
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from chargepoint.infra.clock import Clock
from chargepoint.link.config import LinkConfig
from chargepoint.link.endpoint import Lenience, Routes, SecurityReport, StationEndpoint, strict, unreported
from chargepoint.link.errors import describe
from chargepoint.link.framelog import FrameLog
from chargepoint.link.observer import LinkObserver, Unobserved, timed
from chargepoint.link.outbox import CallFailed, NotAccepted
from chargepoint.link.security import InsecureLink, LinkSecurity
from configkeys import Configuration

log = logging.getLogger(__name__)

# What the library raises for a CALLERROR code outside OCPP-J or an answer unlike the schema;
# OCPPError itself is handled on its own where its code is worth reporting.
UNUSABLE_ANSWERS: tuple[type[Exception], ...] = (OCPPError, UnknownCallErrorCodeError, ValueError, TypeError)
BOOT_FAILURES: tuple[type[Exception], ...] = (*UNUSABLE_ANSWERS, asyncio.TimeoutError)
RETRY_WHEN_NO_INTERVAL = 60.0  # Boot retry when a Pending/Rejected answer gives interval 0
FIRST_RECONNECT_DELAY = 0.5
PROBE_TIMEOUT = 10  # seconds a ping after an unanswered CALL may take to come back


class LinkState(StrEnum):
    """The three link states the Wallbox app shows."""

    CONNECTING = "Connecting"
    CONNECTED = "Connected"
    ERROR = "Error"


class LinkSecurityProvider(Protocol):
    """What each connection presents (security.SecurityProfiles), told how connects went."""

    def current(self) -> LinkSecurity: ...

    def connected(self, used: LinkSecurity) -> None: ...

    def failed(self, used: LinkSecurity | None, exc: BaseException) -> None: ...


@dataclass
class _Outgoing:
    payload: Any
    answer: asyncio.Future[Any]


class Connection:
    def __init__(
        self,
        link: LinkConfig,
        security: LinkSecurityProvider,
        config: Configuration,
        clock: Clock,
        boot: call.BootNotification,
        frame_log: FrameLog,
        observer: LinkObserver | None = None,
    ) -> None:
        self._link = link
        self._observer = observer or Unobserved()
        self._security = security
        self._config = config
        self._clock = clock
        self._boot = boot
        self._frame_log = frame_log
        self._routes: Routes = {}
        self._lenience: Lenience = strict
        self._on_registered: list[Callable[[bool], None]] = []
        self.link_state = LinkState.CONNECTING
        self.registration: RegistrationStatus | None = None
        self.link_error: str | None = None  # why the last connect failed, until one succeeds
        self._queue: asyncio.Queue[_Outgoing] = asyncio.Queue()
        self._endpoint: StationEndpoint | None = None
        self._connection: ClientConnection | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._ping: asyncio.Task[None] | None = None
        self._ever_accepted = False
        self._open = asyncio.Event()  # set while Accepted on a live link
        self._renewals: set[asyncio.Task[None]] = set()
        self._exchange = asyncio.Lock()  # held while one queued CALL awaits its answer
        self._presented: LinkSecurity | None = None  # what the latest connect attempt presented
        self._closing: str | None = None  # why the station itself is closing the live link
        self._report: SecurityReport = unreported
        config.subscribe("HeartbeatInterval", lambda _: self._restart_heartbeat())
        config.subscribe("WebSocketPingInterval", lambda _: self._restart_ping())
        config.subscribe("MessageTimeout", self._new_timeout)

    @property
    def _timeout(self) -> int:
        """MessageTimeout (OCPP errata): how long a CALL waits for its answer."""
        return self._config.integer("MessageTimeout")

    def _new_timeout(self, _: str) -> None:
        if self._endpoint is not None:
            self._endpoint.set_response_timeout(self._timeout)

    def serve(self, routes: Routes, lenience: Lenience = strict) -> None:
        """The CSMS actions the station answers: the merged route maps of its features."""
        self._routes, self._lenience = routes, lenience

    def report_to(self, report: SecurityReport) -> None:
        """Where invalid and replayed CALLs are reported (whitepaper §8)."""
        self._report = report

    def on_registered(self, listener: Callable[[bool], None]) -> None:
        """listener(first_time) each time the station is Accepted on a new connection."""
        self._on_registered.append(listener)

    @property
    def url(self) -> str:
        return self._link.url

    @property
    def status_text(self) -> str:
        """The link state as the Wallbox app names it, and the registration."""
        registration = self.registration.value if self.registration else "not registered"
        return f"link {self.link_state.value}, {registration}"

    @property
    def accepted(self) -> bool:
        return self._connection is not None and self.registration == RegistrationStatus.accepted

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    async def wait_accepted(self) -> None:
        """Until the link is up and the station Accepted: when queued messages may go out."""
        await self._open.wait()

    def enqueue(self, payload: Any) -> asyncio.Future[Any]:
        """Queue a CALL now, keeping event order; the future gets the answer or the failure."""
        if not self.accepted:
            raise NotAccepted(f"{type(payload).__name__} not sent: link {self.link_state}, registration {self.registration}")
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Outgoing(payload, answer))
        return answer

    def renew(self, reason: str) -> None:
        """Close the live connection so the next one uses new credentials or a new profile.
        When a CSMS request caused this, its answer goes out first (protocol.answered), and
        a CALL of ours in flight gets its answer (within MessageTimeout) before the close, so
        neither side has an exchange cut in half."""
        connection, endpoint = self._connection, self._endpoint
        if connection is None or endpoint is None:
            return

        async def close() -> None:
            await endpoint.answered()
            held = False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._timeout):
                    held = await self._exchange.acquire()
            try:
                log.info("reconnecting to the CSMS: %s", reason)
                if self._connection is connection:
                    self._closing = reason
                await connection.close(code=1000, reason=reason)
            finally:
                if held:
                    self._exchange.release()

        task = asyncio.get_running_loop().create_task(close())
        self._renewals.add(task)
        task.add_done_callback(self._renewals.discard)

    async def request(self, payload: Any) -> Any:
        """Send a CALL and return the CSMS's answer; raises NotAccepted or CallFailed."""
        return await self.enqueue(payload)

    async def run(self) -> None:
        """Stay connected for the life of the process."""
        failures = 0
        while True:
            self.link_state = LinkState.CONNECTING
            try:
                registered = await self._connect_and_serve()
            except (OSError, websockets.exceptions.WebSocketException, asyncio.TimeoutError, InsecureLink) as exc:
                self.link_state, self.link_error = LinkState.ERROR, describe(exc, self.url)
                log.warning("CSMS link to %s failed: %s", self.url, self.link_error)
                self._observer.connect_failed(self.link_error)
                self._security.failed(self._presented, exc)
                registered = False
            # Only a link that got as far as an accepted registration resets the backoff, so a
            # CSMS that accepts sockets and drops them at once is not hammered.
            failures = 0 if registered else failures + 1
            delay = min(self._link.reconnect_max_delay, FIRST_RECONNECT_DELAY * 2 ** min(failures, 16))
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))

    async def _connect_and_serve(self) -> bool:
        """Serve one connection until it closes; True if the station was Accepted on it."""
        self._presented = None
        self._closing = None
        security = self._presented = self._security.current()
        async with connect(
            self.url,
            subprotocols=[Subprotocol("ocpp1.6")],
            additional_headers=security.headers,
            open_timeout=self._timeout,
            ping_interval=None,  # WebSocketPingInterval drives pings, see _keep_alive
            close_timeout=3,
            ssl=security.tls,
            max_size=2**20,
        ) as connection:
            if connection.subprotocol != "ocpp1.6":
                raise websockets.exceptions.InvalidHandshake("CSMS did not agree to subprotocol ocpp1.6")
            self._security.connected(security)
            self.link_state, self.link_error = LinkState.CONNECTED, None
            log.info("connected to %s", self.url)
            endpoint = StationEndpoint(
                self._link.identity, connection, self._timeout, self._frame_log, self._answering, self._routes,
                self._lenience, self._report, self._observer,
            )
            reader = asyncio.create_task(endpoint.start())
            sender: asyncio.Task[None] | None = None
            registered = False
            try:
                self._connection, self._endpoint = connection, endpoint
                self._restart_ping()
                registration = asyncio.create_task(self._register(endpoint))
                await asyncio.wait({reader, registration}, return_when=asyncio.FIRST_COMPLETED)
                registered = self.accepted and registration.done() and not registration.cancelled()
                if registered:
                    sender = asyncio.create_task(self._send_queued(endpoint))
                    self._open.set()
                    self._restart_heartbeat()
                    for listener in self._on_registered:
                        listener(not self._ever_accepted)
                    self._ever_accepted = True
                registration.cancel()
                for outcome in await asyncio.gather(reader, registration, return_exceptions=True):
                    if isinstance(outcome, Exception) and not isinstance(outcome, websockets.exceptions.ConnectionClosed):
                        log.error("CSMS link task failed: %r", outcome)
            finally:
                self._open.clear()
                for task in (reader, sender, self._heartbeat, self._ping):
                    if task is not None:
                        task.cancel()
                self._connection = self._endpoint = None
                self.link_state = LinkState.CONNECTING  # until the next connect says otherwise
                self._fail_queued("link to the CSMS lost")
            if self._closing is None:  # renew() and a missing pong have said why already
                if connection.protocol.close_rcvd is None:
                    log.warning("link to the CSMS lost without a close frame (network cut or CSMS gone)")
                else:
                    log.warning("CSMS closed the link (%s)", connection.close_reason or connection.close_code)
        return registered

    def _answering(self) -> bool:
        """After a Rejected boot the station answers nothing until it boots again (§4.2)."""
        return self.registration != RegistrationStatus.rejected

    async def _register(self, endpoint: StationEndpoint) -> None:
        """BootNotification until Accepted; a reconnect after acceptance needs no new boot."""
        if self._ever_accepted:
            return
        while True:
            try:
                answer = await timed(self._observer, endpoint.call(self._boot, suppress=False), self._boot)
            except BOOT_FAILURES as exc:
                log.warning("BootNotification failed: %s", _reason(exc))
                await asyncio.sleep(self._timeout)
                continue
            self.registration = RegistrationStatus(answer.status)
            self._observer.registered(answer.status)
            self._clock.set_from_csms(answer.current_time)
            log.info("BootNotification %s, interval %s s", answer.status, answer.interval)
            if self.registration == RegistrationStatus.accepted:
                if answer.interval > 0 and self._config.change("HeartbeatInterval", str(answer.interval)) != "Accepted":
                    log.warning("boot interval %s s is outside HeartbeatInterval's bounds; keeping the key", answer.interval)
                return
            await asyncio.sleep(answer.interval or RETRY_WHEN_NO_INTERVAL)

    async def _send_queued(self, endpoint: StationEndpoint) -> None:
        while True:
            outgoing = await self._queue.get()
            if outgoing.answer.done():
                continue
            name = type(outgoing.payload).__name__
            try:
                async with self._exchange:
                    result = await timed(self._observer, endpoint.call(outgoing.payload, suppress=False), outgoing.payload)
            except OCPPError as exc:
                outgoing.answer.set_exception(CallFailed(f"{name}: CSMS answered {exc.code}: {exc.description}"))
            except asyncio.TimeoutError:
                if await self._still_answering(name):
                    outgoing.answer.set_exception(CallFailed(f"{name}: no answer within {self._timeout} s"))
            except UNUSABLE_ANSWERS as exc:
                outgoing.answer.set_exception(CallFailed(f"{name}: unusable answer from the CSMS: {_reason(exc)}"))
            else:
                outgoing.answer.set_result(result)
            finally:
                if not outgoing.answer.done():  # the link went down with this CALL in flight
                    outgoing.answer.set_exception(NotAccepted(f"{name}: link to the CSMS lost before an answer"))

    async def _still_answering(self, name: str) -> bool:
        """A CALL went unanswered. A CSMS that still answers a ping ignored it, which costs the
        message an attempt; one that does not is behind a dead (half-open) link, which is
        dropped at once and costs nothing: the message goes again on the next connection."""
        connection = self._connection
        if connection is None:
            return False
        return await self._answers_ping(connection, min(self._timeout, PROBE_TIMEOUT), f"{name} unanswered and ")

    async def _answers_ping(self, connection: ClientConnection, within: float, cause: str = "") -> bool:
        """True when a pong comes back in time. Otherwise the half-open link is aborted: a close
        handshake could not get through either, and waiting for one only delays the reconnect.
        The ping is inside the time limit too: on a dead link even sending it may stall."""

        async def round_trip() -> None:
            await (await connection.ping())

        try:
            await asyncio.wait_for(round_trip(), within)
        except asyncio.TimeoutError:
            log.warning("%sno WebSocket pong within %s s; dropping the link", cause, within)
            if self._connection is connection:
                self._closing = "no pong"
            connection.transport.abort()
            return False
        except websockets.exceptions.ConnectionClosed:
            return False
        return True

    def _fail_queued(self, reason: str) -> None:
        while not self._queue.empty():
            outgoing = self._queue.get_nowait()
            if not outgoing.answer.done():
                outgoing.answer.set_exception(NotAccepted(f"{type(outgoing.payload).__name__} not sent: {reason}"))

    def _restart_heartbeat(self) -> None:
        """Called on acceptance and on a HeartbeatInterval change: the next beat is due from now."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        self._heartbeat = None
        interval = self._config.integer("HeartbeatInterval")
        if self.accepted and interval > 0:
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat(interval))

    async def _beat(self, interval: int) -> None:
        while True:
            await asyncio.sleep(interval)
            await self._heartbeat_once()

    async def _heartbeat_once(self) -> None:
        try:
            answer = await self.request(call.Heartbeat())
        except (NotAccepted, CallFailed) as exc:
            log.warning("heartbeat: %s", exc)
            return
        self._clock.set_from_csms(answer.current_time)

    def _restart_ping(self) -> None:
        if self._ping is not None:
            self._ping.cancel()
        self._ping = None
        interval = self._config.integer("WebSocketPingInterval")
        if self._connection is not None and interval > 0:
            self._ping = asyncio.get_running_loop().create_task(self._keep_alive(self._connection, interval))

    async def _keep_alive(self, connection: ClientConnection, interval: int) -> None:
        """A pong that never comes means a half-open TCP link: close it so we reconnect."""
        while True:
            await asyncio.sleep(interval)
            if not await self._answers_ping(connection, max(interval, self._timeout)):
                return


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0]
