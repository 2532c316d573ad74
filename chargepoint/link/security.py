"""The OCPP 1.6 Security Whitepaper's security profiles: how the link authenticates.

0 plain (an AuthorizationKey, when one is set, still goes as HTTP Basic: chargers commissioned
before security profiles existed send their password that way, as typed); 1 HTTP Basic, whose
password is the bytes the AuthorizationKey's hex stands for (OCTT TC_085_CS); 2 TLS with the
CSMS's certificate checked against our CA and host name, plus HTTP Basic; 3 TLS with our client
certificate. SecurityProfile may only go up, and only to a profile whose prerequisites this
installation has (A05.FR.01-04): a downgrade would let an attacker with CSMS access weaken the
link. After a raise the station reconnects with the new profile and, when that cannot connect,
falls back to the one that worked (A05.FR.08), so it never locks itself out of its CSMS.
"""

from __future__ import annotations

import base64
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from websockets.exceptions import InvalidMessage, InvalidStatus

from chargepoint.infra.state import StateTable
from chargepoint.link.config import LinkConfig
from chargepoint.security.events import SecurityEvent, SecurityEventSink
from configkeys import SECURITY_KEYS, Configuration, Invalid, normalise

log = logging.getLogger(__name__)

PROFILE_KEY = "SecurityProfile"
KEY = "AuthorizationKey"
FALLBACK_STATE = "security_profile_fallback"
TRIAL_ATTEMPTS = 3  # failed connects with a raised profile before falling back
HOSTNAME_MISMATCH = 62  # X509_V_ERR_HOSTNAME_MISMATCH: a good certificate, but another server's
# What OpenSSL names a handshake that failed on the TLS version or on the cipher suites offered.
_OLD_TLS = frozenset({"UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION", "WRONG_SSL_VERSION"})
_NO_CIPHER = frozenset({"SSLV3_ALERT_HANDSHAKE_FAILURE", "NO_SHARED_CIPHER", "NO_CIPHERS_AVAILABLE"})


# The client certificate and its key (None: in the same file) to present, when not the settings'.
ClientFiles = Callable[[], tuple[Path, Path | None] | None]


class InsecureLink(Exception):
    """The configured CSMS URL cannot carry the profile in force (ws:// under profile 2 or 3)."""


@dataclass(frozen=True)
class LinkSecurity:
    profile: int
    tls: ssl.SSLContext | None
    headers: dict[str, str]


def is_whitepaper_key(value: str | None) -> bool:
    """16 to 20 bytes written as 32 to 40 hexadecimal digits (A00.FR.205), by the catalogue's rule."""
    definition = next(key for key in SECURITY_KEYS if key.name == KEY)
    return value is not None and not isinstance(normalise(definition, value), Invalid)


def authorization_key(password: str) -> str:
    """The AuthorizationKey a `password` setting stands for. Hexadecimal digits that make a key
    are one already; any other text (a CSMS's or the Wallbox app's) is the key of its UTF-8
    bytes, so those bytes go on the wire. Outside 16 to 20 bytes it is no whitepaper key, and
    only profile 0 uses it."""
    return password if is_whitepaper_key(password) else password.encode().hex()


def basic_password(key: str, profile: int, password: str | None) -> bytes:
    """The Basic password: the bytes the AuthorizationKey stands for, except under profile 0
    while the key is still the `password` setting's. Then it is the text as typed, because a
    pre-whitepaper CSMS compares it with the text it issued, even one of hexadecimal digits."""
    if profile == 0 and password is not None and key == authorization_key(password):
        return password.encode()
    return bytes.fromhex(key)


def security_profile_rule(
    config: Configuration, link: LinkConfig, client_certificate: ClientFiles = lambda: None
) -> Callable[[str], str | None]:
    """`client_certificate`: one the CSMS signed (CertificateSigned) also makes profile 3 possible."""

    def check(value: str) -> str | None:
        wanted, current = int(value), config.integer(PROFILE_KEY)
        if wanted <= current:
            return f"SecurityProfile only goes up (now {current})"
        if wanted in (1, 2) and not is_whitepaper_key(config.value(KEY)):
            return f"profile {wanted} needs an AuthorizationKey of 16 to 20 bytes for HTTP Basic auth (A05.FR.02)"
        if wanted >= 2 and (not link.secure or link.tls_ca is None):
            return f"profile {wanted} needs a wss:// csms_url and the CSMS's CA (tls_ca)"
        if wanted == 3 and link.tls_cert is None and client_certificate() is None:
            return "profile 3 needs a client certificate (tls_cert, tls_key, or one the CSMS signed)"
        return None

    return check


