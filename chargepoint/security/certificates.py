"""The station's installed root certificates (whitepaper M03–M05), one PEM file each under
`data_dir/certificates/<use>/`, named by the certificate's SHA-256 fingerprint so the same
certificate installed twice is one file. Files are 0600 in a 0700 directory: the store decides
whom the station trusts, so only the station's user may change it.

A CentralSystemRootCertificate replaced under AdditionalRootCertificateCheck stays trusted as the
fallback (M05.FR.11) in `<use>/fallback/`, outside the count and the list the CSMS sees, until
the new root has verified the CSMS (csms_trust) or the next replacement. Then it moves to
`<use>/issuers/`, trusted for nothing: it signed the new root, so the new root's certificateHashData
(the issuer's key hash) stays what the CSMS was told."""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from chargepoint.infra.private_file import write_private

log = logging.getLogger(__name__)

FALLBACK = "fallback"
ISSUERS = "issuers"


class CertificateUse(StrEnum):
    central_system_root = "CentralSystemRootCertificate"
    manufacturer_root = "ManufacturerRootCertificate"


class CertificateStore:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def installed(self, use: CertificateUse) -> list[x509.Certificate]:
        return _load(self._directory / use.value)

    def fallback(self, use: CertificateUse) -> list[x509.Certificate]:
        return _load(self._directory / use.value / FALLBACK)

    def issuers(self, use: CertificateUse) -> list[x509.Certificate]:
        return _load(self._directory / use.value / ISSUERS)

    def count(self) -> int:
        """What CertificateStoreMaxLength bounds: the roots of every use, fallback aside."""
        return sum(len(self.installed(use)) for use in CertificateUse)

    def add(self, use: CertificateUse, certificate: x509.Certificate) -> None:
        _write(self._directory / use.value, certificate)

    def remove(self, use: CertificateUse, certificate: x509.Certificate) -> None:
        (self._directory / use.value / _name(certificate)).unlink(missing_ok=True)

    def replace(self, use: CertificateUse, old: x509.Certificate, new: x509.Certificate) -> None:
        """`new` in `old`'s place; `old` becomes the only fallback. Written before removed, so a
        power cut in between leaves both trusted rather than neither."""
        _write(self._directory / use.value, new)
        self.drop_fallback(use)
        _write(self._directory / use.value / FALLBACK, old)
        self.remove(use, old)

    def drop_fallback(self, use: CertificateUse) -> None:
        for old in self.fallback(use):
            _write(self._directory / use.value / ISSUERS, old)
            (self._directory / use.value / FALLBACK / _name(old)).unlink()

    def trusted_pem(self, use: CertificateUse, fallback: bool = True) -> str:
        """The installed roots, and the fallback with `fallback`, as PEM text (an ssl cadata)."""
        trusted = [*self.installed(use), *(self.fallback(use) if fallback else ())]
        return "".join(c.public_bytes(Encoding.PEM).decode() for c in trusted)


def _name(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex() + ".pem"


def _load(folder: Path) -> list[x509.Certificate]:
    """A file that no longer parses (flash corruption, a hand edit) is trusted for nothing and
    logged, rather than stopping the link or the CSMS's requests."""
    found = []
    for path in sorted(folder.glob("*.pem")) if folder.is_dir() else ():
        try:
            found.append(x509.load_pem_x509_certificate(path.read_bytes()))
        except ValueError:
            log.error("certificate store: %s is not a PEM certificate; ignored", path)
    return found


def _write(folder: Path, certificate: x509.Certificate) -> None:
    write_private(folder / _name(certificate), certificate.public_bytes(Encoding.PEM))
