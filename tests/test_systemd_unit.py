"""systemd/chargepoint.service: systemd accepts it, and it runs the station the way issue 5 asks."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from chargepoint.app.cli import EXIT_HARD_RESET

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "chargepoint.service"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None,
    reason="systemd-analyze is not installed (`make test` installs package systemd when run as root with apt-get)",
)
TRUE = {"1", "yes", "true", "on"}
# Directives that would give the service a writable path besides its state directory.
OTHER_WRITABLE = (
    "ReadWriteDirectories", "BindPaths", "RuntimeDirectory", "CacheDirectory", "LogsDirectory", "ConfigurationDirectory"
)


def unit_section(name: str) -> dict[str, list[str]]:
    """Every directive of the unit's [name] section; a directive given twice keeps both values."""
    section = ""
    directives: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
        elif section == f"[{name}]":
            key, _, value = line.partition("=")
            directives.setdefault(key.strip(), []).append(value.strip())
    return directives


def one(directives: dict[str, list[str]], key: str) -> str:
    values = directives.get(key, [])
    assert len(values) == 1, f"{key}= should be set once, found {values}"
    return values[0]


def words(directives: dict[str, list[str]], key: str) -> set[str]:
    """The space-separated values of a list directive such as SupplementaryGroups=."""
    return {word for value in directives.get(key, []) for word in value.split()}


def restarts_after_exit(directives: dict[str, list[str]], status: int) -> bool:
    """What systemd does when the main process exits with `status` (systemd.service(5), Restart=)."""
    code = str(status)
    if code in words(directives, "RestartPreventExitStatus"):
        return False
    if code in words(directives, "RestartForceExitStatus"):
        return True
    success = status == 0 or code in words(directives, "SuccessExitStatus")
    restart = directives.get("Restart", ["no"])[-1]
    return restart == "always" or (restart == "on-success" and success) or (restart == "on-failure" and not success)


def verify(text: str, directory: Path) -> str:
    """systemd-analyze verify on a copy of the unit whose program exists here; "" when clean.

    `verify` exits 0 for a misspelled directive or a bad value (systemd ignores the line and
    warns), so every warning it prints counts as a finding.
    """
    program = shlex.split(one(unit_section("Service"), "ExecStart"))[0]
    stub = directory / "chargepoint"
    stub.write_text("#!/bin/sh\n")
    stub.chmod(0o755)
    unit = directory / UNIT.name
    unit.write_text(text.replace(f"ExecStart={program} ", f"ExecStart={stub} "))
    assert ANALYZE is not None
    env = {**os.environ, "SYSTEMD_LOG_LEVEL": "warning", "SYSTEMD_LOG_TARGET": "console", "SYSTEMD_LOG_COLOR": "0"}
    result = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True, env=env, timeout=60)
    findings = (result.stdout + result.stderr).strip()
    return findings if result.returncode == 0 else f"exit {result.returncode}: {findings}"


@needs_analyze
def test_systemd_accepts_the_unit_without_a_warning(tmp_path: Path) -> None:
    assert verify(UNIT.read_text(), tmp_path) == ""


@needs_analyze
@pytest.mark.parametrize(
    ("line", "broken", "named"),
    [
        ("Restart=always", "Restrat=always", "Restrat"),
        ("Restart=always", "Restart=sometimes", "sometimes"),
        ("WatchdogSec=30", "WatchdogSec=thirty", "thirty"),
        ("ProtectSystem=strict", "ProtectSystem=strcit", "strcit"),
    ],
    ids=["misspelled directive", "bad Restart", "bad WatchdogSec", "bad ProtectSystem"],
)
def test_the_check_catches_a_broken_unit(tmp_path: Path, line: str, broken: str, named: str) -> None:
    text = UNIT.read_text()
    assert f"\n{line}\n" in text
    assert named in verify(text.replace(f"\n{line}\n", f"\n{broken}\n"), tmp_path)


def test_the_service_is_supervised_and_confined() -> None:
    service = unit_section("Service")
    assert one(service, "Type") == "notify"
    assert float(one(service, "WatchdogSec").removesuffix("s")) > 0
    assert one(service, "Restart") == "always"
    assert one(service, "StateDirectory") == "chargepoint"
    assert one(service, "StateDirectoryMode") == "0700"
    assert one(service, "User") == one(service, "Group") == "chargepoint"
    assert "dialout" in words(service, "SupplementaryGroups")
    for switch in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        assert one(service, switch) in TRUE, switch
    assert one(service, "ProtectSystem") == "strict"
    state = "/var/lib/chargepoint"
    assert {path.lstrip("-+") for path in words(service, "ReadWritePaths")} <= {state}
    assert [key for key in OTHER_WRITABLE if key in service] == []
    example = tomllib.loads((ROOT / "systemd" / "chargepoint.toml.example").read_text())
    assert example["data_dir"] == state


@pytest.mark.parametrize("status", [EXIT_HARD_RESET, 1, 0], ids=["hard reset", "crash", "clean exit"])
def test_systemd_starts_the_station_again_after_it_exits(status: int) -> None:
    assert restarts_after_exit(unit_section("Service"), status)


def test_systemd_never_gives_up_restarting_the_station() -> None:
    assert one(unit_section("Unit"), "StartLimitIntervalSec") == "0"


def test_the_unit_runs_the_program_and_configuration_the_readme_installs() -> None:
    program, *arguments = shlex.split(one(unit_section("Service"), "ExecStart"))
    assert arguments == ["run", "--config", "/etc/chargepoint/chargepoint.toml"]
    readme = (ROOT / "README.md").read_text()
    venv = Path(program).parent.parent
    assert f"python3 -m venv {venv}" in readme
    assert program == f"{venv}/bin/chargepoint"
    assert arguments[2] in readme
