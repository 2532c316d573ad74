"""Wallbox RFID UIDs become idTags as uppercase hex, little-endian, without separators."""

from __future__ import annotations

import pytest

from chargepoint.rfid import id_tag_from_uid


@pytest.mark.parametrize(
    "uid, id_tag",
    [
        # The card sends UID0 first; UID0 is the least significant byte, so it is written last.
        (bytes.fromhex("04A21B3C"), "3C1BA204"),
        (bytes.fromhex("0a0b0c0d"), "0D0C0B0A"),  # leading zeros kept, letters upper case
        (bytes.fromhex("04112233445566"), "66554433221104"),  # 7-byte (double size) UID
        (bytes(range(1, 11)), "0A090807060504030201"),  # 10-byte UID: the full 20 characters of an IdToken
    ],
)
def test_a_uid_becomes_its_little_endian_hex(uid: bytes, id_tag: str) -> None:
    assert id_tag_from_uid(uid) == id_tag


@pytest.mark.parametrize("size", [0, 3, 5, 11])
def test_a_uid_of_a_size_no_card_has_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="4, 7 or 10 bytes"):
        id_tag_from_uid(bytes(size))
