"""How a CSMS names an installed certificate: certificateHashData (whitepaper §6.1, edition 3),
the CertID of OCSP (RFC 6960 §4.1.1). cryptography's OCSP request builder computes it, so the
station and any OCSP tooling agree on every byte."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp

ALGORITHMS: dict[str, hashes.HashAlgorithm] = {
    "SHA256": hashes.SHA256(),
    "SHA384": hashes.SHA384(),
    "SHA512": hashes.SHA512(),
}
REPORTED = "SHA256"  # what GetInstalledCertificateIds answers with (A00.FR.506)


def issuer_of(certificate: x509.Certificate, candidates: Iterable[x509.Certificate]) -> x509.Certificate:
    """The certificate whose key signed `certificate`: itself for a self-signed root, or the
    installed one that signed it (a root rotated under AdditionalRootCertificateCheck). Itself
    when that one is gone, so the certificate keeps a name."""
    for candidate in candidates:
        if candidate.subject != certificate.issuer:
            continue
        try:
            certificate.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue
        return candidate
    return certificate


def hash_data(certificate: x509.Certificate, issuer: x509.Certificate, algorithm: str = REPORTED) -> dict[str, str]:
    """In the `ocpp` library's snake_case; hashes as lower-case hex, the serial without leading
    zeros (§6.1: 4095 is "FFF"; the fields are CiStrings, so case does not matter)."""
    request = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, ALGORITHMS[algorithm]).build()
    return {
        "hash_algorithm": algorithm,
        "issuer_name_hash": request.issuer_name_hash.hex(),
        "issuer_key_hash": request.issuer_key_hash.hex(),
        "serial_number": format(request.serial_number, "x"),
    }


def matches(requested: dict[str, Any], certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether the CSMS's certificateHashData names `certificate`, in the algorithm it chose
    (M04.FR.07: the one it was installed with), case-insensitively."""
    algorithm = str(requested.get("hash_algorithm", ""))
    if algorithm not in ALGORITHMS:
        return False
    own = hash_data(certificate, issuer, algorithm)
    theirs = {field: str(requested.get(field, "")).lower() for field in own}
    return (
        theirs["issuer_name_hash"] == own["issuer_name_hash"]
        and theirs["issuer_key_hash"] == own["issuer_key_hash"]
        and theirs["serial_number"].lstrip("0") == own["serial_number"].lstrip("0")
    )
