"""Which firmware version the station runs, and which one an image carries."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

_VERSION_IN_NAME = re.compile(r"(?<![\d.])(\d+\.\d+\.\d+)(?!\.?\d)")
DIGEST_PREFIX = 12  # hexadecimal digits of the sha256 that name an image without a version
STATE_KEY = "firmware_version"  # station_state: the version a bench install put in place


def image_version(file_name: str, sha256_hex: str) -> str:
    """The X.Y.Z in the image's name (wemob-2.4.0.bin: 2.4.0), else a prefix of its digest, so
    two different unnamed images never pass for the same version."""
    match = _VERSION_IN_NAME.search(file_name)
    return match.group(1) if match else sha256_hex[:DIGEST_PREFIX]


def running_version(version_file: Path | None, installed: str | None, factory: str) -> str:
    """On a board the image itself says (version_file); on the bench the last simulated install
    does; before any update, the model's factory version."""
    if version_file is not None:
        try:
            text = version_file.read_text(encoding="utf-8").strip()
        except OSError:
            text = ""
        if text:
            return text[:50]  # BootNotification.firmwareVersion is CiString50
    return installed or factory


def sha256_of(path: Path) -> str:
    """Read in blocks: an image may be far larger than the memory it is worth spending."""
    digest = hashlib.sha256()
    with path.open("rb") as image:
        for block in iter(lambda: image.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
