"""A meter on a serial line that does not answer, as the daemon's CSMS and its log see it."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator

import pytest

from drivers.sdm630_sim import Sdm630Simulator
from tests.conftest import Daemon, booted
from tests.csms import Csms
from tests.helpers import cli_ok, logged, reaches


@pytest.fixture
def silent_serial_line() -> Iterator[str]:
    """A real pseudo-terminal with no meter at its far end: every request times out."""
    master, slave = os.openpty()
    try:
        yield os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


async def test_a_silent_meter_is_a_power_meter_failure_in_every_status_from_boot_to_plug_in(
    csms: Csms, make_daemon, silent_serial_line: str
) -> None:
    daemon = make_daemon(csms, meters=[f"modbus-rtu://{silent_serial_line}?baudrate=9600&unit=1&model=sdm630"])
    await booted(csms, daemon)
    await cli_ok(daemon, "plug", "1")
    await reaches(csms, 1, "Preparing", "PowerMeterFailure")
    reported = [p for p in csms.calls("StatusNotification") if p["connectorId"] == 1]
    assert [p["errorCode"] for p in reported] == ["PowerMeterFailure"] * len(reported), reported


def _meter_lines(daemon: Daemon) -> list[str]:
    """What the meter and its Modbus library put in the daemon's log."""
    sources = ("pymodbus", "drivers.modbus", "chargepoint.metering")
    return [line for line in daemon.logs().splitlines() if any(source in line for source in sources)]


async def test_a_meter_that_cannot_connect_is_logged_once_and_once_more_when_it_reads_again(
    csms: Csms, make_daemon, unused_tcp_port: int
) -> None:
    daemon = make_daemon(csms, meters=[f"modbus-tcp://127.0.0.1:{unused_tcp_port}?unit=1&model=sdm630"])
    await booted(csms, daemon)
    await logged(daemon, "connector 1 meter failure: cannot connect")
    await asyncio.sleep(5)  # about five more polls, each failing
    lines = _meter_lines(daemon)
    assert len(lines) == 1 and lines[0].endswith("ERROR chargepoint.metering.watch: connector 1 meter failure: cannot connect"), lines
    meter = Sdm630Simulator()
    await meter.start(port=unused_tcp_port)
    try:
        await logged(daemon, "connector 1 meter reads again")
    finally:
        await meter.stop()
    lines = _meter_lines(daemon)
    assert len(lines) == 2, lines
    counted = re.search(r"connector 1 meter reads again, after (\d+) failures in \d+ s$", lines[1])
    assert counted and int(counted[1]) >= 5, lines
