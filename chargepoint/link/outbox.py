"""What a feature may do with the CSMS, and nothing more: queue a message, make a call and await
its answer, or ask whether the station is registered and reachable.

The connection implements it. Features depend on this leaf module alone, never on the
connection, so no feature can reach the WebSocket or the library's ChargePoint, and the
import graph has no circle through the link.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)


class NotAccepted(Exception):
    """The CSMS cannot be sent anything now: no link, or the station is not Accepted yet."""


class CallFailed(Exception):
    """The CSMS answered with a CALLERROR, or not at all within the response timeout."""


class Outbox(Protocol):
    @property
    def accepted(self) -> bool:
        """On a live link and Accepted by the CSMS (§4.2): messages may leave now."""
        ...

    def enqueue(self, payload: Any) -> asyncio.Future[Any]:
        """Queue a CALL, keeping event order; raises NotAccepted. The future gets the answer,
        or CallFailed / NotAccepted."""
        ...

    async def request(self, payload: Any) -> Any:
        """Send a CALL and return the CSMS's answer; raises NotAccepted or CallFailed."""
        ...

    async def wait_accepted(self) -> None:
        """Until the link is up and the station Accepted: when queued messages may go out."""
        ...


def post(outbox: Outbox, payload: Any, what: str) -> bool:
    """Send without waiting for the answer; a message that cannot leave or fails is logged as
    `what`. False when the station is offline, so the caller may keep it for later."""
    try:
        answer = outbox.enqueue(payload)
    except NotAccepted:
        log.info("%s not sent: the CSMS is not reachable", what)
        return False
    answer.add_done_callback(lambda done: _log_failure(done, what))
    return True


def _log_failure(done: asyncio.Future[Any], what: str) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("%s not delivered: %s", what, done.exception())


class Delivery:
    """Messages that must reach the CSMS, in order, across link losses: the progress of a long
    job (a firmware update, a diagnostics upload) that outlives any one connection.

    One sender drains them: each waits for the station to be Accepted and is retried until the
    CSMS answers, or until it has refused `GIVE_UP_AFTER` times (a CALLERROR, no answer), so a
    CSMS that cannot take the message does not hold the ones behind it forever.
    """

    GIVE_UP_AFTER = 3

    def __init__(self, outbox: Outbox, what: str) -> None:
        self._outbox = outbox
        self._what = what
        self._waiting: asyncio.Queue[tuple[Any, Callable[[], None] | None]] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None

    def send(self, payload: Any, delivered: Callable[[], None] | None = None) -> None:
        """Queue `payload`; `delivered` runs once the CSMS answered it (or it was given up)."""
        self._waiting.put_nowait((payload, delivered))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while not self._waiting.empty():
            payload, delivered = self._waiting.get_nowait()
            await self._deliver(payload)
            if delivered is not None:
                delivered()

    async def _deliver(self, payload: Any) -> None:
        refusals = 0
        while refusals < self.GIVE_UP_AFTER:
            await self._outbox.wait_accepted()
            try:
                await self._outbox.enqueue(payload)
                return
            except NotAccepted:
                await asyncio.sleep(0.1)  # the link went down: wait for the next acceptance
            except CallFailed as exc:
                refusals += 1
                log.warning("%s not delivered (attempt %d): %s", self._what, refusals, exc)
        log.error("%s given up after %d refusals", self._what, refusals)

    async def flush(self, timeout: float) -> None:
        """Until everything sent so far was answered, or `timeout` seconds (before a restart)."""
        if self._sender is not None and not self._sender.done():
            await asyncio.wait([self._sender], timeout=timeout)
