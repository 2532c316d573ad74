"""Registration (spec §4.2, §5.x BootNotification): Accepted, Pending and Rejected."""

from __future__ import annotations

import asyncio
import json

from ocpp.v16 import call

from tests.conftest import booted
from tests.csms import CALL, Csms


async def test_accepted_boot_reports_every_connector_then_heartbeats(make_daemon) -> None:
    async with Csms(boot_interval=1) as csms:
        daemon = make_daemon(csms, profile="wemob", model="wemob-parking-ac22")
        await booted(csms, daemon, connectors=2)
        boot = csms.calls("BootNotification")[0]
        assert boot["chargePointVendor"] == "WEG"
        assert boot["chargePointModel"] == "WEMOB-PARKING-22"
        assert csms.identity == "CP-TEST-1"
        first = csms.received("BootNotification")[0].at
        beats = [await csms.wait_for("Heartbeat", timeout=5, after=0)]
        mark = len(csms.frames)
        beats.append(await csms.wait_for("Heartbeat", timeout=5, after=mark))
        assert 0.8 < beats[0].at - first < 4
        assert 0.8 < beats[1].at - beats[0].at < 4
        statuses = [(p["connectorId"], p["status"]) for p in csms.calls("StatusNotification")]
        assert statuses[:3] == [(0, "Available"), (1, "Available"), (2, "Available")]
        # The boot interval became the station's HeartbeatInterval.
        answer = await csms.call(call.GetConfiguration(key=["HeartbeatInterval"]))
        assert answer.configuration_key[0]["value"] == "1"


async def test_pending_boot_answers_csms_but_sends_nothing_until_accepted(make_daemon) -> None:
    async with Csms(boot_status="Pending", boot_interval=1) as csms:
        make_daemon(csms)
        await csms.wait_for("BootNotification", timeout=20)
        answer = await csms.call(call.GetConfiguration(key=["HeartbeatInterval"]))
        assert answer.configuration_key[0]["key"] == "HeartbeatInterval"
        await csms.wait_for("BootNotification", timeout=5, after=1)
        boots = csms.received("BootNotification")
        assert boots[1].at - boots[0].at >= 0.9
        incoming = {f.action for f in csms.frames if f.direction == "in" and f.message_type == CALL}
        assert incoming == {"BootNotification"}
        csms.boot_status = "Accepted"
        await csms.wait_for("StatusNotification", timeout=5)


async def test_rejected_boot_is_silent_until_the_interval_passed(make_daemon) -> None:
    async with Csms(boot_status="Rejected", boot_interval=2) as csms:
        daemon = make_daemon(csms)
        await csms.wait_for("BootNotification", timeout=20)
        await daemon.wait_socket()
        while json.loads((await daemon.cli("status", "--json")).out)["registration"] != "Rejected":
            await asyncio.sleep(0.05)
        with_no_answer = asyncio.create_task(csms.call_raw("GetConfiguration", {}, timeout=1.2))
        try:
            await with_no_answer
            raise AssertionError("a Rejected station answered the CSMS")
        except (TimeoutError, asyncio.TimeoutError):
            pass
        await csms.wait_for("BootNotification", timeout=5, after=1)
        boots = csms.received("BootNotification")
        assert boots[1].at - boots[0].at >= 1.9
        incoming = {f.action for f in csms.frames if f.direction == "in" and f.message_type == CALL}
        assert incoming == {"BootNotification"}
        csms.boot_status = "Accepted"
        await csms.wait_for("StatusNotification", timeout=5)
