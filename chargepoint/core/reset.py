"""Reset.req (§5.14): stop what runs, tell the CSMS, then restart the station.

Transactions end with reason SoftReset or HardReset; their StopTransaction sits in the durable
queue, so it is delivered before the restart when the link allows and after it otherwise.
The restart itself belongs to the process owner (cli): Soft re-executes the program, Hard
leaves with a distinct exit status for the service manager, or runs the board's reboot command.

An accepted reset is stored before the CSMS hears Accepted and cleared just before the restart,
so a crash in between is finished on the next start (see `interrupted`), not taken for a power cut.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, Reason, ResetStatus, ResetType

from chargepoint.connector.connector import Connector
from chargepoint.infra.state import StateTable
from chargepoint.transactions.queue import TransactionQueue
from configkeys import FeatureProfile

log = logging.getLogger(__name__)

PENDING_STATE = "reset_pending"
FLUSH_WAIT = 5.0  # seconds the queue gets to deliver StopTransactions before restarting


class ResetService:
    profile: ClassVar[FeatureProfile] = FeatureProfile.CORE

    def __init__(
        self,
        connectors: Sequence[Connector],
        queue: TransactionQueue,
        state: StateTable,
        restart: Callable[[ResetType], None],
    ) -> None:
        self._connectors = connectors
        self._queue = queue
        self._state = state
        self._restart = restart
        self._resetting = False
        self._task: asyncio.Task[None] | None = None

    @on(Action.reset, skip_schema_validation=True)
    def reset(self, type: str) -> call_result.Reset:
        if self._resetting:
            return call_result.Reset(status=ResetStatus.rejected)
        self._resetting = True
        self._state.set(PENDING_STATE, ResetType(type).value)
        self._task = asyncio.get_running_loop().create_task(self._perform(ResetType(type)))
        return call_result.Reset(status=ResetStatus.accepted)

    async def _perform(self, kind: ResetType) -> None:
        await asyncio.sleep(0.2)  # the Reset.conf leaves first
        reason = Reason.soft_reset if kind == ResetType.soft else Reason.hard_reset
        try:
            for connector in self._connectors:
                await connector.charging.stop(reason)
            deadline = time.monotonic() + FLUSH_WAIT
            while len(self._queue) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        finally:
            # Restart even if stopping failed: whatever is open ends as PowerLoss after it.
            log.warning("%s reset: restarting (%d transaction messages still queued)", kind.value, len(self._queue))
            self._state.delete(PENDING_STATE)
            self._restart(kind)

    def interrupted(self) -> ResetType | None:
        """A reset the CSMS was told Accepted that a crash cut short; `completed` clears it once
        its transactions are closed, so a crash during recovery still finds it."""
        pending = self._state.get(PENDING_STATE)
        if pending is None:
            return None
        log.warning("a %s reset was interrupted by a crash; completing it", pending)
        return ResetType(pending)

    def completed(self) -> None:
        self._state.delete(PENDING_STATE)
