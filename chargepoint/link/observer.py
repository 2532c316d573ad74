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
    """Await one CALL's answer, its round trip told to `observer`; the outcome stays the caller's."""
    started = time.monotonic()
    error: str | None = None
    try:
        return await answer
    except OCPPError as exc:
        error = exc.code
        raise
    except asyncio.TimeoutError:
        error = "Timeout"
        raise
    except asyncio.CancelledError:
        error = "LinkLost"
        raise
    except Exception:
        error = "UnusableAnswer"
        raise
    finally:
        observer.round_trip(type(payload).__name__, time.monotonic() - started, error)
