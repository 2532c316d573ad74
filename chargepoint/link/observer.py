"""What a watcher of the link may learn: each CALL's round trip, each frame, each failed connect.

A fleet's load test reads its latency figures here, at the one place every CALL of a station
passes, instead of running a second client beside it. A lone station has no watcher: the
default costs one no-op call per event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any, Protocol, TypeVar

from ocpp.exceptions import OCPPError

T = TypeVar("T")


class LinkObserver(Protocol):
    def round_trip(self, action: str, seconds: float, error: str | None) -> None:
        """A CALL of ours ended: answered (error None), a CALLERROR code, or "Timeout"."""

    def frame(self) -> None:
        """A frame crossed the link, either way."""

    def connect_failed(self, cause: str) -> None:
        """A connect attempt failed, `cause` as `chargepoint status` names it."""

    def registered(self, status: str) -> None:
        """The CSMS answered BootNotification: Accepted, Pending or Rejected."""


class Unobserved:
    """The lone station's observer: nobody is watching."""

    def round_trip(self, action: str, seconds: float, error: str | None) -> None:
        pass

    def frame(self) -> None:
        pass

    def connect_failed(self, cause: str) -> None:
        pass

    def registered(self, status: str) -> None:
        pass


async def timed(observer: LinkObserver, answer: Awaitable[T], payload: Any) -> T:
    """Await one CALL's answer, its round trip told to `observer`; the outcome stays the caller's.
    A CALL cut off by the end of its link (lost, or the station stopping) tells nothing."""
    started = time.monotonic()
    action = type(payload).__name__
    try:
        result = await answer
    except OCPPError as exc:
        observer.round_trip(action, time.monotonic() - started, exc.code)
        raise
    except asyncio.TimeoutError:
        observer.round_trip(action, time.monotonic() - started, "Timeout")
        raise
    except Exception:
        observer.round_trip(action, time.monotonic() - started, "UnusableAnswer")
        raise
    observer.round_trip(action, time.monotonic() - started, None)
    return result
