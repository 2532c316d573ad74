"""ExtendedTriggerMessage (whitepaper §5.5, §6.14): TriggerMessage's security-era sibling.

BootNotification, Heartbeat, MeterValues and StatusNotification leave as TriggerMessage sends
them (remote_trigger.Triggers, whose connector rule this shares), so the two cannot drift apart.
The rest belongs to the whitepaper: SignChargePointCertificate makes a new key and CSR (A02),
FirmwareStatusNotification is sent as SignedFirmwareStatusNotification with the firmware job's
status (§6.14), and LogStatusNotification gives the log upload's status, Idle when none runs
(§6.19). Served wherever the security package is wired, Remote Trigger or not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import ClassVar

from ocpp.routing import after, on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, TriggerMessageStatus

from chargepoint.link.outbox import Outbox, post
from chargepoint.remote_trigger.trigger import Triggers
from chargepoint.security.client_certificate import ClientCertificate
from configkeys import FeatureProfile

log = logging.getLogger(__name__)

SIGN_CERTIFICATE = "SignChargePointCertificate"
FIRMWARE_STATUS = "FirmwareStatusNotification"
LOG_STATUS = "LogStatusNotification"
SHARED = frozenset({"BootNotification", "Heartbeat", "MeterValues", "StatusNotification"})  # as TriggerMessage
MESSAGES = SHARED | {SIGN_CERTIFICATE, FIRMWARE_STATUS, LOG_STATUS}


def trigger_answer(requested_message: str, known_connector: bool, cannot_sign: str | None) -> TriggerMessageStatus:
    """Unknown (NotImplemented) before a connector that does not exist (Rejected), as TriggerMessage
    answers; a CSR without its prerequisite would not be sent, so that is Rejected too."""
    if requested_message not in MESSAGES:
        return TriggerMessageStatus.not_implemented
    if not known_connector or (requested_message == SIGN_CERTIFICATE and cannot_sign is not None):
        return TriggerMessageStatus.rejected
    return TriggerMessageStatus.accepted


class ExtendedTriggers:
    profile: ClassVar[FeatureProfile] = FeatureProfile.SECURITY

    def __init__(
        self,
        outbox: Outbox,
        triggers: Triggers,
        client_certificate: ClientCertificate,
        firmware_status: Callable[[], str],
        log_status: Callable[[], call.LogStatusNotification],
    ) -> None:
        self._outbox = outbox
        self._triggers = triggers
        self._client_certificate = client_certificate
        self._firmware_status = firmware_status
        self._log_status = log_status  # GetLog's upload: Uploading with its requestId, or Idle

    @on(Action.extended_trigger_message)
    def answer(self, requested_message: str, connector_id: int | None = None) -> call_result.ExtendedTriggerMessage:
        return call_result.ExtendedTriggerMessage(status=self._status(requested_message, connector_id))

    def _status(self, requested_message: str, connector_id: int | None) -> TriggerMessageStatus:
        cannot_sign = self._client_certificate.cannot_sign()
        return trigger_answer(requested_message, self._triggers.known_connector(connector_id), cannot_sign)

    @after(Action.extended_trigger_message)
    async def send(self, requested_message: str, connector_id: int | None = None) -> None:
        """After the answer, only when it was Accepted; the library calls this after any answer."""
        status = self._status(requested_message, connector_id)
        if status is not TriggerMessageStatus.accepted:
            reason = self._client_certificate.cannot_sign() if requested_message == SIGN_CERTIFICATE else None
            log.info("ExtendedTriggerMessage %s %s%s", requested_message, status.value, f": {reason}" if reason else "")
            return
        match requested_message:
            case "SignChargePointCertificate":
                await self._client_certificate.request_signing("ExtendedTriggerMessage")
            case "FirmwareStatusNotification":
                payload = call.SignedFirmwareStatusNotification(status=self._firmware_status(), request_id=None)
                post(self._outbox, payload, "triggered SignedFirmwareStatusNotification")
            case "LogStatusNotification":
                post(self._outbox, self._log_status(), "triggered LogStatusNotification")
            case _:
                await self._triggers.deliver(requested_message, connector_id)
