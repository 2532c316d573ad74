"""The data directory belongs to one process, and its database to the file it opened: a second
daemon is refused, an offline `config set` waits its turn, and a database deleted under the
daemon stops the daemon instead of running on a ghost file."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import uuid
from pathlib import Path

import pytest

from chargepoint.control.server import ControlServer, send_command
from chargepoint.infra.database import Database, DatabaseGone
from chargepoint.infra.lock import DataDirLock
from chargepoint.infra.state import KeyTable
from tests.conftest import booted
from tests.csms import CALL, CALLRESULT, Csms
from tests.helpers import exited


@pytest.mark.parametrize("identity", ["CP-TEST-1", "CP-TEST-2"])
async def test_a_second_daemon_on_the_data_dir_exits_2_and_the_first_keeps_running(
    csms: Csms, make_daemon, identity: str
) -> None:
    first = make_daemon(csms)
    await booted(csms, first)
    assert first.process is not None
    second = make_daemon(csms, identity=identity, data_dir=str(first.data_dir))
    assert await exited(second) == 2
    lines = second.logs().strip().splitlines()
    assert len(lines) == 1, lines
    assert str(first.data_dir) in lines[0] and f"PID {first.process.pid}" in lines[0]
    assert csms.connections == 1  # the second never reached the CSMS, under either identity
    status = await first.status()  # its control socket is still there
    assert (status["link"], status["registration"]) == ("Connected", "Accepted")


async def test_offline_config_set_never_writes_under_a_held_lock_and_names_its_holder(make_daemon) -> None:
    """A daemon starting (lock taken, no socket yet) is what `config set` finds: it waits, never
    writes the store under it, and in the end says who holds the directory."""
    daemon = make_daemon(start=False)
    with DataDirLock(daemon.data_dir):
        refused = await daemon.cli("config", "set", "MeterValueSampleInterval", "9")
    assert refused.code == 2, refused
    assert refused.err.strip() == (
        f"chargepoint: data_dir {daemon.data_dir} is in use by PID {os.getpid()}; one station per data directory"
    )
    unchanged = await daemon.cli("config", "get", "MeterValueSampleInterval")
    assert (unchanged.code, unchanged.out.split()) == (0, ["MeterValueSampleInterval", "RW", "15"])


async def test_a_control_server_removes_only_the_socket_it_made(make_daemon) -> None:
    path = make_daemon(start=False).data_dir / "control.sock"

    async def answer(_: dict[str, object]) -> dict[str, object]:
        return {"message": "the newer one"}

    older, newer = ControlServer(path, {}), ControlServer(path, {"status": answer})
    await older.start()
    await newer.start()  # took the path over, as a restarted daemon does
    await older.close()
    try:
        reply = await asyncio.to_thread(send_command, path, {"command": "status"}, 10)
        assert reply == {"ok": True, "message": "the newer one"}
    finally:
        await newer.close()
    assert not path.exists()


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_database_whose_file_went_away_refuses_every_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    path = tmp_path / "chargepoint.db"
    db = Database(path)
    keys = KeyTable(db)
    keys.save_key("HeartbeatInterval", "60")
    path.unlink()
    if how == "replaced":
        sqlite3.connect(path).close()
    try:
        with caplog.at_level(logging.ERROR), pytest.raises(DatabaseGone):
            keys.save_key("HeartbeatInterval", "120")
        sqlite3.connect(path).close()  # a file there again changes nothing
        with pytest.raises(DatabaseGone):
            keys.save_key("HeartbeatInterval", "180")
    finally:
        db.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and str(path) in errors[0], errors
    with sqlite3.connect(path) as conn:  # nothing reached the file now at the path
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'config_key'").fetchall() == []


async def test_an_idle_daemon_notices_its_database_deleted_and_exits(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    database = daemon.data_dir / "chargepoint.db"
    database.unlink()
    assert await exited(daemon) != 0
    assert any(" ERROR " in line and str(database) in line for line in daemon.logs().splitlines()), daemon.logs()


async def test_a_daemon_whose_database_is_deleted_accepts_nothing_more_and_exits(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    database = daemon.data_dir / "chargepoint.db"
    database.unlink()
    unique_id = str(uuid.uuid4())
    await csms.send_raw(json.dumps([CALL, unique_id, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"}]))
    assert await exited(daemon) != 0  # Restart=always starts it again on what is on disk
    answers = [f for f in csms.frames if f.direction == "in" and f.unique_id == unique_id]
    assert all(f.message_type != CALLRESULT for f in answers), answers
    assert any(" ERROR " in line and str(database) in line for line in daemon.logs().splitlines()), daemon.logs()

    mark = len(csms.frames)
    daemon.start()  # the restart finds a fresh database, nothing of the ghost
    await csms.wait_for("BootNotification", timeout=20, after=mark)
    await daemon.wait_socket()
    listing = await daemon.cli("config", "get", "HeartbeatInterval")
    assert (listing.code, listing.out.split()) == (0, ["HeartbeatInterval", "RW", "60"])  # the boot's, not 120
