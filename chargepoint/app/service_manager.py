"""systemd notifications (sd_notify): READY, WATCHDOG, STATUS, STOPPING and RELOADING.

WATCHDOG pings come from a task on the station's own event loop, so a loop that is stuck
stops pinging and systemd restarts the service (WatchdogSec in systemd/chargepoint.service).
Outside systemd (no NOTIFY_SOCKET) every call is a no-op.

A soft reset re-executes the program under the same PID. It must leave with RELOADING, not
STOPPING: after STOPPING systemd ignores the new process's READY and kills it when the stop
timeout runs out, while after RELOADING that READY returns the unit to running.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

STATUS_POLL = 1.0  # seconds between looks at the link state for STATUS=


class ServiceManager:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self._socket: socket.socket | None = None
        if self._address:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._socket.setblocking(False)
        usec = env.get("WATCHDOG_USEC", "")
        self._watchdog = int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 else None
        self._restarting_in_place = False

    def restarting_in_place(self) -> None:
        """The process is about to re-execute itself (soft reset)."""
        self._restarting_in_place = True

    def notify(self, message: str) -> None:
        if self._socket is None:
            return
        try:
            self._socket.sendto(message.encode(), self._address)
        except OSError as exc:  # the manager went away: nothing to tell any more
            log.debug("sd_notify %s failed: %s", message, exc)

    async def run(self, status: Callable[[], str]) -> None:
        """READY now, then WATCHDOG at half the watchdog period and STATUS on every change."""
        self.notify("READY=1")
        last = ""
        loop = asyncio.get_running_loop()
        next_ping = loop.time()
        try:
            while True:
                now = loop.time()
                if self._watchdog is not None and now >= next_ping:
                    self.notify("WATCHDOG=1")
                    next_ping = now + self._watchdog / 2
                current = status()
                if current != last:
                    self.notify(f"STATUS={current}")
                    last = current
                wait = STATUS_POLL if self._watchdog is None else min(STATUS_POLL, next_ping - loop.time())
                await asyncio.sleep(max(wait, 0.01))
        finally:
            if self._restarting_in_place:
                self.notify(f"RELOADING=1\nMONOTONIC_USEC={time.monotonic_ns() // 1000}")
            else:
                self.notify("STOPPING=1")
            if self._socket is not None:
                self._socket.close()
