"""Security events (whitepaper A04, §8) raised by what causes them, seen on the wire by a real CSMS
and in the security log: critical ones are queued in SQLite and survive an offline period and a
SIGKILL, delivered in order with the time they were raised; non-critical ones are only logged."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ocpp.v16 import call

from tests.conftest import booted, eventually
from tests.csms import Csms
from tests.helpers import cli_ok, configure, logged


def _events(csms: Csms, after: int = 0) -> list[tuple[str, str]]:
    """(type, timestamp) of each event the CSMS got; one whose answer a closing link lost comes
    again (at least once, as transaction messages), so a back-to-back repeat counts once."""
    sent = [(f.payload["type"], f.payload["timestamp"]) for f in csms.frames[after:]
            if f.direction == "in" and f.action == "SecurityEventNotification" and f.message_type == 2]
    return [event for n, event in enumerate(sent) if n == 0 or event != sent[n - 1]]


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def test_a04_fr_02_critical_events_wait_out_an_offline_period_and_a_sigkill(make_daemon) -> None:
    first = Csms()
    await first.__aenter__()
    port = first.port
    daemon = make_daemon(first)
    await booted(first, daemon)
    startup = await first.wait_for("SecurityEventNotification", lambda p: p["type"] == "StartupOfTheDevice")
    assert startup.payload["techInfo"].startswith("wemob-") and "firmware" in startup.payload["techInfo"]
    await eventually(lambda: any(f.direction == "out" and f.unique_id == startup.unique_id for f in first.frames), 10,
                     "the CSMS confirms StartupOfTheDevice")
    await first.stop()

    out = await cli_ok(daemon, "tamper")
    assert "TamperDetectionActivated" in out
    assert "SecurityLogWasCleared" in await cli_ok(daemon, "security-log", "--clear")
    offline_until = datetime.now(UTC)
    daemon.kill()  # a power cut before the CSMS heard of either
    daemon.start()
    async with Csms(port=port) as second:
        await second.wait_for(
            "SecurityEventNotification",
            lambda p: p["type"] == "StartupOfTheDevice" and _moment(p["timestamp"]) > offline_until,
            timeout=20,
        )
        events = _events(second)
    kinds = [kind for kind, _ in events]
    assert kinds == ["TamperDetectionActivated", "SecurityLogWasCleared", "StartupOfTheDevice"], events
    assert all(_moment(stamp) <= offline_until for _, stamp in events[:2]), events  # the time they happened
    shown = (await cli_ok(daemon, "security-log")).splitlines()
    # Cleared on site: the log begins with its clearing; the tamper before it is gone from it.
    assert [line.split()[1] for line in shown] == ["SecurityLogWasCleared", "StartupOfTheDevice"], shown


async def test_tamper_reaches_the_csms_at_once_and_reconfiguration_is_only_logged(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wallbox")
    await booted(csms, daemon)
    mark = len(csms.frames)
    await cli_ok(daemon, "tamper")
    tamper = await csms.wait_for("SecurityEventNotification", lambda p: p["type"] == "TamperDetectionActivated", after=mark)
    assert tamper.payload["techInfo"] == "enclosure opened (tamper switch)"
    await configure(csms, AuthorizationKey="a1b2c3d4e5f60718293a4b5c6d7e8f90")
    await csms.wait_connections(2)
    await logged(daemon, "security event ReconfigurationOfSecurityParameters")
    entries = [json.loads(line) for line in (daemon.data_dir / "security.log").read_text().splitlines()]
    changed = [e for e in entries if e["event"] == "ReconfigurationOfSecurityParameters"]
    assert changed and changed[0]["techInfo"] == "AuthorizationKey changed"
    assert "a1b2c3d4" not in (daemon.data_dir / "security.log").read_text()
    assert "ReconfigurationOfSecurityParameters" not in [kind for kind, _ in _events(csms)]  # not critical

    mark = len(csms.frames)
    assert (await csms.call(call.Reset(type="Soft"))).status == "Accepted"
    await csms.wait_for("SecurityEventNotification", lambda p: p["type"] == "StartupOfTheDevice", after=mark, timeout=20)
    assert [kind for kind, _ in _events(csms, mark)] == ["ResetOrReboot", "StartupOfTheDevice"]
