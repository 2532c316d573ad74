"""StatusNotification.req for every connector status change (spec §4.9, errata 3.19, 3.22).

A status must have lasted MinimumStatusDuration seconds before it is reported, so a burst of
short-lived statuses costs one message. While the link is down nothing is sent; on reconnect
only the connectors whose status changed meanwhile are reported, in event order.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from ocpp.v16 import call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from chargepoint.connector.state import ConnectorState
from chargepoint.infra.clock import Clock
from chargepoint.link.outbox import NotAccepted, Outbox
from configkeys import Configuration

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Report:
    status: ChargePointStatus
    error_code: ChargePointErrorCode
    info: str | None
    timestamp: str

    def same_as(self, other: _Report | None) -> bool:
        return other is not None and (self.status, self.error_code, self.info) == (
            other.status,
            other.error_code,
            other.info,
        )

    def payload(self, connector_id: int) -> call.StatusNotification:
        return call.StatusNotification(
            connector_id=connector_id,
            error_code=self.error_code,
            status=self.status,
            info=self.info,
            timestamp=self.timestamp,
        )


class StatusReporter:
    def __init__(self, outbox: Outbox, config: Configuration, clock: Clock) -> None:
        self._outbox = outbox
        self._config = config
        self._clock = clock
        self._latest: dict[int, _Report] = {}
        self._sent: dict[int, _Report] = {}
        self._pending: dict[int, asyncio.Task[None]] = {}

    def watch(self, connector: ConnectorState) -> None:
        """Report `connector`: its boot status once the CSMS accepts the station, then each change."""
        error = connector.error  # e.g. a meter not read yet: the boot status carries it
        code = error.code if error else ChargePointErrorCode.no_error
        self._latest[connector.id] = _Report(connector.status, code, error.info if error else None, self._clock.timestamp())
        connector.on_status(self._changed)

    def registered(self, first_time: bool) -> None:
        """Accepted on a new connection: every status after a boot (errata 3.22), else those
        the CSMS has not heard yet (§4.9 rule 1)."""
        if first_time:
            self.report_all()
        else:
            self.report_changed()

    def _changed(
        self, connector_id: int, status: ChargePointStatus, error_code: ChargePointErrorCode, info: str | None
    ) -> None:
        report = _Report(status, error_code, info, self._clock.timestamp())
        self._latest[connector_id] = report
        if pending := self._pending.pop(connector_id, None):
            pending.cancel()
        delay = self._config.integer("MinimumStatusDuration") if self._config.has("MinimumStatusDuration") else 0
        if delay > 0:
            self._pending[connector_id] = asyncio.get_running_loop().create_task(self._after(delay, connector_id))
        else:
            self._send(connector_id)

    def report_now(self, connector_id: int) -> None:
        """TriggerMessage(StatusNotification): the present status, whatever was sent before."""
        if connector_id in self._latest:
            self._send(connector_id)

    def report_all(self) -> None:
        """After a Boot accepted, every connector's present status (errata 3.22)."""
        for connector_id in sorted(self._latest):
            self._send(connector_id)

    def report_changed(self) -> None:
        """After a reconnect, the statuses the CSMS has not heard yet (§4.9 rule 1)."""
        for connector_id in sorted(self._latest):
            if not self._latest[connector_id].same_as(self._sent.get(connector_id)):
                self._send(connector_id)

    async def _after(self, delay: int, connector_id: int) -> None:
        await asyncio.sleep(delay)
        self._pending.pop(connector_id, None)
        if not self._latest[connector_id].same_as(self._sent.get(connector_id)):
            self._send(connector_id)  # a status that came and went within the delay is never sent

    def _send(self, connector_id: int) -> None:
        report = self._latest[connector_id]
        try:
            answer = self._outbox.enqueue(report.payload(connector_id))
        except NotAccepted:
            return  # reported on reconnect if still current
        answer.add_done_callback(lambda done: self._delivered(connector_id, report, done))

    def _delivered(self, connector_id: int, report: _Report, done: asyncio.Future[object]) -> None:
        if done.cancelled() or done.exception() is not None:
            log.warning("connector %d: StatusNotification %s not delivered: %s", connector_id, report.status, done.exception() if not done.cancelled() else "cancelled")
            return
        self._sent[connector_id] = report
