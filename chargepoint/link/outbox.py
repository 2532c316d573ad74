"""What a feature may do with the CSMS, and nothing more: queue a message, make a call and await
its answer, or ask whether the station is registered and reachable.

The connection implements it. Features depend on this leaf module alone, never on the
connection, so no feature can reach the WebSocket or the library's ChargePoint, and the
import graph has no circle through the link.
"""

from __future__ import annotations

import asyncio
import logging
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
