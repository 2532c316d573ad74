"""TriggerMessage (§5.17, Remote Trigger profile): the CSMS asks for a message now.

The answer says whether the station will send it; the message itself leaves after the answer
(the protocol's after-hook), through the session like any other. MeterValues sent this way
carry context Trigger and the measurands of MeterValuesSampledData. A status notification of
a job (firmware, diagnostics) comes from the feature that owns the job: the status now, Idle
only when nothing is under way (§4.4, §4.5).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from ocpp.routing import after, on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import (
    Action,
    DiagnosticsStatus,
    FirmwareStatus,
    MessageTrigger,
    ReadingContext,
    TriggerMessageStatus,
)

from chargepoint.connector.connector import Connector
from chargepoint.metering.values import MeterValueBuilder
from chargepoint.link.outbox import NotAccepted, Outbox
from chargepoint.core.status_notifications import StatusReporter
from configkeys import Configuration, FeatureProfile

log = logging.getLogger(__name__)

class Triggers:
    profile: ClassVar[FeatureProfile] = FeatureProfile.REMOTE_TRIGGER

    def __init__(
        self,
        outbox: Outbox,
        config: Configuration,
        reporter: StatusReporter,
        connectors: Sequence[Connector],
        builder: MeterValueBuilder,
        boot: call.BootNotification,
        job_status: Mapping[MessageTrigger, Callable[[], Any]],
    ) -> None:
        self._outbox = outbox
        self._config = config
        self._reporter = reporter
        self._connectors = connectors
        self._builder = builder
        self._boot = boot
        self._job_status = {
            MessageTrigger.diagnostics_status_notification: lambda: call.DiagnosticsStatusNotification(DiagnosticsStatus.idle),
            MessageTrigger.firmware_status_notification: lambda: call.FirmwareStatusNotification(FirmwareStatus.idle),
            **job_status,
        }

    @on(Action.trigger_message, skip_schema_validation=True)
    def answer(self, requested_message: str, connector_id: int | None = None) -> call_result.TriggerMessage:
        if not self.known_connector(connector_id):
            return call_result.TriggerMessage(status=TriggerMessageStatus.rejected)
        if requested_message not in {m.value for m in MessageTrigger}:
            return call_result.TriggerMessage(status=TriggerMessageStatus.not_implemented)
        return call_result.TriggerMessage(status=TriggerMessageStatus.accepted)

    def known_connector(self, connector_id: int | None) -> bool:
        """None or 0 (the whole station) or one of its connectors; ExtendedTriggerMessage shares the rule."""
        return connector_id is None or 0 <= connector_id <= len(self._connectors)

    @after(Action.trigger_message)
    async def send(self, requested_message: str, connector_id: int | None = None) -> None:
        await self.deliver(requested_message, connector_id)

    async def deliver(self, requested_message: str, connector_id: int | None = None) -> None:
        """After an Accepted answer, also to ExtendedTriggerMessage; connector 0 or none means
        every connector where it applies."""
        targets = [c for c in self._connectors if connector_id in (None, 0, c.id)]
        try:
            match requested_message:
                case MessageTrigger.boot_notification:
                    self._outbox.enqueue(self._boot)
                case MessageTrigger.heartbeat:
                    self._outbox.enqueue(call.Heartbeat())
                case MessageTrigger.diagnostics_status_notification | MessageTrigger.firmware_status_notification:
                    self._outbox.enqueue(self._job_status[MessageTrigger(requested_message)]())
                case MessageTrigger.status_notification:
                    numbers = [0] if connector_id in (None, 0) else []
                    for number in numbers + [c.id for c in targets]:
                        self._reporter.report_now(number)
                case MessageTrigger.meter_values:
                    for connector in targets:
                        await self._meter_values(connector)
        except NotAccepted as exc:
            log.warning("TriggerMessage %s not sent: %s", requested_message, exc)

    async def _meter_values(self, connector: Connector) -> None:
        try:
            reading = await connector.meter.read()
        except Exception as exc:  # no fresh figure to give: say so rather than send an old one
            log.warning("connector %d: triggered MeterValues not sent: %s", connector.id, exc)
            return
        value = self._builder.build(reading, "MeterValuesSampledData", ReadingContext.trigger)
        if value is None:
            return
        transaction = connector.transaction
        transaction_id = transaction.transaction_id if transaction is not None else None
        self._outbox.enqueue(
            call.MeterValues(connector_id=connector.id, meter_value=[value], transaction_id=transaction_id)
        )
