"""Security events (whitepaper A04, §8) raised by what causes them, seen on the wire by a real CSMS
and in the security log: critical ones are queued in SQLite and survive an offline period and a
SIGKILL, delivered in order with the time they were raised; non-critical ones are only logged."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import warnings
from datetime import UTC, datetime, timedelta

import pytest
import trustme
from ocpp.v16 import call

from chargepoint.link.security import connect_failure_event

from tests.conftest import Daemon, booted, eventually
from tests.csms import Csms
from tests.helpers import cli_ok, configure, logged


def _events(csms: Csms, after: int = 0) -> list[tuple[str, str]]:
    """(type, timestamp) of each event the CSMS got; one whose answer a closing link lost comes
    again (at least once, as transaction messages), so a back-to-back repeat counts once."""
    sent = [(f.payload["type"], f.payload["timestamp"]) for f in csms.frames[after:]
            if f.direction == "in" and f.action == "SecurityEventNotification" and f.message_type == 2]
    return [event for n, event in enumerate(sent) if n == 0 or event != sent[n - 1]]


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
    async with Csms(port=port) as second:
        daemon.start()
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
    csms.heartbeat_time = _stamp(datetime.now(UTC) + timedelta(hours=1))
    await configure(csms, HeartbeatInterval="1")
    ahead = await csms.wait_for("SecurityEventNotification", lambda p: p["type"] == "SettingSystemTime", after=mark)
    assert ahead.payload["techInfo"].startswith("clock set from the CSMS's currentTime: +3")
    assert _moment(ahead.payload["timestamp"]) > datetime.now(UTC) + timedelta(minutes=59)  # stamped by the new time
    csms.heartbeat_time = None
    mark = len(csms.frames)
    back = await csms.wait_for("SecurityEventNotification", lambda p: p["type"] == "SettingSystemTime", after=mark)
    assert back.payload["techInfo"].startswith("clock set from the CSMS's currentTime: -3")

    mark = len(csms.frames)
    assert (await csms.call(call.Reset(type="Soft"))).status == "Accepted"
    await csms.wait_for("SecurityEventNotification", lambda p: p["type"] == "StartupOfTheDevice", after=mark, timeout=20)
    assert [kind for kind, _ in _events(csms, mark)] == ["ResetOrReboot", "StartupOfTheDevice"]


def _logged_events(daemon: Daemon) -> list[dict[str, str]]:
    return [json.loads(line) for line in (daemon.data_dir / "security.log").read_text().splitlines()]


async def test_invalid_and_replayed_calls_and_refused_credentials_go_to_the_security_log(csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    for number in range(3):  # a peer sending garbage: told once, not three times (infra/repeats)
        await csms.send_raw(json.dumps([2, f"bad{number}", "ChangeConfiguration", {"key": 5, "value": "1"}]))
        assert (await csms.next_incoming_response(f"bad{number}"))[2] == "TypeConstraintViolation"
    asked = {"key": ["HeartbeatInterval"]}
    await csms.send_raw(json.dumps([2, "same-id", "GetConfiguration", asked]))
    first = await csms.next_incoming_response("same-id")
    mark = len(csms.frames)
    await csms.send_raw(json.dumps([2, "same-id", "GetConfiguration", asked]))  # a resend: answered again
    assert await csms.next_incoming_response("same-id", after=mark) == first
    mark = len(csms.frames)
    await csms.send_raw(json.dumps([2, "same-id", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "5"}]))
    refused = await csms.next_incoming_response("same-id", after=mark)
    assert refused[:3] == [4, "same-id", "SecurityError"], refused
    assert (await csms.call(call.GetConfiguration(key=["HeartbeatInterval"]))).configuration_key[0]["value"] != "5"

    csms.reject_auth = True
    await csms.disconnect()
    await logged(daemon, "security event FailedToAuthenticationAtCentralSystem")
    entries = _logged_events(daemon)
    kinds = [e["event"] for e in entries]
    assert kinds.count("InvalidMessages") == 1 and kinds.count("AttemptedReplayAttacks") == 1, kinds
    replay = next(e for e in entries if e["event"] == "AttemptedReplayAttacks")
    assert "ChangeConfiguration reused the message ID same-id" in replay["techInfo"]
    refusal = next(e for e in entries if e["event"] == "FailedToAuthenticationAtCentralSystem")
    assert refusal["techInfo"] == "the CSMS answered HTTP 401 to the connect"
    # None of them critical: the CSMS heard of none.
    assert {kind for kind, _ in _events(csms)} <= {"StartupOfTheDevice"}


def _handshake_failure(server: ssl.SSLContext, client: ssl.SSLContext) -> BaseException:
    """What the station's TLS client raises against a TLS server that wants what it refuses."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        peer, _ = listener.accept()
        with contextlib.suppress(OSError), peer:
            server.wrap_socket(peer, server_side=True)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with socket.create_connection(listener.getsockname()) as raw:
            client.wrap_socket(raw, server_hostname="localhost")
    except ssl.SSLError as exc:
        return exc
    finally:
        thread.join(5)
        listener.close()
    raise AssertionError("the handshake succeeded")


@pytest.mark.parametrize(
    ("server_name", "trusted", "tune", "event"),
    [
        ("localhost", False, None, "InvalidCentralSystemCertificate"),  # A00.FR.309
        ("csms.elsewhere.example", True, None, "CentralSystemFailedToAuthentication"),
        ("localhost", True, "old-tls", "InvalidTLSVersion"),  # A00.FR.315
        ("localhost", True, "weak-cipher", "InvalidTLSCipherSuite"),  # A00.FR.322
    ],
)
def test_a_tls_handshake_failure_is_the_event_ssl_says_it_is(
    server_name: str, trusted: bool, tune: str | None, event: str
) -> None:
    ca = trustme.CA()
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(server_name).configure_cert(server)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 are deprecated: that is the point
        if tune == "old-tls":
            server.minimum_version, server.maximum_version = ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1
            server.set_ciphers("ALL:@SECLEVEL=0")
        if tune == "weak-cipher":
            server.maximum_version = ssl.TLSVersion.TLSv1_2
            server.set_ciphers("AES128-SHA:@SECLEVEL=0")
    client = ssl.create_default_context()  # as SecurityProfiles builds it
    if trusted:
        ca.configure_trust(client)
    found = connect_failure_event(_handshake_failure(server, client))
    assert found is not None and found[0].value == event, found
    assert found[1].startswith("TLS: ")


def test_failures_that_say_nothing_about_security_raise_no_event() -> None:
    assert connect_failure_event(ConnectionRefusedError(111, "Connection refused")) is None
    assert connect_failure_event(TimeoutError()) is None
