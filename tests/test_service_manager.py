"""sd_notify: READY, WATCHDOG and STATUS datagrams on a test NOTIFY_SOCKET (issue 5 item 1)."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import time
from pathlib import Path

from tests.conftest import booted


async def test_the_daemon_tells_systemd_it_is_ready_alive_and_connected(csms, make_daemon) -> None:
    path = Path(tempfile.mkdtemp(prefix="sd-")) / "notify"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))
    receiver.setblocking(False)
    try:
        daemon = make_daemon(csms, start=False)
        daemon.extra_env = {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "400000"}
        daemon.start()
        await booted(csms, daemon)
        messages: list[tuple[float, str]] = []
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            try:
                messages.append((time.monotonic(), receiver.recv(256).decode()))
            except BlockingIOError:
                await asyncio.sleep(0.02)
        texts = [text for _, text in messages]
        assert "READY=1" in texts
        assert any(text == "STATUS=link Connected, Accepted" for text in texts), texts
        pings = [at for at, text in messages if text == "WATCHDOG=1"]
        assert len(pings) >= 6  # every 0.2 s over the 2 s watched
        assert max(b - a for a, b in zip(pings, pings[1:])) < 0.4
        await daemon.stop()
        rest: list[str] = []
        while True:
            try:
                rest.append(receiver.recv(256).decode())
            except BlockingIOError:
                break
        assert rest[-1] == "STOPPING=1", rest
    finally:
        receiver.close()
