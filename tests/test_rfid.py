"""Wallbox RFID UIDs become idTags as uppercase hex, little-endian, without separators."""

from __future__ import annotations

import pytest

from chargepoint.vendors.wallbox import id_tag_from_uid
from tests.conftest import booted


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


async def test_swipe_by_uid_sends_the_wallbox_id_tag(csms, make_daemon) -> None:
    """The bench reader takes a UID as read from the card; the CSMS sees the little-endian idTag."""
    daemon = make_daemon(csms, profile="wallbox")
    await booted(csms, daemon)
    result = await daemon.cli("swipe", "--uid", "04:a2:1b:3c")
    assert result.code == 0, result.err
    assert (await csms.wait_for("Authorize", timeout=5)).payload == {"idTag": "3C1BA204"}
    bad = await daemon.cli("swipe", "--uid", "04:zz")
    assert bad.code == 2 and "--uid" in bad.err and len(bad.err.strip().splitlines()) == 1
