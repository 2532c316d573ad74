"""Which version an image carries and which the station runs (pure functions, table tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chargepoint.firmware.feature import image_name
from chargepoint.firmware.install import CommandInstall
from chargepoint.firmware.version import image_version, running_version

DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("wemob-2.4.0.bin", "2.4.0"),
        ("WB-6.7.12-signed.swu", "6.7.12"),
        ("fw_10.0.3", "10.0.3"),
        ("image.bin", DIGEST[:12]),  # no X.Y.Z: the sha256 prefix
        ("release-2.4.bin", DIGEST[:12]),  # two numbers are not a version here
        ("v1.2.3.4.bin", DIGEST[:12]),  # nor four
    ],
)
def test_image_version(name: str, version: str) -> None:
    assert image_version(name, DIGEST) == version


@pytest.mark.parametrize(
    ("location", "name"),
    [
        ("http://h/fw/wemob-2.4.0.bin", "wemob-2.4.0.bin"),
        ("ftp://u:p@h:21/a/b/wallbox%206.7.0.bin", "wallbox_6.7.0.bin"),
        ("https://h/download?id=7", "download"),
        ("http://h/", "firmware.bin"),
        ("http://h/..", "firmware.bin"),  # never a path out of the firmware directory
        ("http://h/a/../../etc/passwd", "passwd"),
    ],
)
def test_image_name_is_a_safe_file_name(location: str, name: str) -> None:
    assert image_name(location) == name


def test_running_version_prefers_the_image_then_the_bench_install_then_the_factory(tmp_path: Path) -> None:
    stated = tmp_path / "sw-version"
    assert running_version(None, None, "2.3.1") == "2.3.1"
    assert running_version(None, "2.4.0", "2.3.1") == "2.4.0"
    assert running_version(stated, "2.4.0", "2.3.1") == "2.4.0", "a missing version file is not a version"
    stated.write_text("3.0.0\n")
    assert running_version(stated, "2.4.0", "2.3.1") == "3.0.0"


def test_the_install_command_gets_the_image_as_one_word(tmp_path: Path) -> None:
    image = tmp_path / "odd name; rm -rf x.bin"
    installer = CommandInstall("rauc install --keyring=/etc/k.pem {file}", 60)
    assert installer.command(image) == ["rauc", "install", "--keyring=/etc/k.pem", str(image)]
