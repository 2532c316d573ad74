"""Fixtures: a real CSMS on loopback and the station as a real `chargepoint run` process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.csms import Csms

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CliResult:
    code: int
    out: str
    err: str


class Daemon:
    """`chargepoint run` in its own process, with the CLI pointed at the same config file."""

    def __init__(self, tmp: Path, settings: dict[str, Any]) -> None:
        # A short path: a Unix socket path must fit in 108 bytes, pytest's tmp_path may not.
        self.data_dir = Path(tempfile.mkdtemp(prefix="cp-"))
        tmp.mkdir(parents=True, exist_ok=True)
        self.config_file = tmp / "chargepoint.toml"
        self.log_file = tmp / "daemon.log"
        self.frame_log = tmp / "frames.jsonl"
        values = {"data_dir": str(self.data_dir), "frame_log": str(self.frame_log), "log_level": "DEBUG"}
        values.update(settings)
        self.config_file.write_text("".join(f"{k} = {_toml(v)}\n" for k, v in values.items()))
        self.config_file.chmod(0o600)  # it may hold the password: world-readable would be refused
        self.process: subprocess.Popen[bytes] | None = None
        self.extra_env: dict[str, str] = {}  # e.g. NOTIFY_SOCKET for the daemon only
        self.preexec: Callable[[], None] | None = None  # run in the daemon's process before it starts

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGEPOINT_") and k != "NOTIFY_SOCKET"}
        env["CHARGEPOINT_CONFIG"] = str(self.config_file)
        return env

    def start(self) -> None:
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "chargepoint", "run"],
                env=self.env() | self.extra_env,
                stdout=log,
                stderr=log,
                cwd=ROOT,
                preexec_fn=self.preexec,
            )

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    async def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, waiting without blocking the loop: the test's CSMS must still answer."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
            deadline = time.monotonic() + timeout
            while self.process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode

    def logs(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def frames(self) -> str:
        return self.frame_log.read_text() if self.frame_log.exists() else ""

    async def cli(self, *args: str) -> CliResult:
        """Run the `chargepoint` CLI as a user would, without blocking the test's CSMS."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "chargepoint", *args,
            env=self.env(), cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return CliResult(process.returncode, out.decode(), err.decode())

    async def status(self) -> dict[str, Any]:
        """`chargepoint status --json`, as a technician would read it."""
        result = await self.cli("status", "--json")
        assert result.code == 0, result
        return dict(json.loads(result.out))

    async def wait_socket(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        sock = self.data_dir / "control.sock"
        while not sock.exists():
            assert self.process is None or self.process.poll() is None, f"daemon exited:\n{self.logs()}"
            if time.monotonic() > deadline:
                raise TimeoutError(f"no control socket after {timeout} s:\n{self.logs()}")
            await asyncio.sleep(0.05)


async def eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float, what: str) -> None:
    """Poll `check` (plain or awaitable) until it holds; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = check()
        if await outcome if isinstance(outcome, Awaitable) else outcome:
            return
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        await asyncio.sleep(0.05)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture
async def csms() -> AsyncIterator[Csms]:
    async with Csms(boot_interval=60) as server:
        yield server


@pytest.fixture
async def make_daemon(tmp_path: Path) -> AsyncIterator[Any]:
    """Factory: make_daemon(csms, **settings) -> a started Daemon; all are stopped at the end."""
    started: list[Daemon] = []

    def make(csms: Csms | None = None, start: bool = True, **settings: Any) -> Daemon:
        values: dict[str, Any] = {"identity": "CP-TEST-1", "response_timeout": 5, "reconnect_max_delay": 2}
        if csms is not None:
            values["csms_url"] = csms.url
        values.update(settings)
        daemon = Daemon(tmp_path / f"station{len(started)}", values)
        if start:
            daemon.start()
        started.append(daemon)
        return daemon

    yield make
    for daemon in started:
        if daemon.process is not None:
            await daemon.stop()
        shutil.rmtree(daemon.data_dir, ignore_errors=True)


async def booted(csms: Csms, daemon: Daemon, connectors: int = 1) -> None:
    """Wait until the station is Accepted and has reported every connector."""
    await csms.wait_connected(timeout=20)
    for number in range(connectors + 1):
        await csms.wait_for("StatusNotification", lambda p, n=number: p["connectorId"] == n, timeout=20)
    await daemon.wait_socket()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs the station daemon `daemon`, so `make test-fast` can leave
    those (and the `slow` ones) out; a test needs no marker of its own for that."""
    for item in items:
        if "make_daemon" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.daemon)
