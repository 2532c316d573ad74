"""The station's new key pair and its PKCS#10 certificate signing request (whitepaper A02.FR.02,
A02.FR.03, A02.FR.13). The key is made on the board and only its public half leaves it.

ECDSA P-256 by default: at the strength the whitepaper asks (A00.FR.501, 112 bits and more) a key
takes well under a millisecond on a laptop core, where RSA 2048 takes about 80 ms and up to 200
(bench/client_key.py), many times that on a board's small ARM core; RSA 2048 is there for a CA
that signs nothing else. The CSR is signed with SHA-256 (A00.FR.506).
"""

from __future__ import annotations

from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

KeyType = Literal["ec-p256", "rsa-2048"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def new_private_key(kind: KeyType) -> PrivateKey:
    if kind == "rsa-2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def signing_request(key: PrivateKey, common_name: str, organization: str) -> str:
    """PEM, as SignCertificate.req carries it: CN the station's identity (its unique serial
    number, A00.FR.511), O the CpoName key."""
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, common_name), x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
    )
    request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return request.public_bytes(Encoding.PEM).decode()
