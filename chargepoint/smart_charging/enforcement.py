"""The EVSE follows the composite schedule second by second (§3.13).

Each connector is offered the limit in force now; a ChargePointMaxProfile is the station's
total, shared evenly among the connectors with a running transaction (each gets the same
share, and none more than its own composite). The limit is applied again at the next instant
where any profile may change, and at once when a profile is set or cleared. A limit under the
profile's minChargingRate is offered as 0: the connector goes SuspendedEVSE until it rises.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from math import inf

from chargepoint.connector.connectors import Connectors
from chargepoint.infra.clock import Clock
from chargepoint.smart_charging.schedule import CP_MAX, Limit, Limits, limit_at, next_change
from chargepoint.smart_charging.selection import anchor_of, profiles_for, transaction_id_of
from chargepoint.smart_charging.store import Installed, ProfileStore

log = logging.getLogger(__name__)

HORIZON = timedelta(days=8)  # beyond a weekly recurrence: a later change is found on the way


class LimitEnforcer:
    def __init__(self, store: ProfileStore, connectors: Connectors, limits: Limits, clock: Clock) -> None:
        self._store = store
        self._connectors = connectors
        self._limits = limits
        self._clock = clock
        self._changed = asyncio.Event()

    def changed(self) -> None:
        """A profile was set or cleared, or a transaction began or ended."""
        self._changed.set()

    async def run(self) -> None:
        while True:
            self._changed.clear()
            now = self._clock.now()
            self._store.drop_expired(now)
            installed = self._store.all()
            await self.apply(now, installed)
            wake = self._next(now, installed)
            delay = None if wake is None else max((wake - self._clock.now()).total_seconds(), 0.0)
            try:
                await asyncio.wait_for(self._changed.wait(), delay)
            except TimeoutError:
                pass

    async def apply(self, now: datetime, installed: list[Installed]) -> None:
        charging = [c for c in self._connectors if c.transaction is not None]
        station = [i.profile for i in installed if i.profile.purpose == CP_MAX]
        shared = limit_at(station, now, now, "A", replace(self._limits, max_current_a=inf)) if station else None
        for connector in self._connectors:
            own = profiles_for(installed, connector.id, transaction_id_of(connector), with_station=False)
            limit = limit_at(own, now, anchor_of(connector, now), "A", self._limits)
            if shared is not None and shared.limit / max(len(charging), 1) < limit.limit:
                limit = Limit(round(shared.limit / max(len(charging), 1), 1), None, shared.profile_id, shared.min_rate)
            amps = 0.0 if limit.min_rate and limit.limit < limit.min_rate else limit.limit
            wanted = None if limit.profile_id is None else amps
            source = "hardware" if limit.profile_id is None else f"profile {limit.profile_id}"
            if (connector.limit, connector.limit_source) != (wanted, source):
                log.info("connector %d: limit %.1f A (%s)", connector.id, amps, source)
                await connector.apply_limit(wanted, source)

    def _next(self, now: datetime, installed: list[Installed]) -> datetime | None:
        moments = []
        for connector in self._connectors:
            own = profiles_for(installed, connector.id, transaction_id_of(connector), with_station=True)
            moment = next_change(own, now, anchor_of(connector, now), HORIZON)
            if moment is not None:
                moments.append(moment)
        return min(moments, default=None)

