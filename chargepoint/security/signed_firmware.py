"""SignedUpdateFirmware (whitepaper L01): an UpdateFirmware whose image must prove it comes from
the manufacturer. The signing certificate is checked before the request is taken (L01.FR.23,
FR.24), the signature over the downloaded file before it is installed (L01.FR.04); the rest
(download, retries, the wait for transactions, install, restart, the report after it) is the
Firmware Management process, which sends SignedFirmwareStatusNotification for these updates.

The station knows of no revocation (no CRL or OCSP responder to ask), so it never answers
RevokedCertificate.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, ClassVar

from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, FirmwareStatus, UpdateFirmwareStatus

from chargepoint.firmware.feature import FirmwareUpdates, Taken, moment, new_update
from chargepoint.firmware.store import Signed, Update
from chargepoint.infra.clock import Clock
from chargepoint.security.certificates import CertificateStore, CertificateUse
from chargepoint.security.firmware_signature import certificate_fault, signature_verifies, signing_certificate
from chargepoint.security.events import SecurityEvent, SecurityEventSink
from configkeys import FeatureProfile

log = logging.getLogger(__name__)

_ANSWER = {
    Taken.STARTED: UpdateFirmwareStatus.accepted,
    Taken.REPLACED: UpdateFirmwareStatus.accepted_canceled,  # L01.FR.26
    Taken.REFUSED: UpdateFirmwareStatus.rejected,  # L01.FR.27: an install cannot be cancelled
}


class FirmwareSignatures:
    """The firmware process's Verifier: the image against the manufacturer's roots."""

    def __init__(self, store: CertificateStore, clock: Clock, events: SecurityEventSink) -> None:
        self._store = store
        self._clock = clock
        self._events = events

    def certificate_fault(self, pem: str) -> str | None:
        roots = self._store.installed(CertificateUse.manufacturer_root)
        return certificate_fault(signing_certificate(pem), roots, self._clock.now())

    async def verify(self, update: Update, image: Path) -> FirmwareStatus:
        signed = update.signed
        assert signed is not None
        fault = self.certificate_fault(signed.certificate)
        certificate = signing_certificate(signed.certificate)
        if fault is not None or certificate is None:
            # Trusted when the request came, not now (a root deleted, the certificate expired).
            self._events.raise_event(SecurityEvent.invalid_firmware_signing_certificate, fault)
            return FirmwareStatus.install_verification_failed
        if not await asyncio.to_thread(signature_verifies, certificate, signed.signature, image):
            self._events.raise_event(SecurityEvent.invalid_firmware_signature, f"requestId {signed.request_id}: {image.name}")
            return FirmwareStatus.invalid_signature
        return FirmwareStatus.signature_verified


class SignedFirmwareUpdates:
    profile: ClassVar[FeatureProfile] = FeatureProfile.SECURITY

    def __init__(self, firmware: FirmwareUpdates, signatures: FirmwareSignatures, events: SecurityEventSink) -> None:
        self._firmware = firmware
        self._signatures = signatures
        self._events = events

    @on(Action.signed_update_firmware, skip_schema_validation=True)
    async def signed_update_firmware(
        self, request_id: int, firmware: dict[str, Any], retries: int | None = None, retry_interval: int | None = None
    ) -> call_result.SignedUpdateFirmware:
        return call_result.SignedUpdateFirmware(status=await self.take(request_id, firmware, retries, retry_interval))

    async def take(
        self, request_id: int, firmware: dict[str, Any], retries: int | None, retry_interval: int | None
    ) -> UpdateFirmwareStatus:
        fault = self._signatures.certificate_fault(firmware["signing_certificate"])
        if fault is not None:
            log.warning("SignedUpdateFirmware %d: InvalidCertificate; %s", request_id, fault)
            self._events.raise_event(SecurityEvent.invalid_firmware_signing_certificate, fault)  # L01.FR.02
            return UpdateFirmwareStatus.invalid_certificate
        install = firmware.get("install_date_time")
        signed = Signed(
            request_id,
            firmware["signing_certificate"],
            firmware["signature"],
            moment(install, "installDateTime").isoformat() if install is not None else None,
        )
        update = new_update(firmware["location"], firmware["retrieve_date_time"], retries, retry_interval, signed)
        return _ANSWER[await self._firmware.begin(update, f"SignedUpdateFirmware {request_id}")]
