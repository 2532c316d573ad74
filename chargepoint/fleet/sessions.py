"""The automatic driver: plug, card, charge, stop, unplug, again and again, from a seeded plan.

The plan is a pure function of (seed, identity, connector), so a run is reproducible station
by station however the event loop interleaves them. The driver acts through the bench
commands the CLI uses (control.commands), so a generated session is what a person at the
station would do; the CSMS's own requests (RemoteStart…) are served beside it as usual.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from chargepoint.control.server import CommandError, Handler
from chargepoint.fleet.figures import Figures

POWER_W = (3_700.0, 22_000.0)  # what the simulated EVs draw: 1-phase 16 A to 3-phase 32 A


@dataclass(frozen=True)
class Timing:
    """Upper bounds of the plan's random draws, in seconds."""

    idle_s: float  # before each plug
    charge_s: float  # each charge lasts from a quarter of this to all of it


@dataclass(frozen=True)
class Session:
    idle_s: float
    charge_s: float
    id_tag: str


def ev_power(seed: int, identity: str) -> float:
    """The station's EV power: with the random duration, each session's energy is random too."""
    return round(random.Random(f"{seed}/{identity}/power").uniform(*POWER_W))


def plan(seed: int, identity: str, connector: int, timing: Timing) -> Iterator[Session]:
    rng = random.Random(f"{seed}/{identity}/{connector}")
    while True:
        idle = rng.uniform(0, timing.idle_s)
        charge = rng.uniform(timing.charge_s / 4, timing.charge_s)
        yield Session(round(idle, 3), round(charge, 3), f"FLEET{rng.randrange(10**6):06}")


@dataclass
class Driver:
    """One connector's driver; the figures count its sessions and the actions refused."""

    commands: dict[str, Handler]
    connector: int
    figures: Figures

    async def run(self, sessions: Iterator[Session], wait_accepted: Callable[[], Any]) -> None:
        for session in sessions:
            await asyncio.sleep(session.idle_s)
            await wait_accepted()
            await self.one(session)

    async def one(self, session: Session) -> None:
        if not await self._do("plug"):
            return
        await self._do("ev", action="charge")
        charging = await self._do("swipe", id_tag=session.id_tag)
        if charging:
            self.figures.sessions_started += 1
        await asyncio.sleep(session.charge_s)
        if charging and await self._do("swipe", id_tag=session.id_tag):
            self.figures.sessions_completed += 1
        await self._do("unplug")

    async def _do(self, command: str, **fields: Any) -> bool:
        try:
            await self.commands[command]({"command": command, "connector": self.connector, **fields})
        except CommandError as exc:
            self.figures.bench_refused(command, str(exc).removeprefix(f"connector {self.connector}: "))
            return False
        return True
