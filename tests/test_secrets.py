"""What the secret scrubber masks in every log line, frame-log line and diagnostics file."""

from __future__ import annotations

import pytest

from chargepoint.infra.secrets import MASK, SecretScrubber


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ('{"location": "ftp://station:pw@10.0.0.1:21/fw.bin"}', f'{{"location": "ftp://{MASK}@10.0.0.1:21/fw.bin"}}'),
        ("https://user@files.example/x", f"https://{MASK}@files.example/x"),
        ("http://files.example/a@b", "http://files.example/a@b"),  # an @ in the path is no userinfo
        ("known 0011aabb here", f"known {MASK} here"),
        ("a\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\nb", f"a\n{MASK}\nb"),
        ("-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----", MASK),
    ],
)
def test_scrubbed(text: str, scrubbed: str) -> None:
    scrubber = SecretScrubber()
    scrubber.add("0011aabb")
    assert scrubber.scrub(text) == scrubbed
