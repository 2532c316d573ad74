"""The data directory belongs to one process, and its database to the file it opened: a second
daemon is refused, an offline `config set` waits its turn, and a database deleted under the
daemon stops the daemon instead of running on a ghost file."""

from __future__ import annotations

import asyncio

from chargepoint.control.server import ControlServer, send_command


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
