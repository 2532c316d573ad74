"""The station's SQLite file: durable settings for a board that may lose power at any instant."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ocpp.v16 import call

from chargepoint.infra.database import MIGRATIONS, Database, SchemaTooNew
from chargepoint.infra.state import KeyTable
from tests.conftest import ROOT, booted
from tests.csms import Csms


def pragma(path: Path, name: str) -> object:
    """A pragma as any other process opening the file sees it."""
    with sqlite3.connect(path) as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


def test_a_fresh_database_is_wal_full_sync_and_fully_migrated(tmp_path: Path) -> None:
    path = tmp_path / "data" / "chargepoint.db"
    db = Database(path)
    try:
        assert db.query("PRAGMA synchronous") == [(2,)]  # FULL; per connection, so asked of the Database's own
        assert db.schema_version == len(MIGRATIONS)
    finally:
        db.close()
    assert pragma(path, "journal_mode") == "wal"  # stored in the file itself
    assert pragma(path, "user_version") == len(MIGRATIONS)


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "chargepoint.db"
    db = Database(path)
    KeyTable(db).save_key("HeartbeatInterval", "60")
    KeyTable(db).save_key("HeartbeatInterval", "90")
    KeyTable(db).save_key("MeterValueSampleInterval", "5")
    db.close()
    # A second run of the first migration would fail on CREATE TABLE of an existing table.
    again = Database(path)
    try:
        assert again.schema_version == len(MIGRATIONS)
        assert KeyTable(again).load_keys() == {"HeartbeatInterval": "90", "MeterValueSampleInterval": "5"}
    finally:
        again.close()


def newer_database(path: Path) -> int:
    """A file written by a later build, whose schema this one does not know (private, as
    every build leaves it)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    version = len(MIGRATIONS) + 1
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version={version}")
    path.chmod(0o600)
    return version


def test_the_database_and_its_directory_are_private_to_the_service_user(tmp_path: Path) -> None:
    """The database holds the AuthorizationKey: 0700 directory, 0600 files, even when an
    installer left them open; nothing else in the directory is touched."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    path = data_dir / "chargepoint.db"
    sqlite3.connect(path).close()
    path.chmod(0o644)
    Database(path).close()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data_dir.iterdir()}
    assert modes and all(mode == 0o600 for mode in modes.values()), modes
    fresh = tmp_path / "new" / "deeper" / "chargepoint.db"
    Database(fresh).close()
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_a_database_from_a_newer_build_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "chargepoint.db"
    version = newer_database(path)
    with pytest.raises(SchemaTooNew, match=f"schema version {version}.*newer"):
        Database(path)
    assert pragma(path, "user_version") == version
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []


@pytest.mark.parametrize("command", [["config", "get"], ["run"]])
def test_the_cli_refuses_a_newer_database_in_one_line(tmp_path: Path, command: list[str]) -> None:
    data_dir = tmp_path / "data"
    newer_database(data_dir / "chargepoint.db")
    config = tmp_path / "chargepoint.toml"
    config.write_text(f'data_dir = "{data_dir}"\ncsms_url = "ws://127.0.0.1:9/ocpp"\n')
    result = subprocess.run(
        [sys.executable, "-m", "chargepoint", *command, "--config", str(config)],
        env={k: v for k, v in os.environ.items() if not k.startswith("CHARGEPOINT_")},
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "schema version" in result.stderr


async def test_a_key_set_from_the_shell_survives_sigkill(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    result = await daemon.cli("config", "set", "MeterValueSampleInterval", "7")
    assert (result.code, result.out.strip()) == (0, "Accepted")
    daemon.kill()
    mark = len(csms.frames)
    daemon.start()
    await csms.wait_for("BootNotification", timeout=20, after=mark)
    await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, timeout=20, after=mark)
    answer = await csms.call(call.GetConfiguration(key=["MeterValueSampleInterval"]))
    assert answer.configuration_key[0]["value"] == "7"


def test_a_shared_directory_is_refused_not_locked_down(tmp_path: Path) -> None:
    """data_dir pointed at a /tmp-like directory: making it 0700 would break the system."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with pytest.raises(PermissionError, match="mode 1777 lets other users in"):
        Database(shared / "chargepoint.db")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
