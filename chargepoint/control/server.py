"""The control socket: bench and status commands reach the running daemon here.

One JSON request per connection, one JSON answer back. The socket lives in the data directory
with mode 0600, so only the station's own user can drive it. Closing removes the socket only if
it is still the one this server bound: a socket another server put in its place stays.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from chargepoint.infra.inode import still_names

log = logging.getLogger(__name__)

Request = dict[str, Any]
Reply = dict[str, Any]
Handler = Callable[[Request], Awaitable[Reply]]
MAX_REQUEST = 64 * 1024


class CommandError(Exception):
    """A request the daemon understood but refuses; the message is shown to the user."""


class DaemonNotRunning(Exception):
    pass


class NoAnswer(Exception):
    """The daemon took the request but did not answer in time (e.g. the CSMS is slow)."""


class ControlServer:
    def __init__(self, path: Path, handlers: dict[str, Handler]) -> None:
        self._path = path
        self._handlers = handlers
        self._server: asyncio.AbstractServer | None = None
        self._bound: os.stat_result | None = None

    async def start(self) -> None:
        """Bound and made 0600 before it listens, so no one else can ever connect; no umask
        change, which would leak into every other station and file of the process."""
        self._path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(self._path))
            os.chmod(self._path, 0o600)
            self._bound = os.stat(self._path)
        except OSError:
            listener.close()
            raise
        self._server = await asyncio.start_unix_server(self._serve, sock=listener)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._bound is not None and still_names(self._path, self._bound):
            self._path.unlink()
        self._bound = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            reply = await self._answer(await reader.readline())
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            log.warning("control request dropped: %s", exc)
        finally:
            writer.close()

    async def _answer(self, line: bytes) -> Reply:
        try:
            request = json.loads(line[:MAX_REQUEST])
        except ValueError:
            return {"ok": False, "error": "unknown or malformed command"}
        return await self.answer(request)

    async def answer(self, request: Any) -> Reply:
        """A request as the socket's clients send it, from any front end (the web page too), so
        every one gets the same handlers and the same answers."""
        try:
            handler = self._handlers[request["command"]]
        except (TypeError, KeyError):
            return {"ok": False, "error": "unknown or malformed command"}
        try:
            return {"ok": True, **await handler(request)}
        except CommandError as exc:
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # a bench command must never take the station down
            log.exception("control command %s failed", request.get("command"))
            return {"ok": False, "error": f"internal error: {exc}"}


def send_command(path: Path, request: Request, timeout: float = 120.0) -> Reply:
    """Blocking client for the CLI: one request, one reply."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except (FileNotFoundError, ConnectionRefusedError):
        raise DaemonNotRunning(f"the station is not running (no daemon listening on {path})") from None
    except TimeoutError:
        raise NoAnswer(f"the daemon on {path} did not answer within {timeout:.0f} s") from None
    if not data:
        raise DaemonNotRunning(f"the daemon on {path} closed the connection without answering")
    reply: Reply = json.loads(data)
    return reply
