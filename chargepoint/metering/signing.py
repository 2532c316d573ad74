"""The station's meter-signing key and the signer that turns energy readings into OCMF records.

The key is an ECDSA P-256 key made once per data directory and kept there, mode 0600: its
public half is what a CSMS (or a driver, with the Transparenzsoftware) checks every record
against, so it must outlive restarts, and a new one would orphan every record already sent.
Where a meter signs its own readings (an Eichrecht meter), its record is passed through and
the station signs nothing for that connector: a second signature over it would prove nothing.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from ocpp.v16.enums import Measurand, ReadingContext, Reason, ValueFormat

from chargepoint.infra.clock import Clock
from chargepoint.infra.database import private_directory
from chargepoint.infra.state import StateTable
from chargepoint.metering import ocmf

log = logging.getLogger(__name__)

KEY_FILE = "meter-signing-key.pem"
PUBLIC_KEY_KEY = "ChargepointMeterPublicKey"  # read-only; its value: hex DER SubjectPublicKeyInfo

_TX_OF_CONTEXT = {
    ReadingContext.transaction_begin: ocmf.BEGIN,
    ReadingContext.sample_periodic: ocmf.CHARGING,
    ReadingContext.sample_clock: ocmf.TARIFF,  # the quarter-hour grid is where tariffs change
}
_TX_OF_REASON = {
    Reason.local: ocmf.END_LOCAL,
    Reason.ev_disconnected: ocmf.END_LOCAL,
    Reason.remote: ocmf.END_REMOTE,
    Reason.power_loss: ocmf.END_POWER_FAILURE,
    Reason.emergency_stop: ocmf.END_ABORTED,
}


def reading_reason(context: ReadingContext, reason: Reason | None = None) -> str:
    """TX of a reading: Transaction.End says why it ended where OCMF has a letter for that."""
    if context == ReadingContext.transaction_end:
        return _TX_OF_REASON.get(reason, ocmf.END) if reason is not None else ocmf.END
    return _TX_OF_CONTEXT.get(context, ocmf.CHARGING)


class DeviceKey:
    """The private key in data_dir; nothing but `sign` and the public half leaves this object."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key

    @classmethod
    def of(cls, data_dir: Path) -> DeviceKey:
        """The data directory's key, made on first use."""
        path = data_dir / KEY_FILE
        if not path.exists():
            private_directory(data_dir)
            _create(path)
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            log.warning("meter signing key %s was readable by others; making it 0600", path)
            path.chmod(0o600)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ValueError(f"{path} holds no ECDSA P-256 private key")
        return cls(key)

    def sign(self, text: str) -> str:
        """ECDSA over SHA-256 of the text's UTF-8 bytes, DER-encoded, in hex (OCMF's defaults)."""
        return self._key.sign(text.encode(), ec.ECDSA(hashes.SHA256())).hex().upper()

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._key.public_key()

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def public_hex(self) -> str:
        """The form meters print and the Transparenzsoftware takes: DER SubjectPublicKeyInfo."""
        der = self.public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return der.hex().upper()


def _create(path: Path) -> None:
    """Written under a temporary name and linked in, so a daemon and `meter-key` starting at
    once end with one key, and a power cut never leaves half a key under the real name."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return  # another process made it first: theirs is the key
        log.info("meter signing key created in %s", path)
    finally:
        temporary.unlink(missing_ok=True)


@dataclass(frozen=True)
class SignedReading:
    """One transaction reading to sign; `meter_record` is the meter's own when it signs."""

    connector: int
    id_tag: str
    energy_wh: int
    timestamp: str  # the OCPP dateTime of the reading, as its raw value carries it
    context: ReadingContext
    reason: Reason | None = None
    meter_record: str | None = None


class MeterSigner:
    """OCMF records of transaction readings, paginated per connector (gateway and meter serial
    together name the signing component, OCMF "Relation of Serial Numbers")."""

    def __init__(
        self, key: DeviceKey, origins: dict[int, ocmf.Origin], meter_signs: dict[int, bool], state: StateTable, clock: Clock
    ) -> None:
        self._key = key
        self._origins = origins
        self._meter_signs = meter_signs
        self._state = state
        self._clock = clock

    def sampled_value(self, reading: SignedReading) -> dict[str, Any] | None:
        """The SignedData sampledValue; None where the meter signs and gave no record."""
        if self._meter_signs.get(reading.connector, False):
            value = reading.meter_record
        else:
            value = self.record(reading)
        if value is None:
            return None
        return {
            "value": value,
            "context": reading.context,
            "format": ValueFormat.signed_data,
            "measurand": Measurand.energy_active_import_register,
        }

    def record(self, reading: SignedReading) -> str:
        page = self._next_page(reading.connector)
        state = ocmf.SYNCHRONIZED if self._clock.synchronized else ocmf.UNSYNCHRONIZED
        taken_at = datetime.fromisoformat(reading.timestamp.replace("Z", "+00:00"))
        fields = ocmf.payload(
            self._origins[reading.connector], page, reading.id_tag, reading.energy_wh, taken_at,
            reading_reason(reading.context, reading.reason), state,
        )
        text = ocmf.payload_text(fields)
        return ocmf.record(text, self._key.sign(text))

    def _next_page(self, connector: int) -> int:
        """Kept in the database: a page number is never given twice, restarts included."""
        name = f"ocmf-pagination-{connector}"
        page = int(self._state.get(name) or 0) + 1
        self._state.set(name, str(page))
        return page
