"""The bench's web page, served by `serve_web` for stations running in this process: the page
gets the `status` snapshot, the frame log and the CLI's own answers over its WebSocket; off
loopback it is behind the password, and a page of another site cannot drive it."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from chargepoint.app.settings import Settings, SettingsError, load_settings
from chargepoint.app.station import Station
from chargepoint.control.web.server import WebServer, serve_web
from tests.csms import Csms

PASSWORD = "bench-s3cret-page"


@asynccontextmanager
async def _served(tmp_path: Path, identities: tuple[str, ...], password: str | None = None) -> AsyncIterator[tuple[Csms, list[Station], WebServer]]:
    async with Csms() as csms:
        stations = [
            Station(Settings(identity=identity, csms_url=csms.url, data_dir=tmp_path / identity, reconnect_max_delay=1))
            for identity in identities
        ]
        running = [asyncio.create_task(station.run()) for station in stations]
        server = await serve_web(stations, "127.0.0.1:0", password)
        try:
            for identity in identities:
                await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, identity=identity)
            yield csms, stations, server
        finally:
            await server.close()
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)


async def _next(socket: aiohttp.ClientWebSocketResponse, kind: str, check: Any = lambda m: True) -> dict[str, Any]:
    """The next message of `kind` the page gets that passes `check`."""
    async with asyncio.timeout(10):
        while True:
            message = await socket.receive_json()
            if message["type"] == kind and check(message):
                return dict(message)


async def _ask(socket: aiohttp.ClientWebSocketResponse, ident: int, **request: Any) -> dict[str, Any]:
    await socket.send_json({"id": ident, **request})
    return dict((await _next(socket, "answer", lambda m: m["id"] == ident))["reply"])


async def test_the_page_drives_the_station_with_the_clis_answers(tmp_path: Path) -> None:
    async with _served(tmp_path, ("CP-WEB",)) as (csms, (station,), server), aiohttp.ClientSession() as http:
        async with http.get(server.url) as page:  # `/` is the station's own page
            assert page.status == 200 and page.url.path == "/station/CP-WEB/"
            assert "/static/uplot/uPlot.iife.min.js" in await page.text()
        async with http.get(server.url + "static/uplot/uPlot.iife.min.js") as chart:
            assert chart.status == 200 and "uPlot" in await chart.text()  # shipped, no CDN
        async with http.ws_connect(server.url + "station/CP-WEB/ws") as socket:
            hello = await _next(socket, "hello")
            assert hello["identity"] == "CP-WEB" and "GroundFailure" in hello["fault_codes"]
            assert any(f["frame"][2] == "BootNotification" for f in hello["frames"] if f["direction"] == "out")
            snapshot = (await _next(socket, "status"))["status"]
            reported = await station.control.answer({"command": "status"})
            assert snapshot.keys() == {"identity", *reported} and snapshot["connectors"][0].keys() == reported["connectors"][0].keys()

            assert await _ask(socket, 1, command="plug", connector=1) == {"ok": True, "message": "connector 1: cable plugged in"}
            await _next(socket, "status", lambda m: m["status"]["connectors"][0]["status"] == "Preparing")
            sent = await _next(socket, "frames", lambda m: any(f["frame"][2:3] == ["StatusNotification"] for f in m["frames"]))
            assert all(f["direction"] == "out" for f in sent["frames"] if f["frame"][2:3] == ["StatusNotification"])
            assert await _ask(socket, 2, command="plug", connector=1) == {
                "ok": False, "error": "connector 1: the cable is already plugged in; nothing changed"
            }
            assert (await _ask(socket, 3, command="fault", connector=1, code="Nonsense"))["error"].startswith("unknown error code 'Nonsense'; one of: ")

            refused = await _ask(socket, 4, command="config-set", key="HeartbeatInterval", value="soon")
            assert refused == {"ok": True, "status": "Rejected", "accepted": False, "reason": refused["reason"]}
            assert refused["reason"].startswith("not a whole number")
            assert (await _ask(socket, 5, command="config-set", key="HeartbeatInterval", value="120"))["status"] == "Accepted"
            assert station.config.value("HeartbeatInterval") == "120"
            keys = await _ask(socket, 6, command="config-get", keys=[])
            assert {"key": "HeartbeatInterval", "readonly": False, "value": "120"} in keys["keys"]
            assert "AuthorizationKey" not in {k["key"] for k in keys["keys"]}  # write-only: never listed with a value

            assert (await _ask(socket, 7, command="estop"))["error"].startswith("the page sends only: ")
            await socket.send_str("not json")
            assert (await _next(socket, "answer"))["reply"] == {"ok": False, "error": "the page sends only: " + ", ".join(
                sorted(("config-get", "config-set", "ev", "fault", "plug", "status", "swipe", "unplug"))
            )}
            assert station.connectors[0].status == "Preparing"  # nothing above took the station down


async def test_a_page_of_another_site_cannot_open_the_socket(tmp_path: Path) -> None:
    async with _served(tmp_path, ("CP-WEB",)) as (_, _, server), aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(server.url + "station/CP-WEB/ws", origin="http://evil.example")
        assert refused.value.status == 403
        # DNS rebinding: a name of the attacker's that resolves to 127.0.0.1
        async with http.get(server.url, headers={"Host": "evil.example:8080"}) as page:
            assert page.status == 403


async def test_a_stopping_station_closes_its_open_pages(tmp_path: Path) -> None:
    """Told at once (1001, going away), so a page left open never holds the daemon's stop."""
    async with _served(tmp_path, ("CP-WEB",)) as (_, _, server), aiohttp.ClientSession() as http:
        async with http.ws_connect(server.url + "station/CP-WEB/ws") as socket:
            await _next(socket, "hello")
            async with asyncio.timeout(10):  # aiohttp alone would wait a minute for the page
                await server.close()
                while (message := await socket.receive()).type is aiohttp.WSMsgType.TEXT:
                    pass
            assert (message.type, message.data, message.extra) == (aiohttp.WSMsgType.CLOSE, 1001, "the station is stopping")


