"""The station's installed root certificates (whitepaper M03–M05), one PEM file each under
`data_dir/certificates/<use>/`, named by the certificate's SHA-256 fingerprint so the same
certificate installed twice is one file. Files are 0600 in a 0700 directory: the store decides
whom the station trusts, so only the station's user may change it."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding


class CertificateUse(StrEnum):
    central_system_root = "CentralSystemRootCertificate"
    manufacturer_root = "ManufacturerRootCertificate"


class CertificateStore:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def installed(self, use: CertificateUse) -> list[x509.Certificate]:
        folder = self._directory / use.value
        if not folder.is_dir():
            return []
        return [x509.load_pem_x509_certificate(path.read_bytes()) for path in sorted(folder.glob("*.pem"))]

    def add(self, use: CertificateUse, certificate: x509.Certificate) -> None:
        folder = self._directory / use.value
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = certificate.fingerprint(hashes.SHA256()).hex() + ".pem"
        temporary = folder / (name + ".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(certificate.public_bytes(Encoding.PEM))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, folder / name)
