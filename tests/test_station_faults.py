"""What stops the whole station stops every connector: a fault on connector 0 (§4.9, §7.7) and
the emergency stop button, as the CSMS and `chargepoint status` see them on a two-connector WEMOB."""

from __future__ import annotations

from typing import Any

from tests.conftest import Daemon, booted, eventually
from tests.csms import Csms
from tests.helpers import cli_ok, reaches

EV_POWER_W = 7400


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
    await cli_ok(daemon, "fault", "2", "--clear")
    state = await daemon.status()
    assert [c["status"] for c in state["connectors"]] == ["Faulted", "Faulted"]
    assert state["station"] == {"status": "Faulted", "error_code": "OverVoltage"}
