"""Security events (whitepaper §8): the names a CSMS receives in SecurityEventNotification, and
which of them are critical, i.e. pushed to the CSMS and not only kept in the security log.

The names are the whitepaper's table's own, spelling included ("FailedToAuthenticationAt…"):
a CSMS built to that table matches them as written.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class SecurityEvent(StrEnum):
    firmware_updated = "FirmwareUpdated"
    failed_to_authenticate_at_central_system = "FailedToAuthenticationAtCentralSystem"
    central_system_failed_to_authenticate = "CentralSystemFailedToAuthentication"
    setting_system_time = "SettingSystemTime"
    startup_of_the_device = "StartupOfTheDevice"
    reset_or_reboot = "ResetOrReboot"
    security_log_was_cleared = "SecurityLogWasCleared"
    reconfiguration_of_security_parameters = "ReconfigurationOfSecurityParameters"
    memory_exhaustion = "MemoryExhaustion"
    invalid_messages = "InvalidMessages"
    attempted_replay_attacks = "AttemptedReplayAttacks"
    tamper_detection_activated = "TamperDetectionActivated"
    invalid_firmware_signature = "InvalidFirmwareSignature"
    invalid_firmware_signing_certificate = "InvalidFirmwareSigningCertificate"
    invalid_central_system_certificate = "InvalidCentralSystemCertificate"
    invalid_charge_point_certificate = "InvalidChargePointCertificate"
    invalid_tls_version = "InvalidTLSVersion"
    invalid_tls_cipher_suite = "InvalidTLSCipherSuite"


CRITICAL = frozenset(
    {
        SecurityEvent.firmware_updated,
        SecurityEvent.setting_system_time,
        SecurityEvent.startup_of_the_device,
        SecurityEvent.reset_or_reboot,
        SecurityEvent.security_log_was_cleared,
        SecurityEvent.memory_exhaustion,
        SecurityEvent.tamper_detection_activated,
    }
)


# Sent in a SecurityEventNotification, critical or not, where a use case says so: the firmware
# events (L01.FR.02, FR.03) and a refused client certificate (A02/A03 error handling).
PUSHED = CRITICAL | {
    SecurityEvent.invalid_firmware_signature,
    SecurityEvent.invalid_firmware_signing_certificate,
    SecurityEvent.invalid_charge_point_certificate,
}


class SecurityEventSink(Protocol):
    """What a part of the station that notices a security event is given: it reports the event
    where it happens, with what a technician needs to know (techInfo, no secrets)."""

    def raise_event(self, kind: SecurityEvent, tech_info: str | None = None) -> None: ...
