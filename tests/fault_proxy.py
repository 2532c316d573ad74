"""A TCP proxy between the station and the test CSMS that breaks the network on command.

The station's reconnect logic only matters on a bad network, and a bad network cannot be made
from the CSMS side alone: a refused port, a server that accepts and never answers, a link that
stays open but carries nothing. This proxy is a real socket on 127.0.0.1, so the station meets
each fault through its real TCP and WebSocket stack. Faults switch at any moment; `forward()`
heals them for the next connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from types import TracebackType
from typing import Self


class _Pipe:
    """One station connection and, when forwarded, its upstream twin."""

    def __init__(self, station: asyncio.StreamWriter) -> None:
        self.station = station
        self.upstream: asyncio.StreamWriter | None = None
        self.frozen = False  # bytes are read and thrown away, as a dead route loses them

    def close(self) -> None:
        for writer in (self.station, self.upstream):
            if writer is not None:
                writer.close()


class FaultProxy:
    """Listens on 127.0.0.1 and forwards to the CSMS at `upstream_port` unless told otherwise.

    `connections` counts accepted TCP connections (one per station attempt) and `attempts` holds
    their time.monotonic() stamps, so tests can see how often and how regularly the station
    retries. A refused connection never reaches the proxy, so it is not counted.
    """

    def __init__(self, upstream_port: int, port: int = 0) -> None:
        self.upstream_port = upstream_port
        self.port = port
        self.connections = 0
        self.attempts: list[float] = []
        self._status: str | None = None  # the HTTP status line to refuse upgrades with
        self._blackhole = False
        self._server: asyncio.Server | None = None
        self._pipes: set[_Pipe] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        await self._listen()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._close_listener()
        self.drop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def url(self, scheme: str = "ws") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/ocpp"

    async def forward(self) -> None:
        """Heal: listen again if refusing, and pass new connections through to the CSMS."""
        self._status = None
        self._blackhole = False
        if self._server is None:
            await self._listen()

    async def refuse(self) -> None:
        """Stop listening, so the station's connect() gets ECONNREFUSED; live links stay up."""
        await self._close_listener()

    def blackhole(self) -> None:
        """Accept new connections and never answer them: a CSMS that hangs before the upgrade."""
        self._blackhole = True

    def http_status(self, code: int, reason: str) -> None:
        """Answer every new upgrade request with this HTTP status instead of 101, then close."""
        self._status = f"HTTP/1.1 {code} {reason}"

    def freeze(self) -> None:
        """Carry nothing either way on the live connections, yet keep them open: half-open TCP."""
        for pipe in self._pipes:
            pipe.frozen = True

    def drop(self) -> None:
        """Close every live connection at once, as a CSMS restart or a network cut does."""
        for pipe in list(self._pipes):
            pipe.close()

    async def _listen(self) -> None:
        # SO_REUSEADDR (asyncio's default on Unix) lets the port be taken again after refuse().
        self._server = await asyncio.start_server(self._accepted, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close_listener(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.attempts.append(time.monotonic())
        pipe = _Pipe(writer)
        self._pipes.add(pipe)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self._status is not None:
                await self._refuse_upgrade(reader, writer, self._status)
            elif self._blackhole:
                while await reader.read(65536):
                    pass
            else:
                await self._forward(pipe, reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the station or the CSMS went away: nothing to forward any more
        finally:
            pipe.close()
            self._pipes.discard(pipe)
            self._tasks.discard(task)

    @staticmethod
    async def _refuse_upgrade(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: str) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(f"{status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()

    async def _forward(self, pipe: _Pipe, station: asyncio.StreamReader) -> None:
        upstream, pipe.upstream = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        directions = [asyncio.create_task(self._pump(pipe, station, pipe.upstream)),
                      asyncio.create_task(self._pump(pipe, upstream, pipe.station))]
        try:
            await asyncio.wait(directions, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for direction in directions:
                direction.cancel()
            await asyncio.gather(*directions, return_exceptions=True)

    @staticmethod
    async def _pump(pipe: _Pipe, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        """Copy until end of stream; a frozen pipe swallows what it reads."""
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                if not pipe.frozen:
                    sink.write(data)
                    await sink.drain()
