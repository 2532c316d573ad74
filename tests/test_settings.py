"""Settings: a wrong one is refused with one line naming it; the environment beats the file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chargepoint.app.settings import SettingsError, load_settings, unknown_environment
from tests.conftest import ROOT


def chargepoint(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it; `env` adds CHARGEPOINT_* variables."""
    return subprocess.run(
        [sys.executable, "-m", "chargepoint", *args],
        env=os.environ | env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


@pytest.fixture(autouse=True)
def no_station_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """load_settings() reads the environment; the developer's own CHARGEPOINT_* must not leak in."""
    for name in [k for k in os.environ if k.startswith("CHARGEPOINT_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A settings file with its own data directory; tests append the lines they need."""
    path = tmp_path / "chargepoint.toml"
    path.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(path.read_text() + text)
    return path


BAD_SETTINGS = {
    "unknown profile": ('profile = "tesla"\n', ["profile", "wemob", "wallbox"]),
    "no connectors": ("connectors = 0\n", ["connectors"]),
    "http csms_url": ('csms_url = "http://x"\n', ["csms_url", "ws://"]),
    "unknown model": ('model = "wemob-3000"\n', ["model", "wemob-wall-ac22", "wemob-parking-ac22", "wemob-station-dc60"]),
    "unknown setting": ('colour = "red"\n', ["colour", "unknown setting"]),
    "invalid TOML": ("profile = [\n", ["config", "TOML"]),
    "meters mismatch": ('model = "wemob-parking-ac22"\nmeters = ["sim"]\n', ["meters", "2"]),
    "unknown time zone": ('timezone = "Mars/Olympus"\n', ["timezone", "IANA", "Europe/Lisbon", "Mars/Olympus"]),
    "unknown client key type": ('client_key_type = "dsa-1024"\n', ["client_key_type", "ec-p256", "rsa-2048"]),
}


@pytest.mark.parametrize("command", [["status"], ["config", "get"]])
@pytest.mark.parametrize("case", BAD_SETTINGS)
def test_a_bad_setting_is_one_line_naming_it(config_file: Path, case: str, command: list[str]) -> None:
    text, words = BAD_SETTINGS[case]
    result = chargepoint(*command, CHARGEPOINT_CONFIG=str(write(config_file, text)))
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert all(word in lines[0] for word in words), lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_every_problem_gets_its_own_line(config_file: Path) -> None:
    write(config_file, 'connectors = 0\ncsms_url = "http://x"\n')
    result = chargepoint("status", "--config", str(config_file))
    assert result.returncode == 2
    lines = sorted(result.stderr.strip().splitlines())
    assert len(lines) == 2 and "connectors" in lines[0] and "csms_url" in lines[1], result.stderr


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    result = chargepoint("config", "get", CHARGEPOINT_CONFIG=str(missing))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and str(missing) in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_environment_value_is_named_too(config_file: Path) -> None:
    result = chargepoint("status", CHARGEPOINT_CONFIG=str(config_file), CHARGEPOINT_CONNECTORS="many")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "connectors" in result.stderr and "many" in result.stderr


def test_the_environment_overrides_the_file(config_file: Path) -> None:
    write(config_file, 'profile = "wemob"\n')
    as_written = chargepoint("config", "get", "AuthEnabled", CHARGEPOINT_CONFIG=str(config_file))
    assert (as_written.returncode, as_written.stdout.strip()) == (1, "AuthEnabled unknown key")
    overridden = chargepoint(
        "config", "get", "AuthEnabled", CHARGEPOINT_CONFIG=str(config_file), CHARGEPOINT_PROFILE="wallbox"
    )
    assert (overridden.returncode, overridden.stdout.split()) == (0, ["AuthEnabled", "RW", "true"])


def test_config_after_the_subcommand_wins_over_the_environment(config_file: Path, tmp_path: Path) -> None:
    write(config_file, 'profile = "wallbox"\n')
    result = chargepoint(
        "config", "get", "AuthEnabled", "--config", str(config_file), CHARGEPOINT_CONFIG=str(tmp_path / "none.toml")
    )
    assert (result.returncode, result.stdout.split()) == (0, ["AuthEnabled", "RW", "true"]), result


def test_defaults_follow_the_model(config_file: Path) -> None:
    """Leaving connectors and meters out gives the model's count, each with a simulated meter."""
    settings = load_settings(write(config_file, 'model = "wemob-parking-ac22"\n'))
    assert (settings.connector_count, settings.meters) == (2, ["sim", "sim"])
    assert settings.database_path == settings.data_dir / "chargepoint.db"


def test_load_settings_reads_the_environment(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARGEPOINT_CONFIG", str(write(config_file, 'identity = "FROM-FILE"\n')))
    monkeypatch.setenv("CHARGEPOINT_CONNECTORS", "3")
    settings = load_settings()
    assert (settings.identity, settings.connector_count, settings.meters) == ("FROM-FILE", 3, ["sim"] * 3)
    monkeypatch.setenv("CHARGEPOINT_IDENTITY", "x" * 49)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert len(refused.value.problems) == 1 and refused.value.problems[0].startswith("identity:")


def test_the_shipped_example_configuration_is_valid(tmp_path) -> None:
    """systemd/chargepoint.toml.example documents every setting and must load as it stands."""
    from chargepoint.app.settings import Settings, load_settings

    example = ROOT / "systemd" / "chargepoint.toml.example"
    text = example.read_text().replace("/var/lib/chargepoint", str(tmp_path))
    copy = tmp_path / "chargepoint.toml"
    copy.write_text(text)
    settings = load_settings(copy)
    assert settings.profile == "wemob" and settings.meters and settings.meters[0].startswith("modbus-rtu://")
    documented = {line.lstrip("# ").split(" =")[0] for line in text.splitlines() if " = " in line}
    assert set(Settings.model_fields) <= documented


def test_a_password_that_is_not_printable_is_refused_without_being_echoed(config_file: Path) -> None:
    """Any printable text may be a password (README, Security profiles); a control character
    would break the Authorization header."""
    result = chargepoint("status", CHARGEPOINT_CONFIG=str(config_file), CHARGEPOINT_PASSWORD="hunter2\tsecret")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "chargepoint: setting password: must be printable text: 16 to 20 characters or 32 to 40 hexadecimal"
        " digits (under SecurityProfile 0, any printable password)"
    )


@pytest.mark.parametrize("written", ["debug", "Info", "WARNING", "error"])
def test_log_level_takes_any_letter_case(config_file: Path, written: str) -> None:
    assert load_settings(write(config_file, f'log_level = "{written}"\n')).log_level == written.upper()
    result = chargepoint(
        "config", "get", "HeartbeatInterval", CHARGEPOINT_CONFIG=str(config_file), CHARGEPOINT_LOG_LEVEL=written
    )
    assert (result.returncode, result.stderr) == (0, ""), result


@pytest.mark.parametrize(
    ("environ", "lines"),
    [
        ({"CHARGEPOINT_IDENTITY": "CP2", "CHARGEPOINT_CONFIG": "x.toml", "HOME": "/root"}, []),
        ({"chargepoint_identity": "CP2"}, []),  # pydantic-settings takes any letter case
        ({"CHARGEPOINT_IDENTIY": "CP2"}, ["CHARGEPOINT_IDENTIY names no setting; did you mean CHARGEPOINT_IDENTITY?"]),
        ({"CHARGEPOINT_METER": "sim"}, ["CHARGEPOINT_METER names no setting; did you mean CHARGEPOINT_METERS?"]),
        ({"CHARGEPOINT_HEARTBEAT": "30"}, ["CHARGEPOINT_HEARTBEAT names no setting"]),
    ],
)
def test_an_environment_variable_that_names_no_setting_is_named(environ: dict[str, str], lines: list[str]) -> None:
    assert unknown_environment(environ) == lines


def test_an_unknown_environment_variable_is_a_warning_not_a_failure(config_file: Path) -> None:
    result = chargepoint(
        "config", "get", "HeartbeatInterval", CHARGEPOINT_CONFIG=str(config_file), CHARGEPOINT_IDENTIY="CP2"
    )
    assert result.returncode == 0 and result.stdout.split()[0] == "HeartbeatInterval", result
    assert result.stderr == (
        "chargepoint: warning: CHARGEPOINT_IDENTIY names no setting; did you mean CHARGEPOINT_IDENTITY?\n"
    )


def test_meters_in_the_environment_are_a_json_list(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The syntax the README gives for CHARGEPOINT_METERS."""
    monkeypatch.setenv("CHARGEPOINT_CONNECTORS", "2")
    monkeypatch.setenv("CHARGEPOINT_METERS", '["sim", "modbus-tcp://192.168.1.10:502?unit=2&model=sdm630"]')
    assert load_settings(config_file).meters == ["sim", "modbus-tcp://192.168.1.10:502?unit=2&model=sdm630"]
