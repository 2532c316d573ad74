"""A meter on a serial line that does not answer, as the daemon's CSMS and its log see it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import booted
from tests.csms import Csms
from tests.helpers import cli_ok, reaches


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
