"""RFID card UIDs and PIN codes as the idTags a Wallbox sends.

The Wallbox OCPP guide asks for the Mifare UID in the CSMS's authorization list as uppercase
hexadecimal without separators, little-endian. The UID bytes, in the order the card sends them
(UID0 first, ISO/IEC 14443-3 anticollision), are read as one little-endian number: UID0 is the
least significant byte, so it is written last. 04 A2 1B 3C becomes "3C1BA204".
"""

from __future__ import annotations

# ISO/IEC 14443-3 single, double and triple size UIDs. Ten bytes are twenty hex digits, exactly
# what an IdToken (CiString20) holds.
UID_SIZES = (4, 7, 10)


def parse_uid(text: str) -> bytes:
    """A UID as a technician types it: hex bytes, optionally separated by ':', '-' or spaces."""
    digits = "".join(ch for ch in text if ch not in ": -")
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise ValueError(f"{text!r} is not a hexadecimal UID") from None


def id_tag_from_uid(uid: bytes) -> str:
    """The idTag for a card UID given in the card's own byte order: uppercase hex, no separators."""
    if len(uid) not in UID_SIZES:
        raise ValueError(f"an RFID UID has 4, 7 or 10 bytes, not {len(uid)}")
    return uid[::-1].hex().upper()


PIN_PREFIX = "PIN:"
PIN_DIGITS = (4, 8)


def id_tag_from_pin(code: str) -> str:
    """The idTag of a PIN typed on the Commander 2's pad. The guide says only that a PIN unlocks
    the charger; sent as "PIN:" and the digits, it can never be mistaken for a card's UID (hex
    digits alone), and the CSMS sees how the driver identified, as WEMOB's "VID:" shows."""
    low, high = PIN_DIGITS
    if not (code.isascii() and code.isdigit() and low <= len(code) <= high):
        raise ValueError(f"a PIN is {low} to {high} digits")
    return PIN_PREFIX + code
