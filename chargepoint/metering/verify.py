"""Checking OCMF records against a public key: what a CSMS engineer runs on what arrived.

Records are found wherever they sit in the text given: one per line, inside the JSON of a
frame log line, or anywhere in a MeterValues / StopTransaction JSON document, since that is
how they are carried (sampledValue.value with format SignedData).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chargepoint.metering import ocmf


@dataclass(frozen=True)
class Verdict:
    record: str
    problem: str | None  # None: the signature verifies
    what: str  # page, reason, value and time, for the reader

    @property
    def verified(self) -> bool:
        return self.problem is None


def public_key(pem: bytes) -> ec.EllipticCurvePublicKey:
    """A PEM public key (or a PEM certificate's); ValueError when it is none of P-256."""
    text = pem.strip()
    certificate = text.startswith(b"-----BEGIN CERTIFICATE")
    key = x509.load_pem_x509_certificate(text).public_key() if certificate else serialization.load_pem_public_key(text)
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not an ECDSA P-256 public key")
    return key


def check(line: str, key: ec.EllipticCurvePublicKey) -> Verdict:
    try:
        parsed = ocmf.parse(line)
    except ocmf.OcmfError as exc:
        return Verdict(line, str(exc), "?")
    what = ocmf.summary(parsed.fields)
    if parsed.algorithm != ocmf.SIGNATURE_ALGORITHM:
        return Verdict(line, f"signature algorithm {parsed.algorithm} is not {ocmf.SIGNATURE_ALGORITHM}", what)
    try:
        key.verify(parsed.signature, parsed.text.encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return Verdict(line, "signature does not match the payload (altered, or signed by another key)", what)
    return Verdict(line, None, what)


def records_in(text: str) -> list[str]:
    """Every OCMF record in the text, in order: a whole JSON document, or line by line."""
    try:
        return list(_strings(json.loads(text)))
    except ValueError:
        pass
    found: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("OCMF|"):
            found.append(stripped)
            continue
        try:
            found.extend(_strings(json.loads(stripped)))
        except ValueError:
            continue
    return found


def _strings(value: Any) -> Iterator[str]:
    """OCMF records among the JSON value's strings; a frame log holds its frame as JSON text."""
    if isinstance(value, str):
        if value.startswith("OCMF|"):
            yield value
        elif value[:1] in "[{":
            try:
                yield from _strings(json.loads(value))
            except ValueError:
                return
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
