"""Whether a firmware signing certificate and a firmware signature can be trusted (whitepaper
L01), with `cryptography` doing every check.

The signing certificate must be issued directly by an installed ManufacturerRootCertificate:
"the manufacturer SHALL NOT use intermediate certificates for the firmware signing certificate"
(L01 remarks), so there is no chain to build. The signature is over the whole file with SHA-256
(L01.FR.04): RSA (PSS, as the whitepaper asks, or PKCS #1 v1.5, which `openssl dgst -sign`
makes) or ECDSA.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from functools import partial
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

BLOCK = 1 << 20  # bytes hashed at a time: an image may be far larger than memory to spare


def signing_certificate(pem: str) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return None


def certificate_fault(certificate: x509.Certificate | None, roots: Sequence[x509.Certificate], now: datetime) -> str | None:
    """Why the signing certificate is not to be trusted now, or None."""
    if certificate is None:
        return "the signing certificate is not a PEM X.509 certificate"
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        return "the signing certificate is not valid now"
    if not roots:
        return "no ManufacturerRootCertificate is installed"
    for root in roots:
        if root.subject != certificate.issuer or not root.not_valid_before_utc <= now <= root.not_valid_after_utc:
            continue
        try:
            certificate.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue
        return None
    return "the signing certificate is not issued by an installed ManufacturerRootCertificate"


def signature_verifies(certificate: x509.Certificate, signature: str, image: Path) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    digest = _sha256(image)
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return _holds(partial(key.verify, raw, digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
    if isinstance(key, rsa.RSAPublicKey):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
        schemes: tuple[padding.AsymmetricPadding, ...] = (pss, padding.PKCS1v15())
        return any(_holds(partial(key.verify, raw, digest, scheme, Prehashed(hashes.SHA256()))) for scheme in schemes)
    return False


def _holds(check: Callable[[], None]) -> bool:
    try:
        check()
    except InvalidSignature:
        return False
    return True


def _sha256(image: Path) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    with image.open("rb") as file:
        for block in iter(lambda: file.read(BLOCK), b""):
            digest.update(block)
    return digest.finalize()
