"""One station as its page sees it: the `status` snapshot, the frames of late, and the bench
commands the page may send, all through the control socket's own handlers."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chargepoint.control.server import Reply

if TYPE_CHECKING:
    from chargepoint.app.station import Station

FRAMES_KEPT = 200  # what a page opened mid-session shows of the frames before it
QUEUED_FRAMES = 1000  # a page that cannot keep up loses frames beyond these, not the station
# The buttons and key table of the page; the rest of the socket's commands stay on the CLI.
PAGE_COMMANDS = frozenset({"status", "config-get", "config-set", "plug", "unplug", "swipe", "ev", "fault"})

Frame = dict[str, Any]


class StationFeed:
    def __init__(self, station: Station) -> None:
        self._station = station
        self.identity = station.settings.identity
        self._recent: deque[Frame] = deque(maxlen=FRAMES_KEPT)
        self._pages: set[asyncio.Queue[Frame]] = set()
        self._stop: Callable[[], None] | None = None

    def start(self) -> None:
        self._stop = self._station.frame_log.listen(self._frame)

    def close(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None

    def _frame(self, line: Frame) -> None:
        self._recent.append(line)
        for page in self._pages:
            if page.qsize() < QUEUED_FRAMES:
                page.put_nowait(line)

    def follow(self) -> tuple[list[Frame], asyncio.Queue[Frame]]:
        """The frames so far and a queue of those to come, for one page."""
        page: asyncio.Queue[Frame] = asyncio.Queue()
        self._pages.add(page)
        return list(self._recent), page

    def unfollow(self, page: asyncio.Queue[Frame]) -> None:
        self._pages.discard(page)

    async def status(self) -> Reply:
        """What `chargepoint status --json` shows, with the identity a fleet table needs."""
        return {"identity": self.identity, **await self._station.control.answer({"command": "status"})}

    async def command(self, request: Any) -> Reply:
        command = request.get("command") if isinstance(request, dict) else None
        if not isinstance(command, str) or command not in PAGE_COMMANDS:
            return {"ok": False, "error": f"the page sends only: {', '.join(sorted(PAGE_COMMANDS))}"}
        return await self._station.control.answer(request)
