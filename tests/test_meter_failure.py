"""A real Modbus TCP meter behind the daemon: PowerMeterFailure while it fails, and recovery."""

from __future__ import annotations

import asyncio

from drivers.sdm630_sim import Sdm630Simulator
from tests.conftest import booted
from tests.helpers import cli_ok, configure


async def test_a_silent_meter_raises_power_meter_failure_and_no_fresh_samples(csms, make_daemon) -> None:
    meter = Sdm630Simulator()
    port = await meter.start()
    try:
        daemon = make_daemon(csms, meters=[f"modbus-tcp://127.0.0.1:{port}?unit=1&model=sdm630"], ev_power_w=11000)
        await booted(csms, daemon)
        await configure(csms, MeterValueSampleInterval="1")
        meter.set_power(11000)
        for args in (("plug", "1"), ("ev", "1", "charge"), ("swipe", "TAG1")):
            await cli_ok(daemon, *args)
        await csms.wait_for("MeterValues", timeout=5)
        stopped = len(csms.frames)  # before it, the boot status may say the meter is not read yet
        await meter.stop()
        failure = await csms.wait_for(
            "StatusNotification", lambda p: p["errorCode"] == "PowerMeterFailure", timeout=10, after=stopped
        )
        assert failure.payload["connectorId"] == 1 and failure.payload["status"] == "Charging"
        mark = len(csms.frames)
        await asyncio.sleep(2.5)
        assert not [f for f in csms.received("MeterValues") if csms.frames.index(f) >= mark]
        meter = Sdm630Simulator(start_wh=0)
        meter.set_power(11000)
        await meter.start(port=port)
        await csms.wait_for("StatusNotification", lambda p: p["errorCode"] == "NoError", timeout=10, after=mark)
        await csms.wait_for("MeterValues", timeout=5, after=mark)
    finally:
        await meter.stop()


async def test_a_bad_meter_url_is_one_setting_line(make_daemon) -> None:
    daemon = make_daemon(None, start=False, meters=["modbus-tcp://127.0.0.1:5020?unit=1&model=sdm999"])
    result = await daemon.cli("status")
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.strip().startswith("chargepoint: setting meters:") and "sdm630" in result.err
