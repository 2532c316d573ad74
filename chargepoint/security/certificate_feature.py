"""InstallCertificate, GetInstalledCertificateIds and DeleteCertificate (whitepaper M03–M05):
the CSMS manages the roots the station trusts, the CSMS's own for the link and the
manufacturer's for signed firmware, without a visit to the station.

Every change is a ReconfigurationOfSecurityParameters event; a CSMS root refused is an
InvalidCentralSystemCertificate one, since a CSMS that sends a bad root may be about to present
a server certificate the station will not trust.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from cryptography import x509
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, CertificateStatus, DeleteCertificateStatus, GetInstalledCertificateStatus

from chargepoint.infra.clock import Clock
from chargepoint.security.certificate_checks import StoreFacts, Verdict, judge_install
from chargepoint.security.certificate_ids import hash_data, issuer_of, matches
from chargepoint.security.certificates import CertificateStore, CertificateUse
from chargepoint.security.events import SecurityEvent, SecurityEventSink
from configkeys import Configuration, FeatureProfile

log = logging.getLogger(__name__)

PROFILE_KEY = "SecurityProfile"


class CertificateManagement:
    profile: ClassVar[FeatureProfile] = FeatureProfile.SECURITY

    def __init__(self, store: CertificateStore, config: Configuration, clock: Clock, events: SecurityEventSink) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self._events = events

    @on(Action.install_certificate, skip_schema_validation=True)
    async def install_certificate(self, certificate_type: str, certificate: str) -> call_result.InstallCertificate:
        return call_result.InstallCertificate(status=self.install(CertificateUse(certificate_type), certificate))

    @on(Action.get_installed_certificate_ids, skip_schema_validation=True)
    async def get_installed_certificate_ids(self, certificate_type: str) -> call_result.GetInstalledCertificateIds:
        ids = self.ids(CertificateUse(certificate_type))
        if not ids:
            return call_result.GetInstalledCertificateIds(status=GetInstalledCertificateStatus.not_found)
        accepted = GetInstalledCertificateStatus.accepted
        return call_result.GetInstalledCertificateIds(status=accepted, certificate_hash_data=ids)

    @on(Action.delete_certificate, skip_schema_validation=True)
    async def delete_certificate(self, certificate_hash_data: dict[str, Any]) -> call_result.DeleteCertificate:
        return call_result.DeleteCertificate(status=self.delete(certificate_hash_data))

    def install(self, use: CertificateUse, text: str) -> CertificateStatus:
        facts = StoreFacts(
            self._store.installed(use),
            self._store.count(),
            self._config.integer("CertificateStoreMaxLength"),
            self._config.boolean("AdditionalRootCertificateCheck"),
        )
        verdict = judge_install(use, text, facts, self._clock.now())
        if verdict.status is CertificateStatus.accepted and verdict.certificate is not None:
            verdict = self._keep(use, verdict)
        log.info("InstallCertificate %s: %s (%s)", use.value, verdict.status.value, verdict.reason)
        if verdict.status is CertificateStatus.rejected and use is CertificateUse.central_system_root:
            self._events.raise_event(SecurityEvent.invalid_central_system_certificate, f"refused: {verdict.reason}")
        elif verdict.certificate is not None and verdict.status is CertificateStatus.accepted:
            self._changed(f"{use.value} installed", verdict.certificate)
        return verdict.status

    def _changed(self, what: str, certificate: x509.Certificate) -> None:
        self._events.raise_event(SecurityEvent.reconfiguration_of_security_parameters, f"{what}: {_subject(certificate)}")

    def _keep(self, use: CertificateUse, verdict: Verdict) -> Verdict:
        assert verdict.certificate is not None
        try:
            if verdict.replaces is not None:
                self._store.replace(use, verdict.replaces, verdict.certificate)
            else:
                self._store.add(use, verdict.certificate)
        except OSError as exc:
            return Verdict(CertificateStatus.failed, f"cannot store it: {exc.strerror or exc}")
        return verdict

    def ids(self, use: CertificateUse) -> list[dict[str, str]]:
        known = self._known(use)
        return [hash_data(c, issuer_of(c, known)) for c in self._store.installed(use)]

    def delete(self, requested: dict[str, Any]) -> DeleteCertificateStatus:
        for use in CertificateUse:
            known = self._known(use)
            for certificate in self._store.installed(use):
                if matches(requested, certificate, issuer_of(certificate, known)):
                    return self._delete(use, certificate)
        log.info("DeleteCertificate: NotFound")
        return DeleteCertificateStatus.not_found

    def _delete(self, use: CertificateUse, certificate: x509.Certificate) -> DeleteCertificateStatus:
        profile = self._config.integer(PROFILE_KEY)
        if use is CertificateUse.central_system_root and profile >= 2 and len(self._store.installed(use)) == 1:
            log.warning(
                "DeleteCertificate: Failed; the last CentralSystemRootCertificate validates the link"
                " under SecurityProfile %d (M04.FR.06)", profile,
            )
            return DeleteCertificateStatus.failed
        try:
            self._store.remove(use, certificate)
        except OSError as exc:
            log.error("DeleteCertificate: Failed; %s", exc.strerror or exc)
            return DeleteCertificateStatus.failed
        log.info("DeleteCertificate %s: Accepted (%s)", use.value, _subject(certificate))
        self._changed(f"{use.value} deleted", certificate)
        return DeleteCertificateStatus.accepted

    def _known(self, use: CertificateUse) -> list[x509.Certificate]:
        return [*self._store.installed(use), *self._store.fallback(use), *self._store.issuers(use)]


def _subject(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()[:200]
