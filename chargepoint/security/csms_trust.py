"""The CSMS roots the next TLS connect trusts, and the end of a rotated root's fallback
(whitepaper M05.FR.12, FR.13).

After a rotation under AdditionalRootCertificateCheck, a connect first trusts the new root
alone. Once the CSMS is reached that way the old root is not needed: the fallback goes. A connect
that fails that way is followed by one that also trusts the fallback, then by one alone again,
so a CSMS that has not switched yet stays reachable and the new root keeps getting its chance.
"""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography import x509

from chargepoint.security.certificates import CertificateStore, CertificateUse
from chargepoint.security.events import SecurityEvent, SecurityEventSink

log = logging.getLogger(__name__)

_USE = CertificateUse.central_system_root


class CentralSystemTrust:
    def __init__(self, store: CertificateStore, events: SecurityEventSink, tls_ca: Path | None) -> None:
        self._store = store
        self._events = events
        self._tls_ca = tls_ca  # the settings' CA file, which the link's TLS context loads itself
        self._alone = False  # the last connect trusted the new root without the fallback

    def pem(self) -> str:
        """For the connect about to be made (SecurityProfiles asks once per TLS connect)."""
        self._alone = bool(self._store.fallback(_USE)) and not self._alone
        return self._store.trusted_pem(_USE, fallback=not self._alone)

    def roots(self) -> list[x509.Certificate]:
        """The CSMS roots a certificate the CSMS signs for the station must chain to (A02): the
        settings' tls_ca and the installed CentralSystemRootCertificates."""
        ca = self._tls_ca
        from_settings = x509.load_pem_x509_certificates(ca.read_bytes()) if ca is not None and ca.exists() else []
        return [*from_settings, *self._store.installed(_USE)]

    def registered(self) -> None:
        """The CSMS accepted the station on the connect just made."""
        if not self._alone or not self._store.fallback(_USE):
            return
        self._store.drop_fallback(_USE)
        self._alone = False
        log.info("the new CentralSystemRootCertificate verified the CSMS; the old one (fallback) is removed (M05.FR.12)")
        self._events.raise_event(SecurityEvent.reconfiguration_of_security_parameters, "fallback CentralSystemRootCertificate removed")