class SecurityProfiles:
    """What the next connection presents, and the trial of a freshly raised profile."""

    def __init__(
        self,
        config: Configuration,
        link: LinkConfig,
        state: StateTable,
        client_certificate: ClientFiles = lambda: None,
        client_refused: Callable[[], None] = lambda: None,
        installed_roots: Callable[[], str] = str,
    ) -> None:
        self._config = config
        self._installed_roots = installed_roots  # PEM text: the CSMS roots InstallCertificate put in
        self._link = link
        self._client_certificate = client_certificate
        self._client_refused = client_refused  # a profile 3 connect failed as a certificate can make it
        self._state = state
        self._in_use = config.integer(PROFILE_KEY)
        self._failures = 0
        self._renew_link: Callable[[str], None] = lambda _: None
        self._events: SecurityEventSink | None = None

    def report_to(self, events: SecurityEventSink) -> None:
        """Where changed security parameters and refused connects are reported (whitepaper §8)."""
        self._events = events

    def _raise(self, kind: SecurityEvent, tech_info: str) -> None:
        if self._events is not None:
            self._events.raise_event(kind, tech_info)

    def watch(self, renew_link: Callable[[str], None]) -> None:
        """Both changes take effect on a new connection (A01 step 3, A05.FR.06)."""
        self._renew_link = renew_link

        def raised(value: str) -> None:
            self._raise(SecurityEvent.reconfiguration_of_security_parameters, f"SecurityProfile {self._in_use} -> {value}")
            if int(value) > self._in_use:
                self._state.set(FALLBACK_STATE, str(self._in_use))
                self._failures = 0
            self._in_use = int(value)
            renew_link(f"SecurityProfile {value}")

        def new_key(_: str) -> None:
            self._raise(SecurityEvent.reconfiguration_of_security_parameters, "AuthorizationKey changed")  # A01.FR.11-12
            if self._in_use <= 2:
                renew_link("new AuthorizationKey")

        self._config.subscribe(PROFILE_KEY, raised)
        self._config.subscribe(KEY, new_key)

    def current(self) -> LinkSecurity:
        """For the next connection; raises InsecureLink, or OSError/ssl.SSLError for TLS files.
        A prerequisite that went missing from the settings since the raise is refused, never
        quietly weakened (system trust store instead of tls_ca, no credentials at all)."""
        profile = self._config.integer(PROFILE_KEY)
        link = self._link
        if profile >= 2 and not link.secure:
            raise InsecureLink(f"SecurityProfile {profile} needs TLS; refusing to connect to a ws:// csms_url")
        if profile >= 2 and link.tls_ca is None:
            raise InsecureLink(f"SecurityProfile {profile} needs the CSMS's CA; tls_ca is not set")
        if profile == 3 and link.tls_cert is None and self._client_certificate() is None:
            raise InsecureLink("SecurityProfile 3 needs a client certificate; tls_cert is not set")
        if profile in (1, 2) and not is_whitepaper_key(self._config.value(KEY)):
            raise InsecureLink(
                f"SecurityProfile {profile} needs an AuthorizationKey of 16 to 20 bytes; the password setting is not one"
                " (16 to 20 characters or 32 to 40 hexadecimal digits; other text serves SecurityProfile 0 only)"
            )
        return LinkSecurity(profile, self._tls(profile) if link.secure else None, self._basic_auth(profile))

    def connected(self, used: LinkSecurity) -> None:
        """The CSMS took a connection: a raised profile has proved itself, unless the profile
        changed while that connection was being made (then the link is renewed with it)."""
        if used.profile != self._in_use:
            self._renew_link(f"SecurityProfile {self._in_use}")
            return
        self._failures = 0
        if self._state.get(FALLBACK_STATE) is not None:
            self._state.delete(FALLBACK_STATE)
            log.info("SecurityProfile %d in use", self._in_use)

    def failed(self, used: LinkSecurity | None, exc: BaseException) -> None:
        """A connect failed. Under a raised profile, the third failure in a row that the profile
        can cause (TLS, refused credentials, missing files) goes back to the old profile; a
        CSMS that is down or unreachable says nothing about the profile and counts for nothing."""
        event = connect_failure_event(exc)
        if event is not None:
            self._raise(*event)
        # Under TLS 1.3 a CSMS refusing the client certificate shows as a close before the
        # upgrade's answer (InvalidMessage), after a handshake that looked complete.
        if used is not None and used.profile == 3 and (_profile_related(exc) or isinstance(exc, InvalidMessage)):
            self._client_refused()
        fallback = self._state.get(FALLBACK_STATE)
        if fallback is None or (used is not None and used.profile != self._in_use) or not _profile_related(exc):
            return
        self._failures += 1
        if self._failures < TRIAL_ATTEMPTS:
            return
        log.error(
            "SecurityProfile %d failed %d connects in a row; falling back to %s (whitepaper A05.FR.08)",
            self._in_use,
            self._failures,
            fallback,
        )
        self._in_use, self._failures = int(fallback), 0
        self._config.restore(PROFILE_KEY, fallback)
        self._state.delete(FALLBACK_STATE)

    def _basic_auth(self, profile: int) -> dict[str, str]:
        key = self._config.value(KEY)
        if profile == 3 or not key:
            return {}
        secret = basic_password(key, profile, self._link.password)
        token = base64.b64encode(self._link.identity.encode() + b":" + secret).decode()
        return {"Authorization": f"Basic {token}"}

    def _tls(self, profile: int) -> ssl.SSLContext:
        """Built per connection, so a renewed certificate file is picked up on the next one.
        Profiles 0 and 1 over wss:// still verify the CSMS, against tls_ca or the system store."""
        link = self._link
        context = ssl.create_default_context(cafile=link.tls_ca)
        if roots := self._installed_roots():
            # Beside tls_ca, so a CSMS can move to a new CA (whitepaper M05). A root rotated under
            # AdditionalRootCertificateCheck is signed by the old one: partial chains (§7.1's note).
            context.load_verify_locations(cadata=roots)
            context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        # One the CSMS signed (CertificateSigned) goes before the settings' (whitepaper A02.FR.08).
        certificate, key = self._client_certificate() or (link.tls_cert, link.tls_key)
        if profile == 3 and certificate is not None:
            context.load_cert_chain(certificate, key)
        return context


