"""The simulated cabinet of a WEMOB DC station, stepped once a second: the fan follows the
temperature, and in silent mode a hot cabinet lowers the current every connector is offered
(see `thermal` for the model)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from chargepoint.connector.connectors import Connectors
from chargepoint.vendors.wemob.silent_mode import SilentMode
from chargepoint.vendors.wemob.thermal import at_rest, power_share, step

log = logging.getLogger(__name__)

TICK = 1.0  # seconds between model steps


class CabinetSimulation:
    def __init__(self, silent_mode: SilentMode, connectors: Connectors, max_current_a: float) -> None:
        self._silent_mode = silent_mode
        self._connectors = connectors
        self._max_current_a = max_current_a
        self.cabinet = at_rest()

    async def run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            power_kw = sum(c.meter.latest.power_w for c in self._connectors if c.meter.latest) / 1000
            self.cabinet = step(self.cabinet, power_kw, now - last, self._silent_mode.in_force)
            last = now
            await self._derate()

    async def _derate(self) -> None:
        share = power_share(self.cabinet.temperature_c, self._silent_mode.in_force)
        cap = None if share >= 1 else round(share * self._max_current_a, 1)
        for connector in self._connectors:
            if connector.derated != cap:
                if cap is not None and connector.derated is None:
                    log.info("connector %d: silent mode derating at %.1f °C", connector.id, self.cabinet.temperature_c)
                await connector.derate(cap)

    def summary(self) -> dict[str, Any]:
        return {"cabinet": {"temperature_c": round(self.cabinet.temperature_c, 1), "fan_percent": round(self.cabinet.fan * 100)}}
