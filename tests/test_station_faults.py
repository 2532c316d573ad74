"""What stops the whole station stops every connector: a fault on connector 0 (§4.9, §7.7) and
the emergency stop button, as the CSMS and `chargepoint status` see them on a two-connector WEMOB."""

from __future__ import annotations

from typing import Any

import pytest
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from chargepoint.connector.status import ActiveError, ConnectorFacts, ErrorKind, derive_station_status, derive_status
from tests.conftest import Daemon, booted, eventually
from tests.csms import Csms
from tests.helpers import cli_fails, cli_ok, reaches

EV_POWER_W = 7400
S = ChargePointStatus
GROUND = ActiveError(ChargePointErrorCode.ground_failure, None, ErrorKind.FAULT)


@pytest.mark.parametrize(
    ("facts", "status", "station"),
    [
        ({"emergency_stop": True}, S.unavailable, S.unavailable),
        ({"emergency_stop": True, "plugged": True}, S.unavailable, S.unavailable),
        ({"emergency_stop": True, "plugged": True, "finishing": True}, S.unavailable, S.unavailable),  # F8 at once
        ({"emergency_stop": True, "authorized": True}, S.unavailable, S.unavailable),
        ({"emergency_stop": True, "reserved": True}, S.unavailable, S.unavailable),
        ({"emergency_stop": True, "errors": (GROUND,)}, S.faulted, S.faulted),  # a fault is still told
        ({"emergency_stop": False, "plugged": True, "finishing": True}, S.finishing, S.available),
    ],
)
def test_the_pressed_button_makes_every_connector_unavailable(facts: dict, status: S, station: S) -> None:
    assert derive_status(ConnectorFacts(**facts)) == status
    assert derive_station_status(ConnectorFacts(**facts)) == station


async def _both_charging(csms: Csms, daemon: Daemon) -> None:
    await booted(csms, daemon, connectors=2)
    for connector, id_tag in (("1", "TAG1"), ("2", "TAG2")):
        mark = len(csms.frames)
        for args in (("plug", connector), ("ev", connector, "charge"), ("swipe", id_tag, "--connector", connector)):
            await cli_ok(daemon, *args)
        await reaches(csms, int(connector), "Charging", after=mark)


async def _drawing(daemon: Daemon) -> list[tuple[Any, Any]]:
    """Per connector: the power its meter measures now and the current its pilot offers."""
    return [(c["power_w"], c["offered_a"]) for c in (await daemon.status())["connectors"]]


async def _draws(daemon: Daemon, expected: list[tuple[Any, Any]]) -> None:
    async def now() -> bool:
        return await _drawing(daemon) == expected

    await eventually(now, 15, f"connectors drawing (W, A) {expected}")


async def test_a_ground_failure_of_the_station_stops_the_energy_of_every_connector_until_cleared(
    csms: Csms, make_daemon
) -> None:
    daemon = make_daemon(csms, model="wemob-parking-ac22", ev_power_w=EV_POWER_W)
    await _both_charging(csms, daemon)
    await _draws(daemon, [(EV_POWER_W, 32), (EV_POWER_W, 32)])
    mark = len(csms.frames)
    await cli_ok(daemon, "fault", "0", "GroundFailure")
    await reaches(csms, 0, "Faulted", "GroundFailure", after=mark)
    for connector in (1, 2):
        await reaches(csms, connector, "Faulted", "GroundFailure", after=mark)
    await _draws(daemon, [(0, 0), (0, 0)])
    assert not csms.received("StopTransaction"), "the sessions are suspended, not ended"
    mark = len(csms.frames)
    await cli_ok(daemon, "fault", "0", "--clear")
    for connector in (0, 1, 2):
        await reaches(csms, connector, "Charging" if connector else "Available", after=mark)
    await _draws(daemon, [(EV_POWER_W, 32), (EV_POWER_W, 32)])


async def test_a_connector_cannot_clear_the_station_s_fault(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, model="wemob-parking-ac22")
    await booted(csms, daemon, connectors=2)
    await cli_ok(daemon, "fault", "0", "OverVoltage", "--info", "mains 265 V")
    await reaches(csms, 2, "Faulted", "OverVoltage")
    assert "`fault 0 --clear` clears it" in await cli_fails(daemon, "fault", "2", "--clear")
    state = await daemon.status()
    assert [c["status"] for c in state["connectors"]] == ["Faulted", "Faulted"]
    assert state["station"] == {"status": "Faulted", "error_code": "OverVoltage"}


async def test_the_emergency_stop_ends_every_session_and_holds_the_station_until_released(
    csms: Csms, make_daemon
) -> None:
    daemon = make_daemon(csms, model="wemob-parking-ac22", ev_power_w=EV_POWER_W)
    await _both_charging(csms, daemon)
    mark = len(csms.frames)
    assert "connectors [1, 2]" in await cli_ok(daemon, "estop")
    for connector in (0, 1, 2):
        await reaches(csms, connector, "Unavailable", after=mark)
    stops = [f.payload for f in csms.received("StopTransaction")]
    assert [stop["reason"] for stop in stops] == ["EmergencyStop", "EmergencyStop"]
    await _draws(daemon, [(0, 0), (0, 0)])
    refused = await daemon.cli("swipe", "TAG3", "--connector", "1")
    assert refused.code != 0 and "Unavailable" in refused.err
    assert "emergency stop pressed" in await cli_ok(daemon, "status")

    assert await daemon.stop() == 0  # the button latches: a restart does not release it
    mark = len(csms.frames)
    daemon.start()
    for connector in (0, 1, 2):
        await reaches(csms, connector, "Unavailable", after=mark, timeout=20)
    await daemon.wait_socket()
    assert (await daemon.status())["emergency_stop"] is True

    mark = len(csms.frames)
    assert "released" in await cli_ok(daemon, "estop", "--release")
    await reaches(csms, 0, "Available", after=mark)
    for connector in (1, 2):
        await reaches(csms, connector, "Preparing", after=mark)  # the cables are still in
    assert len(csms.received("StopTransaction")) == 2 and not csms.received("StartTransaction")[2:]
