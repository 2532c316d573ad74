"""Real file servers on 127.0.0.1 for the transfer, firmware and diagnostics tests.

`HttpFileServer` is an aiohttp application: GET serves `root` (Range included), PUT
`/upload/NAME` stores the body in `uploads`, and `/form/...` refuses PUT (405) but takes a
multipart POST, so the station's fallback is exercised. `stall_after` makes a GET send that
many bytes and then hang, like a server that stopped answering. `FtpFileServer` is pyftpdlib
in a thread, with the user `station` / `s3cret-pw` and anonymous read access.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import ThreadedFTPServer

FTP_USER, FTP_PASSWORD = "station", "s3cret-pw"


def make_file(path: Path, size: int) -> Path:
    """`size` bytes that do not compress, so a transfer really moves them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        left = size
        while left:
            block = os.urandom(min(left, 1 << 20))
            out.write(block)
            left -= len(block)
    return path


class HttpFileServer:
    def __init__(self, root: Path, ssl_context: ssl.SSLContext | None = None) -> None:
        self.root = root
        self.uploads = root.parent / f"{root.name}-uploads"
        self.root.mkdir(parents=True, exist_ok=True)
        self.uploads.mkdir(parents=True, exist_ok=True)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.stall_after: int | None = None
        self.ignore_ranges = False  # answer 200 with the whole file even to a Range request
        self._ssl = ssl_context
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, path: str) -> str:
        return f"{'https' if self._ssl else 'http'}://127.0.0.1:{self.port}{path}"

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=1 << 30, middlewares=[self._record])
        app.router.add_put("/upload/{name}", self._put)
        app.router.add_put("/form/{tail:.*}", self._refuse_put)
        app.router.add_post("/form/{tail:.*}", self._post_form)
        app.router.add_get("/{path:.*}", self._get)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path, dict(request.headers)))
        return await handler(request)

    async def _get(self, request: web.Request) -> web.StreamResponse:
        path = self.root / request.match_info["path"]
        if not path.is_file():
            raise web.HTTPNotFound()
        if self.stall_after is None and not self.ignore_ranges:
            return web.FileResponse(path)
        return await self._stream(request, path)

    async def _stream(self, request: web.Request, path: Path) -> web.StreamResponse:
        """The whole file from the start (no Range support), or a stall after `stall_after` bytes."""
        data = path.read_bytes()
        response = web.StreamResponse(status=200, headers={"Content-Length": str(len(data))})
        await response.prepare(request)
        limit = len(data) if self.stall_after is None else self.stall_after
        await response.write(data[:limit])
        if limit < len(data):
            await asyncio.sleep(3600)
        await response.write_eof()
        return response

    async def _put(self, request: web.Request) -> web.Response:
        with (self.uploads / request.match_info["name"]).open("wb") as out:
            async for chunk in request.content.iter_chunked(1 << 16):
                out.write(chunk)
        return web.Response(status=201)

    async def _refuse_put(self, request: web.Request) -> web.Response:
        return web.Response(status=405)

    async def _post_form(self, request: web.Request) -> web.Response:
        reader = await request.multipart()
        async for part in reader:
            if getattr(part, "name", None) == "file" and part.filename:  # type: ignore[union-attr]
                with (self.uploads / Path(part.filename).name).open("wb") as out:  # type: ignore[union-attr]
                    while chunk := await part.read_chunk():  # type: ignore[union-attr]
                        out.write(chunk)
                return web.Response(status=201)
        return web.Response(status=400, text="no file field")


class _RecordingHandler(FTPHandler):
    commands: list[tuple[str, str]]
    auth_failed_timeout = 0.1  # pyftpdlib waits 3 s before refusing a login, by default

    def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
        self.commands.append((cmd, arg))
        super().pre_process_command(line, cmd, arg)


class FtpFileServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.commands: list[tuple[str, str]] = []  # (command, argument) as the server saw them
        self._server: ThreadedFTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def url(self, path: str, credentials: bool = True) -> str:
        who = f"{FTP_USER}:{FTP_PASSWORD}@" if credentials else ""
        return f"ftp://{who}127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Self:
        quiet = logging.getLogger("pyftpdlib")  # with a handler of its own it configures none
        quiet.setLevel(logging.WARNING)
        if not quiet.handlers:
            quiet.addHandler(logging.NullHandler())
        authorizer = DummyAuthorizer()
        authorizer.add_user(FTP_USER, FTP_PASSWORD, str(self.root), perm="elradfmwMT")
        authorizer.add_anonymous(str(self.root))
        handler = type("Handler", (_RecordingHandler,), {"authorizer": authorizer, "commands": self.commands})
        self._server = ThreadedFTPServer(("127.0.0.1", 0), handler)
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"timeout": 0.1}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        assert self._server is not None and self._thread is not None
        self._server.close_all()
        self._thread.join(5)

    async def __aenter__(self) -> Self:
        return self.__enter__()

    async def __aexit__(self, *exc: Any) -> None:
        self.__exit__(None, None, None)
