"""A CPO's certificate authority for the tests, made with `cryptography`: it signs the CSRs a
station sends (trustme issues certificates for keys of its own, not for a CSR), and gives a
TLS CSMS on localhost that asks the station for its client certificate."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test CPO")])


class SigningCa:
    def __init__(self, directory: Path, name: str = "Test CPO Root") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._directory = directory
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.name = _name(name)
        self.certificate = self._build(self.name, self._key.public_key(), days=3650, ca=True)
        self.pem = self.certificate.public_bytes(Encoding.PEM).decode()
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_text(self.pem)

    def _build(
        self, subject: x509.Name, key: CertificateIssuerPublicKeyTypes, days: float, ca: bool = False,
        dns: str | None = None, starts: datetime | None = None,
    ) -> x509.Certificate:
        start = starts or datetime.now(UTC) - timedelta(minutes=5)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.name if not ca else subject)
            .public_key(key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if dns is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
        return builder.sign(self._key, hashes.SHA256())

    def sign(self, csr_pem: str, days: float = 365) -> str:
        """What a CA hands back for a CSR: the leaf for the CSR's subject and key, PEM."""
        request = x509.load_pem_x509_csr(csr_pem.encode())
        assert request.is_signature_valid
        public_key = request.public_key()
        assert isinstance(public_key, CertificateIssuerPublicKeyTypes)
        return self._build(request.subject, public_key, days).public_bytes(Encoding.PEM).decode()

    def client_files(self, common_name: str, days: float) -> dict[str, str]:
        """A factory client certificate and its 0600 key, as the tls_cert / tls_key settings."""
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = self._build(_name(common_name), key.public_key(), days)
        cert_file, key_file = self._directory / f"{common_name}.pem", self._directory / f"{common_name}.key"
        cert_file.write_bytes(certificate.public_bytes(Encoding.PEM))
        key_file.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        key_file.chmod(0o600)
        return {"tls_ca": str(self.ca_file), "tls_cert": str(cert_file), "tls_key": str(key_file)}

    def server(self, client_certificates: ssl.VerifyMode = ssl.CERT_REQUIRED) -> ssl.SSLContext:
        """A CSMS on localhost that asks for a client certificate of this CA (profile 3), or
        takes one when offered (CERT_OPTIONAL, profile 2 and 3)."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert_file, key_file = self._directory / "csms.pem", self._directory / "csms.key"
        cert_file.write_bytes(self._build(_name("localhost"), key.public_key(), 30, dns="localhost").public_bytes(Encoding.PEM))
        key_file.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        context.load_verify_locations(cadata=self.pem)
        context.verify_mode = client_certificates
        return context
