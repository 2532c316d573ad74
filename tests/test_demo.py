"""`chargepoint demo` runs one complete session against its own local CSMS and exits 0."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def test_demo_prints_a_complete_session() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chargepoint", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=90
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    steps = [
        "BootNotification from WEG",
        "StatusNotification connector 1: Preparing",
        "Authorize DEMO-CARD-01",
        "StartTransaction connector 1",  # Charging may be reported just before or after it
        "MeterValues connector 1: Energy.Active.Import.Register",
        "station: power 11000 W, offered 32 A",
        "CSMS -> SetChargingProfile TxProfile 10 A: Accepted",
        "station: power 6900 W, offered 10 A",  # the EV follows the limit: 10 A x 230 V x 3
        "StopTransaction meterStop",
        "StatusNotification connector 1: Available",
        "session complete",
    ]
    position = 0
    for step in steps:  # each step after the previous one
        position = out.find(step, position)
        assert position >= 0, f"{step!r} missing or out of order in:\n{out}"
    assert "StatusNotification connector 1: Charging" in out
    delivered = int(re.search(r"energy delivered:\s+(\d+) Wh", out).group(1))
    assert delivered > 0
