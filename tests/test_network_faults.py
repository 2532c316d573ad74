"""A link that survives a bad network: each fault through a real TCP proxy, against a real daemon.

For every fault the test checks what a user sees: one log line per failed connect that names
the cause, `status` showing the link down and then Connected again once the fault is gone,
and, where the fault hits a charging session, every StartTransaction, MeterValues and
StopTransaction queued meanwhile reaching the CSMS in order, none lost.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.conftest import Daemon, booted, eventually
from tests.csms import CALL, CALLRESULT, Csms
from tests.fault_proxy import FaultProxy
from tests.helpers import charging, cli_ok, configure

MAX_DELAY = 1.0  # reconnect_max_delay: every retry comes within 0.5 to 1 s
LINK = {"reconnect_max_delay": MAX_DELAY, "response_timeout": 2}
TRANSACTION_ACTIONS = ("StartTransaction", "MeterValues", "StopTransaction")
SAMPLING = {"MeterValueSampleInterval": "1", "TransactionMessageRetryInterval": "1"}  # queue up fast, retry fast

Network = tuple[Csms, FaultProxy]
MakeDaemon = Callable[..., Daemon]


@pytest.fixture
async def network() -> AsyncIterator[Network]:
    """The test CSMS and, in front of it, the proxy the station connects through."""
    async with Csms() as csms, FaultProxy(csms.port) as proxy:
        yield csms, proxy


def failed_connects(daemon: Daemon) -> list[str]:
    """The log lines of failed connects, one per attempt."""
    return [line for line in daemon.logs().splitlines() if "CSMS link to " in line and " failed: " in line]


def failures_naming(daemon: Daemon, cause: str) -> list[str]:
    lines = failed_connects(daemon)
    assert all(cause in line for line in lines), lines
    return lines


async def link_down_with_messages_queued(daemon: Daemon) -> None:
    """Once the station has noticed the fault: link down, still registered, samples piling up."""

    async def queued_while_down() -> bool:
        now = await daemon.status()
        assert now["registration"] == "Accepted", now
        return now["link"] in ("Connecting", "Error") and now["queued"] >= 2

    await eventually(queued_while_down, 15, "status shows the link down and MeterValues queued")


async def connected(daemon: Daemon) -> None:
    await eventually(lambda: _link_is(daemon, "Connected"), 15, "status shows the link Connected")


async def _link_is(daemon: Daemon, state: str) -> bool:
    return (await daemon.status())["link"] == state


async def recovers_after(failures: int, cause: str, csms: Csms, proxy: FaultProxy, daemon: Daemon) -> None:
    """A fault injected mid-session: samples queue up, each failed connect logs its cause once,
    and once the fault is gone the station reconnects and delivers everything."""
    await link_down_with_messages_queued(daemon)
    await eventually(lambda: len(failed_connects(daemon)) >= failures, 10, f"{failures} failed connects logged")
    await proxy.forward()
    failed = proxy.connections - 1
    await eventually(lambda: csms.connections == 2, 10, "the station reconnects")
    assert len(failures_naming(daemon, cause)) == failed
    await connected(daemon)
    await stop_and_check_delivery(daemon, csms)


async def stop_and_check_delivery(daemon: Daemon, *servers: Csms) -> None:
    """Stop the session, wait for the queue to drain, then check what the CSMS got, in order.

    A message whose answer a cut lost is sent again (OCPP-J delivers at least once), so
    back-to-back repeats of one payload count once; anything else out of place is a defect.
    """
    await cli_ok(daemon, "swipe", "TAG1")
    await servers[-1].wait_for("StopTransaction", timeout=15)
    await eventually(lambda: _queue_empty(daemon), 10, "the queue drains")
    frames = [f for server in servers for f in server.frames]
    received = [f for f in frames if f.direction == "in" and f.message_type == CALL and f.action in TRANSACTION_ACTIONS]
    delivered = [f for n, f in enumerate(received) if n == 0 or f.payload != received[n - 1].payload]
    actions = [f.action for f in delivered]
    assert actions[0] == "StartTransaction" and actions[-1] == "StopTransaction", actions
    assert set(actions[1:-1]) == {"MeterValues"}, actions
    stamps = [f.payload["meterValue"][0]["timestamp"] for f in delivered[1:-1]]
    assert stamps == sorted(set(stamps)), "MeterValues out of order"
    last_start = [f for f in received if f.action == "StartTransaction"][-1]
    answer = next(f for f in frames if f.message_type == CALLRESULT and f.unique_id == last_start.unique_id)
    assert {f.payload["transactionId"] for f in delivered[1:]} == {answer.payload["transactionId"]}
    # Nothing the station put on the wire went missing, whichever link it went out on ...
    logged = [json.loads(line) for line in daemon.frames().splitlines()]
    sent = [entry["frame"] for entry in logged if entry["direction"] == "out"]
    on_wire = {_key(f[3]) for f in sent if f[0] == CALL and f[2] in TRANSACTION_ACTIONS}
    assert on_wire <= {_key(f.payload) for f in received}
    # ... and nothing queued was given up on: the queue drained by delivery alone.
    assert "DISCARDED" not in daemon.logs()


def _key(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True)


async def _queue_empty(daemon: Daemon) -> bool:
    return (await daemon.status())["queued"] == 0


async def test_connection_refused_mid_session(network: Network, make_daemon: MakeDaemon) -> None:
    csms, proxy = network
    daemon = make_daemon(csms_url=proxy.url(), **LINK)
    await booted(csms, daemon)
    await configure(csms, **SAMPLING)
    await charging(csms, daemon, until="MeterValues")
    await proxy.refuse()
    proxy.drop()
    await link_down_with_messages_queued(daemon)
    await eventually(lambda: len(failed_connects(daemon)) >= 2, 10, "two refused connects logged")
    assert failures_naming(daemon, f"connection refused: nothing listens on 127.0.0.1:{proxy.port}")
    await proxy.forward()
    await eventually(lambda: csms.connections == 2, 10, "the station reconnects")
    await connected(daemon)
    await stop_and_check_delivery(daemon, csms)
    assert len(csms.received("BootNotification")) == 1


async def test_unresolvable_host(make_daemon: MakeDaemon) -> None:
    daemon = make_daemon(csms_url="ws://csms.example.invalid/ocpp", **LINK)
    await eventually(lambda: len(failed_connects(daemon)) >= 2, 10, "two failed lookups logged")
    assert failures_naming(daemon, "cannot resolve host csms.example.invalid")
    now = await daemon.status()
    assert now["link"] in ("Connecting", "Error") and now["registration"] == "None", now


async def test_upgrade_refused_with_404_is_retried_with_randomized_capped_backoff(
    network: Network, make_daemon: MakeDaemon
) -> None:
    csms, proxy = network
    proxy.http_status(404, "Not Found")
    daemon = make_daemon(csms_url=proxy.url(), **LINK)
    await eventually(lambda: proxy.connections >= 7, 15, "seven connect attempts")
    assert (await daemon.status())["link"] in ("Connecting", "Error")
    await proxy.forward()
    refused = proxy.connections  # the proxy picks a connection's fate the moment it counts it
    await booted(csms, daemon)
    assert len(failures_naming(daemon, "HTTP 404 Not Found: no OCPP endpoint at this URL")) == refused
    assert (await daemon.status())["link"] == "Connected"
    gaps = [later - earlier for earlier, later in zip(proxy.attempts[:refused], proxy.attempts[1:refused])]
    # Each wait is reconnect_max_delay times a random factor in [0.5, 1]; the slack is for the
    # attempt itself on a busy machine. Uncapped, the sixth wait alone would be 16 s or more.
    assert all(MAX_DELAY / 2 <= gap <= MAX_DELAY + 0.5 for gap in gaps), gaps
    assert max(gaps) - min(gaps) > 0.05, f"retries are not spread at random: {gaps}"


async def test_upgrade_refused_with_401_mid_session(network: Network, make_daemon: MakeDaemon) -> None:
    csms, proxy = network
    daemon = make_daemon(csms_url=proxy.url(), **LINK)
    await booted(csms, daemon)
    await configure(csms, **SAMPLING)
    await charging(csms, daemon, until="MeterValues")
    proxy.http_status(401, "Unauthorized")
    proxy.drop()
    await recovers_after(2, "HTTP 401 Unauthorized: credentials refused", csms, proxy, daemon)


async def test_tls_handshake_failure(network: Network, make_daemon: MakeDaemon) -> None:
    """wss:// to a port that speaks plain WebSocket: the TLS handshake cannot complete."""
    csms, proxy = network
    daemon = make_daemon(csms_url=proxy.url("wss"), **LINK)
    await eventually(
        lambda: proxy.connections >= 2 and len(failed_connects(daemon)) == proxy.connections,
        10,
        "one log line for each of two failed handshakes",
    )
    assert failures_naming(daemon, f"TLS handshake failed: the server closed the connection (does 127.0.0.1:{proxy.port}")
    now = await daemon.status()
    assert now["link"] in ("Connecting", "Error") and now["registration"] == "None", now
    assert csms.connections == 0