def _basic(password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"bench:{password}".encode()).decode()}


async def test_with_a_password_a_request_without_it_gets_401(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with _served(tmp_path, ("CP-WEB",), PASSWORD) as (_, _, server), aiohttp.ClientSession() as http:
        for path in ("", "station/CP-WEB/", "static/station.js", "station/CP-WEB/ws"):
            for headers in ({}, _basic("wrong")):
                async with http.get(server.url + path, headers=headers, allow_redirects=False) as refused:
                    assert refused.status == 401, path
                    assert refused.headers["WWW-Authenticate"].startswith("Basic ")
                    assert PASSWORD not in await refused.text()
        async with http.get(server.url, headers=_basic(PASSWORD)) as page:
            assert page.status == 200 and page.url.path == "/station/CP-WEB/"
        async with http.ws_connect(server.url + "station/CP-WEB/ws", headers=_basic(PASSWORD)) as socket:
            assert (await _next(socket, "hello"))["identity"] == "CP-WEB"
    assert "web page on http://127.0.0.1:" in caplog.text and "(password required)" in caplog.text
    assert PASSWORD not in caplog.text


async def test_a_fleet_gets_a_table_and_a_page_per_station(tmp_path: Path) -> None:
    async with _served(tmp_path, ("CP-A", "CP-B")) as (_, _, server), aiohttp.ClientSession() as http:
        async with http.get(server.url) as table:
            assert table.status == 200 and "/static/fleet.js" in await table.text()
        async with http.get(server.url + "station/CP-B/") as page:
            assert page.status == 200 and "/static/station.js" in await page.text()
        async with http.get(server.url + "station/CP-C/") as missing:
            assert missing.status == 404
        async with http.ws_connect(server.url + "ws") as socket:
            fleet = await _next(socket, "fleet")
            assert [s["identity"] for s in fleet["stations"]] == ["CP-A", "CP-B"]
            assert fleet["stations"][1]["connectors"][0]["status"] == "Available"
        async with http.ws_connect(server.url + "station/CP-B/ws") as socket:
            assert (await _next(socket, "hello"))["identity"] == "CP-B"


def test_the_web_setting_is_host_and_port_and_off_loopback_needs_web_password(tmp_path: Path) -> None:
    config = tmp_path / "chargepoint.toml"
    config.write_text(f'data_dir = "{tmp_path}"\nweb = "0.0.0.0:8080"\n')
    with pytest.raises(SettingsError) as refused:
        load_settings(config)
    assert refused.value.problems == [
        "web_password: needed to serve the web page on 0.0.0.0:8080; without one it binds only to loopback (127.0.0.1, ::1, localhost)"
    ]
    config.write_text(f'data_dir = "{tmp_path}"\nweb = "8080"\n')
    with pytest.raises(SettingsError) as malformed:
        load_settings(config)
    assert malformed.value.problems[0].startswith("web: must be HOST:PORT")
    config.write_text(f'data_dir = "{tmp_path}"\nweb = "0.0.0.0:8080"\nweb_password = "{PASSWORD}"\n')
    config.chmod(0o644)
    with pytest.raises(SettingsError) as readable:
        load_settings(config)
    assert readable.value.problems[0].startswith(f"config: {config} holds the web_password and is readable by every user")
    config.chmod(0o600)
    assert load_settings(config).web_secret == PASSWORD
    assert PASSWORD not in json.dumps(load_settings(config).model_dump(mode="json"))
