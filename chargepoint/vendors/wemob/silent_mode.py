"""Whether silent mode is in force on a WEMOB DC station (manual §4.4.3, table 4.7).

Two things ask for it: the SilentMode key and the daily SilentModeSchedule. Silent mode wins
whenever either asks. The station never switches during a charge (the manual's ATTENTION box):
a change asked for meanwhile is pending and takes effect when the last charge ends.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import tzinfo
from typing import Any

from ocpp.v16.enums import DataTransferStatus

from chargepoint.connector.connectors import Connectors
from chargepoint.core.data_transfer import Reply
from chargepoint.infra.clock import Clock
from chargepoint.infra.state import StateTable
from chargepoint.vendors.wemob.schedule import (
    Schedule,
    ScheduleRejected,
    parse_schedule,
    seconds_to_next_entry,
    silenced_at,
)
from configkeys import Configuration

log = logging.getLogger(__name__)

KEY = "SilentMode"
MESSAGE_ID = "SilentModeSchedule"  # case-sensitive (§4.4.3.1)
STATE_KEY = "wemob.silent_mode_schedule"


class SilentMode:
    def __init__(
        self, config: Configuration, state: StateTable, connectors: Connectors, clock: Clock, zone: tzinfo
    ) -> None:
        self._config = config
        self._state = state
        self._connectors = connectors
        self._clock = clock
        self._zone = zone
        self._schedule = self._stored()
        self._changed = asyncio.Event()
        self.in_force = self.requested
        config.subscribe(KEY, lambda _: self.reconsider())
        for connector in connectors:  # a charge that ends lets a pending change through
            connector.on_status(lambda *_: self.reconsider())

    def _stored(self) -> Schedule:
        text = self._state.get(STATE_KEY)
        try:
            return parse_schedule(text) if text is not None else ()
        except ScheduleRejected as exc:
            log.error("stored SilentModeSchedule unreadable (%s); running without it", exc)
            return ()

    @property
    def schedule(self) -> Schedule:
        return self._schedule

    @property
    def requested(self) -> bool:
        """Table 4.7: the key or the schedule's entry in force, whichever enables it."""
        return self._config.boolean(KEY) or silenced_at(self._schedule, self._second_of_day())

    def _second_of_day(self) -> float:
        """Local time in `timezone` (UTC unless set), like ClockAlignedDataInterval's GMT grid."""
        now = self._clock.now().astimezone(self._zone)
        return now.hour * 3600 + now.minute * 60 + now.second + now.microsecond / 1e6

    @property
    def pending(self) -> bool:
        return self.requested != self.in_force

    def reconsider(self) -> None:
        wanted = self.requested
        if wanted == self.in_force:
            return
        if any(connector.transaction is not None for connector in self._connectors):
            log.info("silent mode %s pending: a charge is running", _word(wanted))
            return
        self.in_force = wanted
        log.info("silent mode %s", _word(wanted))

    def install(self, _message_id: str | None, data: str | None) -> Reply:
        """The SilentModeSchedule DataTransfer: data installs a schedule, no data removes it."""
        try:
            schedule = () if data is None else parse_schedule(data)
        except ScheduleRejected as exc:
            log.warning("SilentModeSchedule rejected: %s", exc)
            return Reply(DataTransferStatus.rejected)
        if data is None:
            self._state.delete(STATE_KEY)
        else:
            self._state.set(STATE_KEY, json.dumps([entry.as_json() for entry in schedule]))
        self._schedule = schedule
        log.info("SilentModeSchedule %s", f"installed ({len(schedule)} entries)" if data is not None else "removed")
        self._changed.set()
        self.reconsider()
        return Reply(DataTransferStatus.accepted)

    async def run(self) -> None:
        """Wake at each schedule entry's start, or when a new schedule arrives."""
        while True:
            self._changed.clear()
            delay = seconds_to_next_entry(self._schedule, self._second_of_day())
            try:
                await asyncio.wait_for(self._changed.wait(), None if delay is None else delay + 0.01)
            except TimeoutError:
                self.reconsider()

    def summary(self) -> dict[str, Any]:
        return {
            "silent_mode": self.in_force,
            "silent_mode_pending": self.requested if self.pending else None,
            "silent_mode_schedule": [entry.as_json() for entry in self._schedule],
        }


def _word(on: bool) -> str:
    return "on" if on else "off"
