"""Helpers the test files share: the CLI as a user types it, the CSMS's side of a session, the daemon's log."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

from ocpp.v16 import call

from chargepoint.app.settings import Settings
from chargepoint.app.station import Station
from tests.conftest import Daemon, booted, eventually
from tests.csms import Csms, Frame


async def cli_ok(daemon: Daemon, *args: str) -> str:
    """Run a `chargepoint` command that must succeed; its output (a failure shows what the user saw)."""
    result = await daemon.cli(*args)
    assert result.code == 0, f"chargepoint {' '.join(args)} -> {result}"
    return result.out


async def cli_fails(daemon: Daemon, *args: str) -> str:
    """Run a `chargepoint` command that must fail as the user is told: exit 1 and one line on
    stderr, which is returned."""
    result = await daemon.cli(*args)
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1, f"chargepoint {' '.join(args)} -> {result}"
    assert "Traceback" not in result.err
    return result.err


async def configure(csms: Csms, **keys: str) -> None:
    """Set configuration keys the way a CSMS does, by ChangeConfiguration; each must be Accepted."""
    for key, value in keys.items():
        assert (await csms.call(call.ChangeConfiguration(key=key, value=value))).status == "Accepted", key


async def reaches(
    csms: Csms, connector: int, status: str, error_code: str = "NoError", after: int = 0, timeout: float = 10.0
) -> Frame:
    """Wait for the StatusNotification that reports `connector` in `status` with `error_code`."""
    return await csms.wait_for(
        "StatusNotification",
        lambda p: (p["connectorId"], p["status"], p["errorCode"]) == (connector, status, error_code),
        after=after,
        timeout=timeout,
    )


async def charging(
    csms: Csms,
    daemon: Daemon,
    id_tag: str = "TAG1",
    *,
    boot: bool = False,
    until: Literal["Charging", "StartTransaction", "MeterValues"] = "Charging",
    timeout: float = 10.0,
) -> Frame:
    """Start a session on connector 1 as a driver does; wait for its Charging status or its first `until` CALL."""
    if boot:
        await booted(csms, daemon)
    mark = len(csms.frames)
    for args in (("plug", "1"), ("ev", "1", "charge"), ("swipe", id_tag)):
        await cli_ok(daemon, *args)
    if until == "Charging":
        return await reaches(csms, 1, "Charging", after=mark, timeout=timeout)
    return await csms.wait_for(until, after=mark, timeout=timeout)


async def transaction_id(daemon: Daemon) -> int:
    """The CSMS's transactionId, once its StartTransaction answer has reached connector 1."""
    for _ in range(100):
        found = (await daemon.status())["connectors"][0]["transaction_id"]
        if found is not None:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError("connector 1 got no transactionId")


async def logged(daemon: Daemon, text: str, timeout: float = 15.0) -> None:
    """Wait until the daemon's log holds `text`, the trace a user or technician would read."""
    await eventually(lambda: text in daemon.logs(), timeout, f"log line {text!r}")


async def exited(daemon: Daemon, timeout: float = 30.0) -> int:
    """The daemon's exit status once it has ended by itself, waiting without blocking the CSMS."""
    process = daemon.process
    assert process is not None
    await eventually(lambda: process.poll() is not None, timeout, f"the daemon exits by itself:\n{daemon.logs()}")
    return process.returncode


async def answered_on_the_same_link(csms: Csms, daemon: Daemon) -> None:
    """The link survived what came before: a request still gets its answer, on connection 1,
    and the log holds no Traceback."""
    answer = await csms.call(call.GetConfiguration(key=["HeartbeatInterval"]))
    assert answer.configuration_key[0]["key"] == "HeartbeatInterval"
    assert csms.connections == 1, daemon.logs()[-2000:]
    assert "Traceback" not in daemon.logs() and "link task failed" not in daemon.logs(), daemon.logs()[-3000:]



@contextlib.asynccontextmanager
async def running_station(
    csms: Csms, data_dir: Path, keys: dict[str, str] | None = None, **settings: Any
) -> AsyncIterator[Station]:
    """A Station in this event loop (no daemon), with `keys` set as `config set` would before
    it starts; yielded once it is booted and has reported connector 1."""
    values: dict[str, Any] = {"identity": "CP-TEST-1", "csms_url": csms.url, "data_dir": data_dir, "reconnect_max_delay": 1}
    station = Station(Settings(**(values | settings)))
    for key, value in (keys or {}).items():
        assert station.config.change(key, value) == "Accepted", key
    task = asyncio.create_task(station.run())
    try:
        await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, timeout=20)
        yield station
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
