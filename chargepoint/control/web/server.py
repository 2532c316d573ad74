"""The page's HTTP server: one station's page, or a fleet's table with each station's page one
click away (`/` is the station, or the table; `/station/<identity>/` each station).

It only reads what the stations already report and sends what the CLI sends, so it adds no
state of its own; `run --web` and `fleet run --web` both start it with `serve_web`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from aiohttp import WSCloseCode, web

from chargepoint.control.web.access import Bind, authorized, loopback_host, parse_bind, password_problem, same_origin
from chargepoint.control.web.feed import StationFeed
from chargepoint.control.web.session import FleetSession, PageSession

if TYPE_CHECKING:
    from chargepoint.app.station import Station

log = logging.getLogger(__name__)

STATIC = Path(str(files("chargepoint.control.web") / "static"))
REALM = 'Basic realm="chargepoint bench", charset="UTF-8"'


class WebServer:
    def __init__(self, stations: Sequence[Station], bind: Bind, password: str | None) -> None:
        problem = password_problem(bind, password)
        if problem is not None:
            raise ValueError(problem)
        self._bind = bind
        self._password = password
        self._feeds = {feed.identity: feed for feed in map(StationFeed, stations)}
        self._single = len(stations) == 1  # a lone station's page is the root; a fleet's is its table
        self._runner: web.AppRunner | None = None
        self._open: set[web.WebSocketResponse] = set()
        self.url = ""

    def attach(self, station: Station) -> None:
        """A station built after the page started (a fleet ramps up, and rebuilds a station after
        its Reset): its page serves the new one, whose frames it follows from now."""
        old = self._feeds.get(station.settings.identity)
        if old is not None:
            old.close()
        feed = self._feeds[station.settings.identity] = StationFeed(station)
        if self._runner is not None:
            feed.start()

    async def start(self) -> None:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/", self._root)
        app.router.add_get("/ws", self._fleet_socket)
        app.router.add_get("/station/{identity}/", self._station_page)
        app.router.add_get("/station/{identity}/ws", self._station_socket)
        app.router.add_static("/static/", STATIC)
        self._runner = web.AppRunner(app, access_log=None)  # a bench page: no line per request
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._bind.host, self._bind.port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            raise
        for feed in self._feeds.values():
            feed.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{Bind(self._bind.host, port)}/"
        log.info("web page on %s%s", self.url, " (password required)" if self._password else "")

    async def close(self) -> None:
        """Open pages are told first: aiohttp would otherwise wait a minute for each to leave."""
        for feed in self._feeds.values():
            feed.close()
        for socket in list(self._open):
            await socket.close(code=WSCloseCode.GOING_AWAY, message=b"the station is stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Every path, the page's own files included, behind the password where there is one."""
        if self._password is None and not loopback_host(request.host):
            raise web.HTTPForbidden(text="without web_password the page answers only to a loopback address\n")
        if self._password is not None and not authorized(request.headers.get("Authorization"), self._password):
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": REALM}, text="the page needs web_password\n")
        return await handler(request)

    async def _root(self, request: web.Request) -> web.StreamResponse:
        if self._single:
            raise web.HTTPFound(f"/station/{quote(next(iter(self._feeds)), safe='')}/")
        return web.FileResponse(STATIC / "fleet.html")

    async def _station_page(self, request: web.Request) -> web.StreamResponse:
        self._feed(request)
        return web.FileResponse(STATIC / "station.html")

    async def _station_socket(self, request: web.Request) -> web.StreamResponse:
        feed = self._feed(request)
        return await self._serve(request, lambda socket: PageSession(socket, feed).run())

    async def _fleet_socket(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, lambda socket: FleetSession(socket, list(self._feeds.values())).run())

    async def _serve(
        self, request: web.Request, session: Callable[[web.WebSocketResponse], Awaitable[None]]
    ) -> web.WebSocketResponse:
        if not same_origin(request.headers.get("Origin"), request.host):
            raise web.HTTPForbidden(text="a page of another site may not drive the station\n")
        socket = web.WebSocketResponse(heartbeat=30)
        await socket.prepare(request)
        self._open.add(socket)
        try:
            await session(socket)
        finally:
            self._open.discard(socket)
        return socket

    def _feed(self, request: web.Request) -> StationFeed:
        feed = self._feeds.get(request.match_info["identity"])
        if feed is None:
            raise web.HTTPNotFound(text=f"no station {request.match_info['identity']!r} here\n")
        return feed


async def serve_web(stations: Sequence[Station], bind: str, password: str | None) -> WebServer:
    """The page for `stations`, listening on `bind` (HOST:PORT) until `close()`. Raises
    ValueError for a bind that is not HOST:PORT or that needs the password it lacks (the
    message names the setting), OSError where it cannot listen."""
    server = WebServer(stations, parse_bind(bind), password)
    await server.start()
    return server