def _profile_related(exc: BaseException) -> bool:
    if isinstance(exc, InvalidStatus):
        return exc.response.status_code in (401, 403)
    return isinstance(exc, (InsecureLink, ssl.SSLError, ssl.CertificateError, FileNotFoundError, PermissionError))


def connect_failure_event(exc: BaseException) -> tuple[SecurityEvent, str] | None:
    """The security event (whitepaper §8, A00.FR.309/315/322) a failed connect stands for, with
    what ssl or the CSMS said; None for a failure that says nothing about security (no route)."""
    if isinstance(exc, InvalidStatus):
        code = exc.response.status_code
        if code in (401, 403):
            return SecurityEvent.failed_to_authenticate_at_central_system, f"the CSMS answered HTTP {code} to the connect"
        return None
    if isinstance(exc, ssl.SSLCertVerificationError):
        kind = (
            SecurityEvent.central_system_failed_to_authenticate
            if exc.verify_code == HOSTNAME_MISMATCH
            else SecurityEvent.invalid_central_system_certificate
        )
        return kind, f"TLS: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError) and exc.reason in _OLD_TLS:
        return SecurityEvent.invalid_tls_version, f"TLS: the CSMS offers no version this station accepts ({exc.reason})"
    if isinstance(exc, ssl.SSLError) and exc.reason in _NO_CIPHER:
        return SecurityEvent.invalid_tls_cipher_suite, f"TLS: no cipher suite both sides accept ({exc.reason})"
    return None
