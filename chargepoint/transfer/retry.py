"""Attempts at a transfer, `interval` apart, each failure logged as one line naming its cause."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from chargepoint.transfer.errors import TransferFailed

log = logging.getLogger(__name__)


async def attempt(
    transfer: Callable[[], Awaitable[None]],
    tries: int,
    interval: float,
    what: str,
    done: int = 0,
    counted: Callable[[int], None] | None = None,
) -> str | None:
    """Up to `tries` attempts in all, `done` of them already made (before a restart); each is
    told to `counted` before it starts, so a power cut cannot grant extra tries. None once one
    succeeds, else the last failure's cause."""
    cause = "no attempt left"
    for number in range(done + 1, tries + 1):
        if counted is not None:
            counted(number)
        try:
            await transfer()
            return None
        except TransferFailed as exc:
            cause = str(exc)
            log.warning("%s: attempt %d of %d failed: %s", what, number, tries, cause)
        if number < tries:
            await asyncio.sleep(interval)
    return cause
