"""WEMOB ScreenSaverTime (manual §4.4.7): the display dims after that many minutes without
anyone at the station, and a cable or a card wakes it. The key counts whole minutes, so this
test waits one real minute; it runs beside the others."""

from __future__ import annotations

import asyncio
import time

from ocpp.v16 import call

from tests.conftest import Daemon, booted, eventually


async def display(daemon: Daemon) -> str:
    return str((await daemon.status())["display"])


async def test_the_display_dims_after_screen_saver_time_and_wakes_on_a_cable_or_a_card(csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert (await csms.call(call.ChangeConfiguration(key="ScreenSaverTime", value="1"))).status == "Accepted"
    touched = time.monotonic()  # before the plug, so the station's own touch is no earlier
    await daemon.cli("plug", "1")
    assert await display(daemon) == "on"
    await asyncio.sleep(50)
    assert await display(daemon) == "on"  # status itself is not someone at the station
    await eventually(lambda: _is(daemon, "dimmed"), 20, "the display dimmed after a minute")
    assert time.monotonic() - touched >= 60
    assert "display: dimmed" in (await daemon.cli("status")).out
    await daemon.cli("swipe", "CARD1")
    assert await display(daemon) == "on"
    assert (await csms.call(call.ChangeConfiguration(key="ScreenSaverTime", value="0"))).status == "Accepted"
    assert await display(daemon) == "on"


async def _is(daemon: Daemon, state: str) -> bool:
    return await display(daemon) == state
