"""Whether an InstallCertificate.req's certificate may join the store (whitepaper M05), as a
pure function of the request, the store and the keys.

§6.3 decides the answers: Rejected when the certificate "is invalid and/or incorrect OR the CPO
tries to install more certificates than allowed" (M05.FR.03, FR.06, FR.10); Failed only when a
valid certificate could not be stored, which the feature finds out when it writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from ocpp.v16.enums import CertificateStatus

from chargepoint.security.certificates import CertificateUse


@dataclass(frozen=True)
class Verdict:
    status: CertificateStatus
    reason: str
    certificate: x509.Certificate | None = None  # to store; None when nothing changes
    replaces: x509.Certificate | None = None  # the root it replaces (AdditionalRootCertificateCheck)


@dataclass(frozen=True)
class StoreFacts:
    installed: Sequence[x509.Certificate]  # of the request's certificateType
    count: int  # of every type
    max_length: int  # CertificateStoreMaxLength
    additional_check: bool  # AdditionalRootCertificateCheck


def judge_install(use: CertificateUse, text: str, store: StoreFacts, now: datetime) -> Verdict:
    try:
        found = x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        return _rejected("not a PEM-encoded X.509 certificate")
    if len(found) != 1:
        return _rejected(f"{len(found)} certificates; the request carries one (§5.11)")
    certificate = found[0]
    fault = _unfit(certificate, now)
    if fault is not None:
        return _rejected(fault)
    fingerprint = certificate.fingerprint(hashes.SHA256())
    if any(c.fingerprint(hashes.SHA256()) == fingerprint for c in store.installed):
        return Verdict(CertificateStatus.accepted, "already installed")
    if store.additional_check and use is CertificateUse.central_system_root and store.installed:
        return _rotation(certificate, store.installed[0])
    if store.count >= store.max_length:
        return _rejected(f"the store is full: {store.count} of CertificateStoreMaxLength {store.max_length} (M05.FR.03)")
    return Verdict(CertificateStatus.accepted, "installed", certificate)


def _unfit(certificate: x509.Certificate, now: datetime) -> str | None:
    if now < certificate.not_valid_before_utc:
        return f"not valid before {certificate.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}"
    if now > certificate.not_valid_after_utc:
        return f"expired {certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return "not a CA certificate (no basicConstraints)"
    except ValueError:
        return "its extensions do not parse"
    return None if constraints.ca else "not a CA certificate (basicConstraints CA:FALSE)"


def _rotation(new: x509.Certificate, old: x509.Certificate) -> Verdict:
    """M05.FR.08-11: one CSMS root at a time; the new one must be signed by the one it replaces,
    which stays as the fallback."""
    try:
        new.verify_directly_issued_by(old)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return _rejected("not signed by the installed CentralSystemRootCertificate (AdditionalRootCertificateCheck, M05.FR.10)")
    return Verdict(CertificateStatus.accepted, "replaces the installed root, kept as the fallback (M05.FR.11)", new, old)


def _rejected(reason: str) -> Verdict:
    return Verdict(CertificateStatus.rejected, reason)
