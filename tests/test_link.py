"""The WebSocket link (OCPP-J §3, §5): URL, credentials, reconnects, lost and refused answers."""

from __future__ import annotations

import asyncio
import base64
import re

from ocpp.v16 import call

from tests.conftest import booted, eventually
from tests.csms import Csms
from tests.helpers import cli_ok

PASSWORD = "0123456789abcdef0123456789abcdef"


async def test_identity_is_percent_encoded_and_basic_auth_carries_the_key(make_daemon) -> None:
    async with Csms(basic_auth=("CP 7/ä", PASSWORD)) as csms:
        daemon = make_daemon(csms, identity="CP 7/ä", password=PASSWORD)
        await booted(csms, daemon)
        assert csms.last_path == "/ocpp/CP%207%2F%C3%A4"
        expected = base64.b64encode(f"CP 7/ä:{PASSWORD}".encode()).decode()
        assert csms.last_headers["Authorization"] == f"Basic {expected}"
        assert csms.last_headers["Sec-WebSocket-Protocol"] == "ocpp1.6"


async def test_wrong_credentials_leave_the_link_in_error(make_daemon) -> None:
    async with Csms(basic_auth=("CP-TEST-1", "another-password-entirely")) as csms:
        daemon = make_daemon(csms, password=PASSWORD)
        await daemon.wait_socket()
        for _ in range(100):
            if csms.refused:
                break
            await asyncio.sleep(0.05)
        assert csms.refused >= 1 and csms.connections == 0
        status = await daemon.status()
        assert status["link"] in ("Error", "Connecting") and status["registration"] == "None"
        assert "HTTP 401" in daemon.logs()
        assert PASSWORD not in daemon.logs()
        cause = "CSMS refused the WebSocket upgrade with HTTP 401 Unauthorized: credentials refused"
        status = await daemon.status()  # asked after the log line: the cause is recorded first
        assert status["link_error"].startswith(cause), status
        shown = await cli_ok(daemon, "status")
        assert re.search(rf"link: (Error \(|Connecting \(last failure: ){re.escape(cause)}", shown), shown
        assert PASSWORD not in shown


async def test_status_names_why_the_link_is_down_and_forgets_it_once_connected(make_daemon, unused_tcp_port) -> None:
    daemon = make_daemon(csms_url=f"ws://127.0.0.1:{unused_tcp_port}/ocpp")
    await daemon.wait_socket()
    await eventually(lambda: "CSMS link to" in daemon.logs(), 15, "a failed connect")
    status = await daemon.status()
    assert status["link_error"] == f"connection refused: nothing listens on 127.0.0.1:{unused_tcp_port} (CSMS down, or wrong port)"
    async with Csms(port=unused_tcp_port) as csms:
        await booted(csms, daemon)
        status = await daemon.status()
        assert (status["link"], status["link_error"]) == ("Connected", None)
        assert "last failure" not in await cli_ok(daemon, "status")


async def test_reconnects_after_the_csms_drops_the_link_without_booting_again(csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await csms.disconnect()
    await csms.wait_connected(timeout=10)
    assert csms.connections == 2
    answer = await csms.call(call.GetConfiguration(key=["HeartbeatInterval"]))
    assert answer.configuration_key
    assert len(csms.received("BootNotification")) == 1
    assert (await daemon.status())["link"] == "Connected"


async def test_link_state_while_the_csms_is_down_and_back(make_daemon) -> None:
    first = Csms()
    await first.__aenter__()
    port = int(first.url.split(":")[2].split("/")[0])
    daemon = make_daemon(first)
    await booted(first, daemon)
    await first.stop()
    await asyncio.sleep(0.5)
    status = await daemon.status()
    assert status["link"] in ("Connecting", "Error")
    assert status["registration"] == "Accepted"
    async with Csms(port=port) as second:
        await second.wait_connected(timeout=15)
        await daemon.cli("plug", "1")
        await second.wait_for("StatusNotification", lambda p: p["status"] == "Preparing", timeout=5)
        assert not second.received("BootNotification")


async def test_unanswered_and_refused_calls_do_not_block_the_station(make_daemon) -> None:
    async with Csms(boot_interval=1) as csms:
        csms.ignore = {"Heartbeat"}
        daemon = make_daemon(csms, response_timeout=1)
        await booted(csms, daemon)
        await csms.wait_for("Heartbeat", timeout=5)
        csms.ignore = set()
        csms.errors = {"Heartbeat": "InternalError"}
        mark = len(csms.frames)
        await csms.wait_for("Heartbeat", timeout=5, after=mark)
        csms.errors = {"Heartbeat": "VendorSpecificError"}  # not an OCPP-J code at all
        mark = len(csms.frames)
        await csms.wait_for("Heartbeat", timeout=5, after=mark)
        await daemon.cli("plug", "1")
        await csms.wait_for("StatusNotification", lambda p: p["status"] == "Preparing", timeout=5)
        logs = daemon.logs()
        assert "no answer within 1 s" in logs
        assert "CSMS answered InternalError" in logs
        assert "unusable answer from the CSMS" in logs
        assert (await daemon.status())["queued"] == 0


async def test_minimum_status_duration_hides_short_lived_statuses(csms, make_daemon) -> None:
    """§4.9: a status shorter than MinimumStatusDuration is not reported; a lasting one is, late."""
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert (await csms.call(call.ChangeConfiguration(key="MinimumStatusDuration", value="3"))).status == "Accepted"
    await daemon.cli("plug", "1")
    await daemon.cli("unplug", "1")
    await asyncio.sleep(3.5)
    assert [p["status"] for p in csms.calls("StatusNotification") if p["connectorId"] == 1] == ["Available"]
    loop = asyncio.get_running_loop()
    plugged = loop.time()
    await daemon.cli("plug", "1")
    frame = await csms.wait_for("StatusNotification", lambda p: p["status"] == "Preparing", timeout=5)
    assert frame.at - plugged >= 2.9


async def test_websocket_ping_interval_drives_pings_and_zero_stops_them(csms, make_daemon, caplog) -> None:
    """The CSMS's websockets library logs every frame at DEBUG: count the station's pings."""
    caplog.set_level("DEBUG", logger="websockets.server")
    daemon = make_daemon(csms)
    await booted(csms, daemon)

    def pings() -> int:
        return sum(1 for record in caplog.records if record.getMessage().startswith("< PING"))

    assert (await csms.call(call.ChangeConfiguration(key="WebSocketPingInterval", value="1"))).status == "Accepted"
    await asyncio.sleep(2.6)
    assert pings() >= 2
    assert (await csms.call(call.ChangeConfiguration(key="WebSocketPingInterval", value="0"))).status == "Accepted"
    await asyncio.sleep(0.2)
    stopped_at = pings()
    await asyncio.sleep(1.5)
    assert pings() == stopped_at
