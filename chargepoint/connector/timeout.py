"""ConnectionTimeOut (errata 3.21): how long Preparing may wait for the cable or the idTag.

The timer follows the reported status, not the events that led to it: whatever made the
connector Preparing starts the count, whatever made it leave stops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus


class PreparingTimeout:
    def __init__(
        self, initial: ChargePointStatus, seconds: Callable[[], int], expired: Callable[[], Awaitable[None]]
    ) -> None:
        self._seconds = seconds
        self._expired = expired
        self._task: asyncio.Task[None] | None = None
        self._status = initial

    def __call__(self, _: int, status: ChargePointStatus, __: ChargePointErrorCode, ___: str | None) -> None:
        """A status listener: only a change into or out of Preparing matters."""
        if status == self._status:
            return
        self._status = status
        if status == ChargePointStatus.preparing:
            self.start()
        else:
            self.cancel()

    def start(self) -> None:
        self.cancel()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def cancel(self) -> None:
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        self._task = None

    async def _run(self) -> None:
        await asyncio.sleep(self._seconds())
        await self._expired()