async def test_csms_that_accepts_the_socket_but_never_answers(network: Network, make_daemon: MakeDaemon) -> None:
    csms, proxy = network
    daemon = make_daemon(csms_url=proxy.url(), **LINK)
    await booted(csms, daemon)
    await configure(csms, **SAMPLING)
    await charging(csms, daemon, until="MeterValues")
    proxy.blackhole()
    proxy.drop()
    await recovers_after(1, "no WebSocket handshake within MessageTimeout", csms, proxy, daemon)


async def test_half_open_link_is_detected_by_websocket_ping(network: Network, make_daemon: MakeDaemon) -> None:
    """The TCP link stays up but carries nothing: only a missing pong can tell."""
    csms, proxy = network
    daemon = make_daemon(csms_url=proxy.url(), **LINK)
    await booted(csms, daemon)
    await configure(csms, **SAMPLING)
    await charging(csms, daemon, until="MeterValues")
    await configure(csms, WebSocketPingInterval="1")
    proxy.freeze()
    await proxy.refuse()  # so the link stays down, visibly, once the station gives up on it
    await eventually(lambda: "no WebSocket pong within 2 s" in daemon.logs(), 10, "the missing pong logged")
    await link_down_with_messages_queued(daemon)
    await proxy.forward()
    await eventually(lambda: csms.connections == 2, 15, "the station reconnects")
    await connected(daemon)
    assert daemon.logs().count("no WebSocket pong") == 1
    await stop_and_check_delivery(daemon, csms)


