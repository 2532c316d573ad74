"""A connector's facts, and the one place that turns them into a reported status.

Every change of fact ends in `show()`: the status is derived again, walked along the §4.9
table, and each status or error change reaches the listeners (the StatusNotification
reporter, the ConnectionTimeOut timer). Connector 0, the station itself, is a bare state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from ocpp.v16.enums import AvailabilityStatus, ChargePointErrorCode, ChargePointStatus

from chargepoint.connector.machine import StatusMachine
from chargepoint.connector.status import (
    ActiveError,
    ConnectorFacts,
    ErrorKind,
    derive_station_status,
    reported_error,
)

log = logging.getLogger(__name__)

StatusListener = Callable[[int, ChargePointStatus, ChargePointErrorCode, str | None], None]
HARDWARE = "hardware"  # the error source a technician raises and clears from the bench
STATION = "station"  # the error source of a fault of connector 0, the whole Charge Point
EMERGENCY_STOP = "emergency stop pressed"  # the info of the statuses it causes


class ConnectorBusy(Exception):
    """A bench or CSMS request that the connector cannot honour in its present state."""


class ConnectorState:
    CLEARED_BY_HAND: tuple[str, ...] = (HARDWARE,)

    def __init__(
        self, connector_id: int, initial: ChargePointStatus, operative: bool, errors: dict[str, ActiveError] | None = None
    ) -> None:
        """`errors`: those already true at start (by source), part of the first status reported."""
        self.id = connector_id
        self.operative = operative
        self.updating = False  # see `hold_for_update`
        self.emergency_stopped = False  # see `emergency_stop`
        self._errors: dict[str, ActiveError] = dict(errors or {})
        self._machine = StatusMachine(connector_id, initial)
        self._listeners: list[StatusListener] = []
        self._reported: tuple[ChargePointStatus, ActiveError | None] = (initial, self.error)
        self._tasks: set[asyncio.Task[None]] = set()  # held so the loop cannot drop them
        self.lock = asyncio.Lock()

    @property
    def status(self) -> ChargePointStatus:
        return self._machine.current

    @property
    def error(self) -> ActiveError | None:
        return reported_error(tuple(self._errors.values()))

    @property
    def error_code(self) -> ChargePointErrorCode:
        error = self.error
        return error.code if error else ChargePointErrorCode.no_error

    @property
    def faulted(self) -> bool:
        return self.status == ChargePointStatus.faulted

    def on_status(self, listener: StatusListener) -> None:
        self._listeners.append(listener)

    def facts(self) -> ConnectorFacts:
        return ConnectorFacts(
            operative=self.operative,
            errors=tuple(self._errors.values()),
            updating=self.updating,
            emergency_stop=self.emergency_stopped,
        )

    def _derive(self, facts: ConnectorFacts) -> ChargePointStatus:
        return derive_station_status(facts)

    def _apply(self, facts: ConnectorFacts) -> None:
        """Outputs that follow the facts (the connectors' contactor and pilot offer)."""

    def show(self, note: str | None = None) -> None:
        """The facts changed: derive, walk the table, report what changed. `note` is the info
        of a status change with no error, e.g. "EV side disconnected"."""
        facts = self.facts()
        self._apply(facts)
        error, target = self.error, self._derive(facts)
        for step in self._machine.route(target) if target != self.status else []:
            code = self._machine.move(step)
            log.info("connector %d: %s (%s)", self.id, step, code)
            self._report(step, error, note)
        if (self.status, error) != self._reported:
            self._report(self.status, error, note)

    def _report(self, status: ChargePointStatus, error: ActiveError | None, note: str | None) -> None:
        self._reported = (status, error)
        self._tell(status, error, note)

    def _tell(self, status: ChargePointStatus, error: ActiveError | None, note: str | None) -> None:
        code = error.code if error else ChargePointErrorCode.no_error
        info = error.info if error else note
        for listener in self._listeners:
            listener(self.id, status, code, info)

    def raise_error(self, source: str, code: ChargePointErrorCode, info: str | None, kind: ErrorKind) -> bool:
        """False when that very error was already the latest: nothing changed."""
        error = ActiveError(code, info, kind)
        if list(self._errors.items())[-1:] == [(source, error)]:
            return False
        self._errors.pop(source, None)  # re-raised: now the latest
        self._errors[source] = error
        self.show()
        return True

    def clear_error(self, *sources: str) -> bool:
        """Every one of `sources` goes; False when none was active."""
        cleared = [source for source in sources if self._errors.pop(source, None) is not None]
        if cleared:
            self.show()
        return bool(cleared)

    def notice(self, code: ChargePointErrorCode, info: str) -> None:
        """A one-off warning (LocalListConflict): reported once with the present status."""
        self._tell(self.status, ActiveError(code, info, ErrorKind.WARNING), None)

    async def fault(self, code: ChargePointErrorCode, info: str | None) -> bool:
        """False when the same fault was already raised."""
        async with self.lock:
            return self.raise_error(HARDWARE, code, info, ErrorKind.FAULT)

    async def follow_station(self, fault: ActiveError | None) -> None:
        """Connector 0 Faulted (or no longer): a Charge Point that "is not available for energy
        delivery" (§7.7 Faulted) has no connector that is. Only connector 0 clears it."""
        async with self.lock:
            if fault is None:
                self.clear_error(STATION)
            else:
                self.raise_error(STATION, fault.code, fault.info or "fault of the charge point", ErrorKind.FAULT)

    async def clear_fault(self) -> bool:
        """The bench's `fault --clear`: what a technician can clear by hand; False when no
        such fault was active."""
        async with self.lock:
            return self.clear_error(*self.CLEARED_BY_HAND)

    async def change_operative(self, operative: bool) -> AvailabilityStatus:
        async with self.lock:
            self.operative = operative
            self.show()
            return AvailabilityStatus.accepted

    async def hold_for_update(self, held: bool) -> None:
        """Out of service for a firmware install, apart from the CSMS's availability: a running
        transaction goes on, and the stored Operative/Inoperative comes back afterwards."""
        async with self.lock:
            self.updating = held
            self.show()

    async def emergency_stop(self, pressed: bool) -> None:
        """The emergency stop button, pressed or released: Unavailable for as long as it is pressed."""
        async with self.lock:
            self.emergency_stopped = pressed
            self.show(EMERGENCY_STOP if pressed else None)

    def spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    async def end_work(self) -> None:
        """The station stops: the work spawned for this connector ends first, so none of it
        outlives the station's database (in a fleet the event loop goes on without it)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("connector %d: %r", self.id, task.exception())
