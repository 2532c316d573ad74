"""The OCMF record (S.A.F.E. e.V. Open Charge Metering Format 1.0): `OCMF|{payload}|{signature}`.

Pure functions: the payload a reading becomes, its exact text (the bytes the signature covers),
and taking a record apart again. The signature itself is `signing`'s; checking it, `verify`'s.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

FORMAT_VERSION = "1.0"
SIGNATURE_ALGORITHM = "ECDSA-secp256r1-SHA256"  # OCMF table 22: NIST P-256, SHA-256
ENERGY_OBIS = "1-b:1.8.0"  # active energy import, total (OCMF 1.0.2 "RI")
SEPARATOR = "|"

# OCMF table 7 "TX": the reason of the reading.
BEGIN, CHARGING, END, TARIFF = "B", "C", "E", "T"
END_LOCAL, END_REMOTE, END_POWER_FAILURE, END_ABORTED = "L", "R", "P", "A"
# OCMF table 19 "TM" synchronisation state: synchronised, or unknown.
SYNCHRONIZED, UNSYNCHRONIZED = "S", "U"
METER_OK = "G"  # table 10 "ST"
_HEX_UID = re.compile(r"(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14})")  # 4 or 7 bytes (ISO 14443, table 17)


class OcmfError(ValueError):
    """A text that is no OCMF record; the message says what is wrong with it."""


@dataclass(frozen=True)
class Origin:
    """Who made the reading: the gateway (this station), the meter and the charge point (OCMF
    tables 1, 3, 6). One signing key serves every connector, so CI names the connector."""

    gateway: str  # GI: vendor and model
    gateway_serial: str  # GS
    gateway_version: str  # GV: firmware
    meter_vendor: str
    meter_model: str
    meter_serial: str
    charge_point: str  # CI, "<chargeBoxIdentity> <connectorId>" (type CBIDC)
    current_type: str = "AC"  # RT, table 21


def ocmf_time(moment: datetime, state: str) -> str:
    """TM: `2018-07-24T13:22:04,000+0000 S`, milliseconds after a comma, the zone as ±hhmm."""
    utc = moment.astimezone(timezone.utc)
    return f"{utc:%Y-%m-%dT%H:%M:%S},{utc.microsecond // 1000:03d}+0000 {state}"


def identification_type(id_tag: str) -> str:
    """IT (table 17): a card UID the reader gives as hex is ISO14443; anything else the station
    cannot tell, so UNDEFINED rather than a claim it cannot back."""
    return "ISO14443" if _HEX_UID.fullmatch(id_tag) else "UNDEFINED"


def payload(origin: Origin, page: int, id_tag: str, energy_wh: int, taken_at: datetime, tx: str, state: str) -> dict[str, Any]:
    """One reading of the energy register in a transaction. RV is kWh of the same integer Wh
    the Start/StopTransaction carries, so the signed value and meterStart/meterStop agree.
    MV is left out where the station does not know the meter's maker (it is optional)."""
    fields = {
        "FV": FORMAT_VERSION,
        "GI": origin.gateway,
        "GS": origin.gateway_serial,
        "GV": origin.gateway_version,
        "PG": f"T{page}",
        "MV": origin.meter_vendor,
        "MM": origin.meter_model,
        "MS": origin.meter_serial,
        "IS": True,
        "IL": "TRUSTED",  # authorized by the CSMS, its cache or its local list (table 11)
        "IF": [],
        "IT": identification_type(id_tag),
        "ID": id_tag,
        "CT": "CBIDC",
        "CI": origin.charge_point,
        "RD": [
            {
                "TM": ocmf_time(taken_at, state),
                "TX": tx,
                "RV": energy_wh / 1000,
                "RI": ENERGY_OBIS,
                "RU": "kWh",
                "RT": origin.current_type,
                "EF": "",
                "ST": METER_OK,
            }
        ],
    }
    return {name: value for name, value in fields.items() if name != "MV" or value}


def payload_text(fields: dict[str, Any]) -> str:
    """The exact text that is signed. A section may not hold the pipe, so one in an idTag is
    written as the JSON escape \\u007c, which reads back as the same string."""
    return json.dumps(fields, separators=(",", ":")).replace(SEPARATOR, "\\u007c")


def record(text: str, signature_hex: str) -> str:
    signature = json.dumps({"SA": SIGNATURE_ALGORITHM, "SD": signature_hex}, separators=(",", ":"))
    return f"OCMF{SEPARATOR}{text}{SEPARATOR}{signature}"


@dataclass(frozen=True)
class Parsed:
    text: str  # the payload section exactly as received: what the signature covers
    fields: dict[str, Any]
    algorithm: str
    signature: bytes


def parse(line: str) -> Parsed:
    """Take a record apart; OcmfError names the first thing that keeps it from being checked."""
    sections = line.strip().split(SEPARATOR)
    if len(sections) != 3 or sections[0] != "OCMF":
        raise OcmfError("not OCMF|{payload}|{signature}")
    text, signature_text = sections[1], sections[2]
    fields, signature = _json_object(text, "payload"), _json_object(signature_text, "signature section")
    algorithm = signature.get("SA", SIGNATURE_ALGORITHM)  # table 8: the default when absent
    data = signature.get("SD")
    if not isinstance(data, str):
        raise OcmfError("the signature section has no SD")
    if signature.get("SE", "hex") != "hex":
        raise OcmfError(f"signature encoding {signature.get('SE')!r} is not supported (only hex)")
    try:
        return Parsed(text, fields, str(algorithm), bytes.fromhex(data))
    except ValueError:
        raise OcmfError("SD is not hexadecimal") from None


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise OcmfError(f"the {what} is not JSON") from None
    if not isinstance(value, dict):
        raise OcmfError(f"the {what} is not a JSON object")
    return value


def summary(fields: dict[str, Any]) -> str:
    """What a reader wants to see beside the verdict: the page, the reason and the value."""
    readings = fields.get("RD") or [{}]
    first = readings[0] if isinstance(readings[0], dict) else {}
    return f"{fields.get('PG', '?')} {first.get('TX', '?')} {first.get('RV', '?')} {first.get('RU', '')} at {first.get('TM', '?')}"