async def test_half_open_link_without_pings_is_found_by_the_unanswered_call(
    network: Network, make_daemon: MakeDaemon
) -> None:
    """WebSocketPingInterval 0: the first unanswered MeterValues is followed by a ping; no pong
    means a dead link, dropped at once, and the message keeps all its attempts."""
    csms, proxy = network
    daemon = make_daemon(csms_url=proxy.url(), **LINK)
    await booted(csms, daemon)
    await configure(csms, WebSocketPingInterval="0")
    await configure(csms, **SAMPLING)
    await charging(csms, daemon, until="MeterValues")
    proxy.freeze()
    await proxy.refuse()
    await eventually(
        lambda: "unanswered and no WebSocket pong within 2 s; dropping the link" in daemon.logs(), 15, "the dead link dropped"
    )
    await link_down_with_messages_queued(daemon)
    await proxy.forward()
    await eventually(lambda: csms.connections == 2, 15, "the station reconnects")
    await connected(daemon)
    await stop_and_check_delivery(daemon, csms)
    assert " attempt " not in daemon.logs()  # no TransactionMessageAttempts spent on a dead link


async def test_csms_restart_mid_session(network: Network, make_daemon: MakeDaemon) -> None:
    """The CSMS goes away behind the proxy (as behind a load balancer) and comes back."""
    csms, proxy = network
    daemon = make_daemon(csms_url=proxy.url(), **LINK)
    await booted(csms, daemon)
    await configure(csms, **SAMPLING)
    await charging(csms, daemon, until="MeterValues")
    await csms.stop()
    await link_down_with_messages_queued(daemon)
    await eventually(
        lambda: proxy.connections >= 3 and len(failed_connects(daemon)) == proxy.connections - 1,
        10,
        "one log line for each of two failed connects",
    )
    assert failures_naming(daemon, "the server closed the connection before answering the WebSocket upgrade")
    async with Csms(port=proxy.upstream_port) as restarted:
        await restarted.wait_connected(timeout=10)
        await connected(daemon)
        await stop_and_check_delivery(daemon, csms, restarted)
        assert not restarted.received("BootNotification")
