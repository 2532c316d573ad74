"""The data directory belongs to one process, and its database to the file it opened: a second
daemon is refused, an offline `config set` waits its turn, and a database deleted under the
daemon stops the daemon instead of running on a ghost file."""

from __future__ import annotations

import asyncio
import os

import pytest

from chargepoint.control.server import ControlServer, send_command
from chargepoint.infra.lock import DataDirLock
from tests.conftest import booted
from tests.csms import Csms
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
