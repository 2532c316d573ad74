"""A simulated meter's energy register never goes back, as a real meter's does not: the next
meterStart is never below what the CSMS already heard, after a clean restart or a SIGKILL."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusTcpClient

from drivers.sdm630_sim import IMPORT_ENERGY_KWH
from tests.conftest import ROOT, Daemon, booted
from tests.csms import Csms
from tests.helpers import charging, cli_ok, configure
from tests.test_crash_safety import energy

EV_POWER_W = 22000  # about 6 Wh a second


async def _charged(csms: Csms, daemon: Daemon, id_tag: str) -> None:
    """A session on connector 1 that has reported some energy in MeterValues."""
    mark = len(csms.frames)
    await charging(csms, daemon, id_tag)
    start = (await csms.wait_for("StartTransaction", after=mark)).payload["meterStart"]
    await csms.wait_for("MeterValues", lambda p: (energy(p) or 0) > start, after=mark, timeout=15)


async def _restarted(csms: Csms, daemon: Daemon) -> None:
    mark = len(csms.frames)
    daemon.start()
    await csms.wait_for("BootNotification", after=mark, timeout=20)
    await daemon.wait_socket()


def _reported(csms: Csms) -> float:
    """The highest energy register the CSMS has heard of, in any message."""
    figures = [energy(p) or 0.0 for p in csms.calls("MeterValues")]
    figures += [p["meterStop"] for p in csms.calls("StopTransaction")]
    figures += [p["meterStart"] for p in csms.calls("StartTransaction")]
    return max(figures)


async def test_after_a_restart_the_next_meter_start_is_not_below_the_last_meter_stop(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, ev_power_w=EV_POWER_W)
    await booted(csms, daemon)
    await configure(csms, MeterValueSampleInterval="1")
    await _charged(csms, daemon, "TAG1")
    await cli_ok(daemon, "swipe", "TAG1")
    meter_stop = (await csms.wait_for("StopTransaction")).payload["meterStop"]
    await cli_ok(daemon, "unplug", "1")
    assert await daemon.stop() == 0
    await _restarted(csms, daemon)
    mark = len(csms.frames)
    await charging(csms, daemon, "TAG2", until="StartTransaction")
    meter_start = (await csms.wait_for("StartTransaction", after=mark)).payload["meterStart"]
    assert meter_stop > 0 and meter_start == meter_stop  # a clean stop keeps the exact register


async def test_after_a_sigkill_the_next_meter_start_is_not_below_anything_reported(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, ev_power_w=EV_POWER_W)
    await booted(csms, daemon)
    await configure(csms, MeterValueSampleInterval="1")
    await _charged(csms, daemon, "TAG1")
    daemon.kill()
    await _restarted(csms, daemon)
    assert (await csms.wait_for("StopTransaction", timeout=20)).payload["reason"] == "PowerLoss"
    reported = _reported(csms)
    mark = len(csms.frames)
    await cli_ok(daemon, "swipe", "TAG2")  # the cable is still in after the power cut
    meter_start = (await csms.wait_for("StartTransaction", after=mark)).payload["meterStart"]
    assert reported > 0 and meter_start >= reported


async def _meter_sim(port: int, register: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chargepoint", "meter-sim", "--port", str(port), "--power", str(EV_POWER_W),
        "--register", str(register), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )


@pytest.fixture
async def client(unused_tcp_port: int) -> AsyncIterator[AsyncModbusTcpClient]:
    modbus = AsyncModbusTcpClient("127.0.0.1", port=unused_tcp_port, timeout=2, retries=0, reconnect_delay=0)
    yield modbus
    modbus.close()


async def _connected(client: AsyncModbusTcpClient, process: asyncio.subprocess.Process) -> None:
    """Once the simulator listens: it prints its banner just before."""
    assert process.stdout is not None
    await process.stdout.readline()
    for _ in range(100):
        if await client.connect():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("meter-sim does not listen")


async def _register_kwh(client: AsyncModbusTcpClient) -> float:
    """The register, read over Modbus as a station reads it."""
    response = await client.read_input_registers(IMPORT_ENERGY_KWH, count=2, device_id=1)
    assert not response.isError(), response
    return float(client.convert_from_registers(response.registers, client.DATATYPE.FLOAT32, word_order="big"))


async def test_meter_sim_keeps_its_register_in_a_file_across_a_sigkill(
    unused_tcp_port: int, tmp_path: Path, client: AsyncModbusTcpClient
) -> None:
    register = tmp_path / "sdm630.wh"
    process = await _meter_sim(unused_tcp_port, register)
    try:
        await _connected(client, process)
        read = await _register_kwh(client)
        while read == 0:
            await asyncio.sleep(0.2)
            read = await _register_kwh(client)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    client.close()
    process = await _meter_sim(unused_tcp_port, register)
    try:
        await _connected(client, process)
        assert await _register_kwh(client) >= read > 0
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
