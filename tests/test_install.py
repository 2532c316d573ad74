"""Installing as the README says (issue 12, item 8): the Makefile refuses a too-old Python, a
wheelhouse installs the station where there is no package index, and the board's steps come in
an order that works."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed")
# pip must find nothing but the wheelhouse, whatever the developer's pip configuration says.
OFFLINE_PIP = {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
WEB_CHART = "chargepoint/control/web/static/uplot/uPlot.iife.min.js"


def make(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert MAKE is not None
    return subprocess.run([MAKE, "--no-print-directory", "-C", str(directory), *args], capture_output=True, text=True, timeout=900)


def fake_python(directory: Path, version: str) -> Path:
    """A `python3` that says it is `version`, whatever it is asked."""
    script = directory / "python-old"
    script.write_text(f"#!/bin/sh\necho 'Python {version}'\n")
    script.chmod(0o755)
    return script


@needs_make
@pytest.mark.parametrize(("python", "named"), [("3.9.18", "Python 3.9.18"), ("", "not found")], ids=["3.9", "missing"])
def test_make_with_a_too_old_python_stops_with_one_line_and_no_venv(tmp_path: Path, python: str, named: str) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path)
    interpreter = fake_python(tmp_path, python) if python else tmp_path / "no-such-python"
    result = make(tmp_path, f"PYTHON={interpreter}", "demo")
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "needs Python 3.11 or newer" in result.stderr and named in result.stderr
    assert not (tmp_path / ".venv").exists()


@needs_make
def test_make_goes_on_to_the_venv_with_a_recent_python(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path)
    result = make(tmp_path, "-n", f"PYTHON={sys.executable}", ".venv/bin/python")
    assert result.returncode == 0, result.stderr
    assert f"{sys.executable} -m venv .venv" in result.stdout


@needs_make
@pytest.mark.slow
def test_a_wheelhouse_installs_the_station_into_an_empty_venv_without_the_index(tmp_path: Path) -> None:
    """Building the wheelhouse needs the index once; installing from it never does."""
    wheelhouse = tmp_path / "wheelhouse"
    # The test's own interpreter builds, and its .venv is taken as it is (-o: never remade here).
    build = make(ROOT, "-o", ".venv/.installed", f"BIN={Path(sys.executable).parent}", f"WHEELHOUSE={wheelhouse}", "wheelhouse")
    assert build.returncode == 0, build.stderr
    assert any(wheel.name.startswith("chargepoint-") for wheel in wheelhouse.glob("*.whl"))
    station_wheel = next(wheelhouse.glob("chargepoint-*.whl"))
    assert WEB_CHART in zipfile.ZipFile(station_wheel).namelist()  # the web page's chart, for an offline lab
    venv = tmp_path / "board"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "CHARGEPOINT_"))} | OFFLINE_PIP
    install = subprocess.run(
        [venv / "bin" / "pip", "install", "--no-index", "--find-links", wheelhouse, "chargepoint"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    # Away from the checkout, so only what the wheels installed can answer.
    run = subprocess.run([venv / "bin" / "chargepoint", "--help"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "config" in run.stdout and "run" in run.stdout
    config = tmp_path / "station.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    keys = subprocess.run(
        [venv / "bin" / "chargepoint", "config", "get", "HeartbeatInterval", "--config", config],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )
    assert keys.returncode == 0 and "HeartbeatInterval" in keys.stdout, keys


def install_steps() -> list[str]:
    """The shell lines of the README's "Install on the board" section, in order."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Install on the board", 1)[1].split("\n##", 1)[0]  # up to its first subsection
    blocks = re.findall(r"```(?:sh)?\n(.*?)```", section, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_the_board_install_commissions_before_it_enables_the_unit() -> None:
    """`config set` works before the first start because the state directory already belongs to
    the service user, and the unit starts only once the configuration is filled in."""
    steps = install_steps()
    state = next(i for i, line in enumerate(steps) if "/var/lib/chargepoint" in line and line.startswith("install -d"))
    assert "-o chargepoint" in steps[state] and "-m 0700" in steps[state]
    commission = next(i for i, line in enumerate(steps) if " config set " in line)
    assert "sudo -u chargepoint" in steps[commission]
    enable = next(i for i, line in enumerate(steps) if "systemctl enable" in line)
    assert state < commission < enable == len(steps) - 1
    assert all("enable" not in line for line in steps[:enable])
