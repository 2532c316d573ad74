"""One open page: snapshots pushed each second and as soon as they change, the frame log as it
grows, and the page's commands answered with what the CLI would print.

Messages to the page: {"type": "hello"}, {"type": "status"}, {"type": "frames"},
{"type": "answer", "id": …, "reply": …}. From the page: a control-socket request with an "id".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from aiohttp import WSMsgType, web

from chargepoint.connector.status import FAULT_CODES
from chargepoint.control.web.feed import StationFeed

log = logging.getLogger(__name__)

LOOK = 0.25  # s between looks at the station for a change
EVERY = 1.0  # s: a snapshot at least this often, changed or not, so the plot's time runs on


class PageSession:
    def __init__(self, socket: web.WebSocketResponse, feed: StationFeed) -> None:
        self._socket = socket
        self._feed = feed
        self._sending = asyncio.Lock()
        self._wake = asyncio.Event()
        self._commands: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Until the page goes away. A command still running finishes, as one from the CLI does
        when its user presses Ctrl-C: a card half presented is not left half done."""
        recent, frames = self._feed.follow()
        await self._send({"type": "hello", "identity": self._feed.identity, "fault_codes": FAULT_CODES, "frames": recent})
        pushing = asyncio.create_task(self._push(frames))
        try:
            async for message in self._socket:
                if message.type == WSMsgType.TEXT:
                    self._start(message.data)
        finally:
            self._feed.unfollow(frames)
            pushing.cancel()
            await asyncio.gather(pushing, return_exceptions=True)

    def _start(self, text: str) -> None:
        """Each command in a task of its own: a card waiting for Authorize holds no other button."""
        task = asyncio.create_task(self._answer(text))
        self._commands.add(task)
        task.add_done_callback(self._commands.discard)

    async def _answer(self, text: str) -> None:
        try:
            request: Any = json.loads(text)
        except ValueError:
            request = None
        reply = await self._feed.command(request)
        ident = request.get("id") if isinstance(request, dict) else None
        await self._send({"type": "answer", "id": ident, "reply": reply})
        self._wake.set()

    async def _push(self, frames: asyncio.Queue[dict[str, Any]]) -> None:
        last: dict[str, Any] | None = None
        sent_at = 0.0
        while not self._socket.closed:
            batch = [frames.get_nowait() for _ in range(frames.qsize())]
            if batch:
                await self._send({"type": "frames", "frames": batch})
            status = await self._feed.status()
            if status != last or time.monotonic() - sent_at >= EVERY:
                await self._send({"type": "status", "status": status})
                last, sent_at = status, time.monotonic()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), LOOK)

    async def _send(self, message: dict[str, Any]) -> None:
        async with self._sending:
            with contextlib.suppress(ConnectionError):
                await self._socket.send_json(message)


class FleetSession:
    """The fleet table's page: every station's snapshot each second; commands go to a station's own page."""

    def __init__(self, socket: web.WebSocketResponse, feeds: list[StationFeed]) -> None:
        self._socket = socket
        self._feeds = feeds

    async def run(self) -> None:
        pushing = asyncio.create_task(self._push())
        try:
            async for _ in self._socket:
                pass
        finally:
            pushing.cancel()
            await asyncio.gather(pushing, return_exceptions=True)

    async def _push(self) -> None:
        while not self._socket.closed:
            stations = [await feed.status() for feed in self._feeds]
            with contextlib.suppress(ConnectionError):
                await self._socket.send_json({"type": "fleet", "stations": stations})
            await asyncio.sleep(EVERY)
