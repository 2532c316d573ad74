"""The station a scenario runs: the real Station, in-process, on a temporary data directory.

A Reset ends Station.run with its type; the run then starts a new Station on the same data
directory, as the service manager would. A power cut is the run cancelled with no goodbye,
then a new start: what the database kept is what the next boot recovers.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

from chargepoint.app.settings import Settings
from chargepoint.app.station import Station
from chargepoint.control.server import CommandError, Reply, Request
from chargepoint.link.framelog import FrameListener
from configkeys import ChangeStatus


class _Refused(Exception):
    """A scenario's key the station does not take: it does not start."""


class ScenarioStation:
    def __init__(self, settings: dict[str, Any], keys: dict[str, str], observe: FrameListener) -> None:
        self._data_dir = Path(tempfile.mkdtemp(prefix="cp-scn-"))  # short: the control socket's path is capped
        self._settings = Settings(**{**settings, "data_dir": self._data_dir, "frame_log": self._data_dir / "frames.jsonl"})
        self._keys = keys
        self._observe = observe
        self._task: asyncio.Task[None] | None = None
        self.station: Station | None = None
        self._error: str | None = None

    @property
    def connectors(self) -> int:
        return self._settings.connector_count

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._serve())

    async def _serve(self) -> None:
        first = True
        while True:
            station = Station(self._settings)
            if first:
                self._configure(station)
                first = False
            station.frame_log.listen(self._observe)
            self.station = station
            if await station.run() is None:
                return

    def _configure(self, station: Station) -> None:
        for key, value in self._keys.items():
            outcome = station.config.change_with_reason(key, value)
            if outcome.status not in (ChangeStatus.ACCEPTED, ChangeStatus.REBOOT_REQUIRED):
                self._error = f"the station refuses key {key}={value}: {outcome.status} {outcome.reason or ''}".rstrip()
                raise _Refused(self._error)

    def settled(self) -> bool:
        """Nothing of the station's waits for the CSMS: each answer that came has been
        acted on (the queue drops a message and tells its listeners in one go). Offline, it
        cannot settle and does not need to."""
        station = self.station
        if station is None or not station.link.accepted:
            return True
        return station.link.queued == 0 and len(station.queue) == 0

    async def power_cut(self) -> None:
        await self.stop()
        self.start()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)  # its failure was reported
            self._task = None

    def failure(self) -> str | None:
        """Why the station stopped by itself, if it did."""
        if self._task is None or not self._task.done() or self._task.cancelled():
            return None
        error = self._task.exception()
        return self._error or (f"the station stopped: {error!r}" if error else "the station stopped")

    async def command(self, request: Request) -> Reply:
        """A bench command, through the same handler the control socket calls."""
        if self.station is None:
            raise CommandError("the station has not started")
        handler = self.station.commands.get(str(request["command"]))
        if handler is None:
            raise CommandError(f"this station has no bench command {request['command']!r}")
        return await handler(request)

    async def close(self) -> None:
        await self.stop()
        shutil.rmtree(self._data_dir, ignore_errors=True)
