"""The station's client certificate (whitepaper A02, A03): SignCertificate when the CSMS asks
(ExtendedTriggerMessage SignChargePointCertificate) or when the certificate in use nears its end,
and CertificateSigned, whose chain is checked, stored and then used for the next connection.

The private key is made on the board, lives in `data_dir` alone (A02.FR.05) and is never logged.
A chain that fails any check is discarded with an InvalidChargePointCertificate security event
(A02.FR.07). Without the CpoName key no CSR is made: the whitepaper makes it a prerequisite,
since the CA would sign a certificate naming no operator (A02.FR.13).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ClassVar

from cryptography import x509
from ocpp.routing import after, on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, CertificateSignedStatus, GenericStatus

from chargepoint.infra.clock import Clock
from chargepoint.link.outbox import NotAccepted, Outbox
from chargepoint.security.chain_check import chain_problem
from chargepoint.security.client_files import ClientCertificateFiles
from chargepoint.security.events import SecurityEvent, SecurityEventSink
from chargepoint.security.signing_request import KeyType, new_private_key, signing_request
from configkeys import Configuration, FeatureProfile

log = logging.getLogger(__name__)

RENEW_BEFORE = timedelta(days=30)  # A03.FR.02: "will expire in one month"
CHECK_EVERY = 24 * 3600.0  # s: the expiry is looked at on start and daily
TRIAL_ATTEMPTS = 3  # refused connects with a new certificate before the one before it is back


class ClientCertificate:
    profile: ClassVar[FeatureProfile] = FeatureProfile.SECURITY

    def __init__(
        self,
        outbox: Outbox,
        config: Configuration,
        files: ClientCertificateFiles,
        roots: Callable[[], list[x509.Certificate]],
        events: SecurityEventSink,
        clock: Clock,
        identity: str,
        key_type: KeyType,
    ) -> None:
        self._outbox = outbox
        self._config = config
        self._files = files
        self._roots = roots  # the CSMS roots the station trusts, read at each check
        self._events = events
        self._clock = clock
        self._identity = identity
        self._key_type = key_type
        self._renew_link: Callable[[str], None] = lambda _: None
        self._reconnect = False  # a certificate was just installed: the next connection uses it
        self._refusals = 0  # connects in a row the CSMS refused with an untried certificate

    def watch(self, renew_link: Callable[[str], None]) -> None:
        self._renew_link = renew_link

    def cannot_sign(self) -> str | None:
        """Why no CSR can be made now, or None."""
        return None if self._config.value("CpoName") else "CpoName is not set (the A02/A03 prerequisite)"

    async def request_signing(self, why: str) -> None:
        """A new key pair, kept as the pending key (a newer request replaces it), and its CSR
        in SignCertificate.req. The key is made off the event loop: RSA can take a second on a board."""
        problem = self.cannot_sign()
        if problem is not None:
            log.warning("no SignCertificate (%s): %s", why, problem)
            return
        key = await asyncio.to_thread(new_private_key, self._key_type)
        self._files.keep_pending(key)
        csr = signing_request(key, self._identity, self._config.value("CpoName") or "")
        try:
            answer = self._outbox.enqueue(call.SignCertificate(csr=csr))
        except NotAccepted as exc:
            log.warning("SignCertificate (%s) not sent: %s", why, exc)
            return
        log.info("SignCertificate sent (%s): a new %s key waits for its certificate", why, self._key_type)
        answer.add_done_callback(_signing_answered)

    @on(Action.certificate_signed)
    def certificate_signed(self, certificate_chain: str) -> call_result.CertificateSigned:
        return call_result.CertificateSigned(status=self.install(certificate_chain))

    @after(Action.certificate_signed)
    def use_it(self, certificate_chain: str) -> None:
        """Profile 3 presents the client certificate: reconnect with the new one (A02.FR.08)."""
        if self._reconnect and self._config.integer("SecurityProfile") == 3:
            self._renew_link("new client certificate")
        self._reconnect = False

    def install(self, chain: str) -> CertificateSignedStatus:
        key = self._files.pending_key()
        roots = self._roots()
        max_size = self._config.integer("CertificateSignedMaxChainSize")
        public = key.public_key() if key else None
        problem = chain_problem(chain, public, roots, max_size, self._clock.now(), self._identity)
        if problem is not None:
            log.warning("CertificateSigned rejected: %s", problem)
            self._events.raise_event(SecurityEvent.invalid_charge_point_certificate, problem)
            return CertificateSignedStatus.rejected
        self._files.install(chain)
        leaf = x509.load_pem_x509_certificate(chain.encode())
        log.info("client certificate installed: %s, valid until %s", leaf.subject.rfc4514_string(), leaf.not_valid_after_utc)
        self._reconnect = True
        return CertificateSignedStatus.accepted

    def registered(self, first_time: bool) -> None:
        """A connection under profile 3 with the installed certificate proves it works: the
        one before it may go (A02.FR.10)."""
        if self._config.integer("SecurityProfile") == 3 and self._files.is_installed(self._files.in_use(self._clock.now())):
            self._files.proven()
            self._refusals = 0

    def refused(self) -> None:
        """A profile 3 connect failed as a refused certificate makes it fail (TLS). After
        TRIAL_ATTEMPTS in a row with a new, untried certificate, the one before it is used again:
        a CSMS that will not take what its CA signed must not lock the station out."""
        if not (self._files.untried and self._files.is_installed(self._files.in_use(self._clock.now()))):
            return
        self._refusals += 1
        if self._refusals < TRIAL_ATTEMPTS:
            return
        self._refusals = 0
        self._files.roll_back()
        log.error("the CSMS refused %d connects with the new client certificate; back to the one before it", TRIAL_ATTEMPTS)
        self._events.raise_event(SecurityEvent.invalid_charge_point_certificate, "the CSMS refused the new certificate")

    def summary(self) -> dict[str, Any]:
        """For `chargepoint status`: the certificate profile 3 presents, and whether a CSR waits."""
        leaf = self._files.certificate(self._clock.now())
        return {
            "subject": leaf.subject.rfc4514_string() if leaf is not None else None,
            "valid_until": leaf.not_valid_after_utc.isoformat() if leaf is not None else None,
            "pending": self._files.pending,
        }

    async def run(self) -> None:
        """A03: on start and then daily, a certificate ending within RENEW_BEFORE is renewed,
        once per pending key: the whitepaper advises against retrying a CSR the CA did not sign."""
        while True:
            await self._outbox.wait_accepted()
            certificate = self._files.certificate(self._clock.now())
            ends = certificate.not_valid_after_utc if certificate is not None else None
            if ends is not None and ends - self._clock.now() < RENEW_BEFORE and self._files.pending_key() is None:
                await self.request_signing(f"the client certificate ends {ends:%Y-%m-%d %H:%M} UTC")
            await asyncio.sleep(CHECK_EVERY)


def _signing_answered(answer: asyncio.Future[Any]) -> None:
    if answer.cancelled() or answer.exception() is not None:
        log.warning("SignCertificate not answered: %s", "cancelled" if answer.cancelled() else answer.exception())
    elif answer.result().status != GenericStatus.accepted:
        log.warning("SignCertificate %s by the CSMS: no certificate will come for the pending key", answer.result().status)
