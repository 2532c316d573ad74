"""A fleet: N full Stations in one event loop, started at the ramp's pace, each driven by its own
seeded driver, all watched by one Figures.

Each station has its own data directory (data_dir/fleet/<identity>/) and no control socket:
the fleet answers `fleet status` for all of them over one. A station that a Reset restarts is
built again on the same directory, as the service manager would start a lone daemon again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocpp.v16.enums import ResetType

from chargepoint.app.settings import Settings
from chargepoint.app.station import Station
from chargepoint.control.server import Reply, Request
from chargepoint.fleet.figures import Figures
from chargepoint.fleet.sessions import Driver, Timing, ev_power, plan
from chargepoint.fleet.summary import summary
from chargepoint.infra.secrets import SecretScrubber
from chargepoint.link.connection import LinkState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """What the fleet runs: the template every station copies, who they are, how they start."""

    template: Settings
    identities: list[str]
    ramp: float  # connections per second
    seed: int
    index: int  # the shard
    timing: Timing | None  # None: no generated sessions, only what the CSMS asks for


def fleet_dir(data_dir: Path) -> Path:
    return data_dir / "fleet"


class Fleet:
    def __init__(self, plan: Plan, figures: Figures, scrubber: SecretScrubber) -> None:
        self.plan = plan
        self.figures = figures
        self._scrubber = scrubber
        self.stations: dict[str, Station] = {}
        self._built: list[Callable[[Station], None]] = []

    def on_built(self, listener: Callable[[Station], None]) -> None:
        """listener(station) for each Station built, a rebuilt one after a Reset too."""
        self._built.append(listener)

    def settings_for(self, identity: str) -> Settings:
        """The template with this station's identity, directory and EV."""
        template = self.plan.template
        return template.model_copy(update={
            "identity": identity,
            "data_dir": fleet_dir(template.data_dir) / identity,
            "frame_log": None,
            "ev_power_w": ev_power(self.plan.seed, identity),
        })

    async def run(self) -> None:
        """Until cancelled: every station started, one each 1/ramp s."""
        async with asyncio.TaskGroup() as group:
            for number, identity in enumerate(self.plan.identities):
                group.create_task(self._station(identity, number / self.plan.ramp))

    async def _station(self, identity: str, delay: float) -> None:
        await asyncio.sleep(delay)
        settings = self.settings_for(identity)
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        while True:
            try:
                station = Station(settings, self._scrubber, self.figures, control_socket=False, fsync=False)
            except Exception:
                log.exception("station %s could not be built", identity)
                self.figures.errors["station could not start"] += 1
                return
            self.stations[identity] = station
            for listener in self._built:
                listener(station)
            try:
                kind = await self._serve(station)
            except Exception:  # one station's fault stops that station, not the fleet
                log.exception("station %s stopped", identity)
                self.figures.errors["station stopped by an error"] += 1
                return
            if kind is None:
                return
            log.info("station %s restarts after a %s reset", identity, kind.value)

    async def _serve(self, station: Station) -> ResetType | None:
        """The station with its drivers; stopped, the drivers end before the station closes."""
        drivers = [asyncio.create_task(d) for d in self._drivers(station)]
        running = asyncio.create_task(station.run())
        try:
            return await asyncio.shield(running)
        finally:
            for driver in drivers:
                driver.cancel()
            await asyncio.gather(*drivers, return_exceptions=True)
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

    def _drivers(self, station: Station) -> list[Coroutine[Any, Any, None]]:
        timing = self.plan.timing
        if timing is None:
            return []
        identity = station.settings.identity
        return [
            Driver(station.commands, c.id, self.figures).run(plan(self.plan.seed, identity, c.id, timing), station.link.wait_accepted)
            for c in station.connectors
        ]

    def counts(self) -> dict[str, int]:
        """Stations by what the CSMS sees of them, for the progress line and `fleet status`."""
        stations = list(self.stations.values())
        return {
            "stations": len(self.plan.identities),
            "started": len(stations),
            "connected": sum(s.link.link_state is LinkState.CONNECTED for s in stations),
            "accepted": sum(s.link.accepted for s in stations),
            "charging": sum(c.status == "Charging" for s in stations for c in s.connectors),
        }

    async def status(self, request: Request) -> Reply:
        """`fleet status`: the counts and the figures so far."""
        return {**self.counts(), "summary": summary(self.figures, self.describe())}

    def describe(self) -> dict[str, Any]:
        names = self.plan.identities
        template = self.plan.template
        return {
            "stations": len(names), "first": names[0] if names else None, "last": names[-1] if names else None,
            "seed": self.plan.seed, "csms": template.csms_url, "model": f"{template.profile}:{template.station_model.name}",
            "index": self.plan.index,
        }
