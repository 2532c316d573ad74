"""sd_notify: READY, WATCHDOG and STATUS datagrams on a test NOTIFY_SOCKET (issue 5 item 1)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ocpp.v16 import call

from chargepoint.app.service_manager import ServiceManager
from tests.conftest import booted

WATCHDOG_USEC = 100_000  # pings every 0.05 s
BLOCK = 0.5  # seconds the loop is stuck: five watchdog periods


@pytest.fixture
def notify_socket() -> Iterator[tuple[str, socket.socket]]:
    """The NOTIFY_SOCKET systemd would give the daemon, read by the test."""
    with tempfile.TemporaryDirectory(prefix="sd-") as directory:
        path = str(Path(directory) / "notify")
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        receiver.bind(path)
        receiver.setblocking(False)
        with receiver:
            yield path, receiver


def drain(receiver: socket.socket) -> list[str]:
    texts: list[str] = []
    with contextlib.suppress(BlockingIOError):
        while True:
            texts.append(receiver.recv(256).decode())
    return texts


async def test_the_daemon_tells_systemd_it_is_ready_alive_and_connected(csms, make_daemon, notify_socket) -> None:
    path, receiver = notify_socket
    daemon = make_daemon(csms, start=False)
    daemon.extra_env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"}
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
    rest = drain(receiver)
    assert rest[-1] == "STOPPING=1", rest


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 5.0
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within 5 s"
        await asyncio.sleep(0.01)


async def test_a_stuck_event_loop_stops_the_watchdog_pings_until_it_runs_again() -> None:
    with tempfile.TemporaryDirectory(prefix="sd-") as directory:
        address = str(Path(directory) / "notify")
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        receiver.bind(address)
        receiver.settimeout(0.05)
        marker = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        # A thread empties the socket as datagrams come, so a stuck loop cannot fill its queue;
        # the list keeps the socket's order, markers included.
        arrived: list[str] = []
        done = threading.Event()

        def read() -> None:
            while not done.is_set():
                with contextlib.suppress(TimeoutError):
                    arrived.append(receiver.recv(256).decode())

        def pinged_since(text: str) -> bool:
            return text in arrived and "WATCHDOG=1" in arrived[arrived.index(text) :]

        def stick() -> None:
            marker.sendto(b"test: loop stuck", address)
            time.sleep(BLOCK)
            marker.sendto(b"test: loop free", address)

        reader = threading.Thread(target=read)
        reader.start()
        manager = ServiceManager({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": str(WATCHDOG_USEC)})
        task = asyncio.create_task(manager.run(lambda: "link Connected, Accepted"))
        try:
            await _until(lambda: "WATCHDOG=1" in arrived, "WATCHDOG=1 before the loop is stuck")
            asyncio.get_running_loop().call_soon(stick)
            await _until(lambda: pinged_since("test: loop free"), "WATCHDOG=1 once the loop is free")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            done.set()
            reader.join()
            receiver.close()
            marker.close()
        stuck, free = arrived.index("test: loop stuck"), arrived.index("test: loop free")
        assert "WATCHDOG=1" not in arrived[stuck:free], arrived


async def test_a_soft_reset_reloads_instead_of_stopping_so_systemd_keeps_the_new_process(
    csms, make_daemon, notify_socket
) -> None:
    """After STOPPING=1 systemd ignores the re-executed process's READY=1 and kills it at
    TimeoutStopSec; RELOADING=1 then READY=1 from the same PID keeps the unit running."""
    path, receiver = notify_socket
    daemon = make_daemon(csms, start=False)
    daemon.extra_env = {"NOTIFY_SOCKET": path}
    daemon.start()
    await booted(csms, daemon)
    mark = len(csms.frames)
    assert (await csms.call(call.Reset(type="Soft"))).status == "Accepted"
    await csms.wait_for("BootNotification", after=mark, timeout=20)
    texts = drain(receiver)
    states = [text.split("\n")[0] for text in texts if not text.startswith(("STATUS=", "WATCHDOG="))]
    assert states == ["READY=1", "RELOADING=1", "READY=1"], texts
    reloading = next(text for text in texts if text.startswith("RELOADING=1"))
    assert reloading.split("\n")[1].startswith("MONOTONIC_USEC=")
