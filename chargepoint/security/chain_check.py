"""Is a certificate chain from CertificateSigned.req one the station may use (whitepaper A02.FR.06)?

A pure function of the chain, the pending key, the trusted roots and the time, so every way a
chain can be wrong is one row of a table test. It says what is wrong in a line a technician can
act on, since that line goes into the InvalidChargePointCertificate security event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

PEM_BEGIN = "-----BEGIN CERTIFICATE-----"


def parse_chain(text: str) -> list[x509.Certificate]:
    """The certificates of a PEM chain, leaf first; ValueError when it holds none or is no PEM."""
    if PEM_BEGIN not in text:
        raise ValueError("not a PEM certificate chain")
    return x509.load_pem_x509_certificates(text.encode())


def chain_problem(
    text: str, key: PublicKeyTypes | None, roots: Sequence[x509.Certificate], max_size: int, now: datetime,
    common_name: str,
) -> str | None:
    """None when the chain is fine; else why not. `max_size` is CertificateSignedMaxChainSize
    (characters of the certificateChain field); `common_name` the station's identity, which the
    leaf's CN must be (A00.FR.511)."""
    if len(text) > max_size:
        return f"chain of {len(text)} characters exceeds CertificateSignedMaxChainSize {max_size}"
    try:
        chain = parse_chain(text)
        leaf_key = _public_bytes(chain[0].public_key())
    except (ValueError, UnsupportedAlgorithm) as exc:
        return f"not a PEM certificate chain the station can read ({exc})"
    if key is None:
        return "no certificate signing request is pending"
    if leaf_key != _public_bytes(key):
        return "the certificate is not for the key of the pending signing request"
    names = [attribute.value for attribute in chain[0].subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if names != [common_name]:
        return f"the certificate names {chain[0].subject.rfc4514_string()}, not CN={common_name}"
    for certificate in chain:
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            return f"{certificate.subject.rfc4514_string()} is not valid now (valid {_period(certificate)})"
    for subject, issuer in zip(chain, chain[1:]):
        if not _issued_by(subject, issuer):
            return f"{subject.subject.rfc4514_string()} is not issued by {issuer.subject.rfc4514_string()}"
    if not any(_issued_by(chain[-1], root) or chain[-1] == root for root in roots):
        return f"{chain[-1].issuer.rfc4514_string()} is no root the station trusts (tls_ca, CentralSystemRootCertificate)"
    return None


def _issued_by(subject: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        subject.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _public_bytes(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _period(certificate: x509.Certificate) -> str:
    return f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} to {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
