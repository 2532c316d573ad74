"""GetDiagnostics (§5.9, §4.4): the archive really travels to FTP and HTTP servers on
127.0.0.1, opens, holds the frame log, keeps to startTime and stopTime, and carries no secret."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import trustme
from aiohttp import web
from ocpp.v16 import call

from tests.conftest import Csms, booted, eventually
from tests.file_servers import FtpFileServer, HttpFileServer
from tests.helpers import charging, cli_ok, configure, logged

PASSWORD = "00112233445566778899aabbccddeeff"  # the initial AuthorizationKey
NEW_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"  # set by the CSMS


def _statuses(csms: Csms) -> list[str]:
    return [f.payload["status"] for f in csms.received("DiagnosticsStatusNotification")]


async def _ends(csms: Csms, last: str, timeout: float = 20.0) -> None:
    await eventually(lambda: last in _statuses(csms), timeout, f"DiagnosticsStatusNotification {last}: {_statuses(csms)}")


def _members(archive: bytes) -> dict[str, str]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def test_diagnostics_by_ftp_hold_the_logs_and_no_secret(csms: Csms, make_daemon, tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("CP-TEST-1")
    key_file, cert_file = tmp_path / "station.key", tmp_path / "station.pem"
    cert.private_key_pem.write_to_path(key_file)
    cert.cert_chain_pems[0].write_to_path(cert_file)
    key_file.chmod(0o600)
    with FtpFileServer(tmp_path / "ftp") as server:
        (server.root / "uploads").mkdir()
        daemon = make_daemon(csms, password=PASSWORD, tls_cert=str(cert_file), tls_key=str(key_file))
        await booted(csms, daemon)
        await configure(csms, AuthorizationKey=NEW_KEY)
        await charging(csms, daemon)
        await cli_ok(daemon, "swipe", "TAG1")
        await csms.wait_for("StopTransaction")
        answer = await csms.call(call.GetDiagnostics(location=server.url("/uploads/"), retries=0))
        assert answer.file_name and answer.file_name.endswith(".tar.gz")
        await _ends(csms, "Uploaded")
        assert _statuses(csms) == ["Uploading", "Uploaded"]
        members = _members((server.root / "uploads" / answer.file_name).read_bytes())
    assert {"station.log", "frames.jsonl", "configuration.json", "transactions.json"} <= set(members)
    assert '"BootNotification"' in members["frames.jsonl"] and "StartTransaction" in members["frames.jsonl"]
    assert "BootNotification Accepted" in members["station.log"]
    keys = {k["key"]: k["value"] for k in json.loads(members["configuration.json"])}
    assert keys["HeartbeatInterval"] and "AuthorizationKey" not in keys
    assert [t["id_tag"] for t in json.loads(members["transactions.json"])] == ["TAG1"]
    everything = "".join(members.values())
    for secret in (PASSWORD, NEW_KEY, "s3cret-pw", key_file.read_text().splitlines()[1]):
        assert secret not in everything


async def test_diagnostics_by_http_put_keep_to_start_and_stop_time(csms: Csms, make_daemon, tmp_path: Path) -> None:
    async with HttpFileServer(tmp_path / "www") as server:
        daemon = make_daemon(csms, profile="wallbox")
        await booted(csms, daemon)
        # The station's clock follows the test CSMS's whole-second currentTime, up to 1 s behind:
        # the margins keep each frame on its side of the window whatever that offset.
        await asyncio.sleep(1.2)
        start = datetime.now(UTC)
        await asyncio.sleep(1.2)
        assert (await csms.call(call.TriggerMessage(requested_message="Heartbeat"))).status == "Accepted"
        await csms.wait_for("Heartbeat")
        await asyncio.sleep(1.2)
        stop = datetime.now(UTC)
        await asyncio.sleep(1.2)
        answer = await csms.call(
            call.GetDiagnostics(location=server.url("/upload/"), start_time=_stamp(start), stop_time=_stamp(stop))
        )
        await _ends(csms, "Uploaded")
        members = _members((server.uploads / answer.file_name).read_bytes())
    frames = [json.loads(line) for line in members["frames.jsonl"].splitlines()]
    actions = {f["frame"][2] for f in frames if f["frame"][0] == 2}
    assert "Heartbeat" in actions and "TriggerMessage" in actions
    assert "BootNotification" not in actions and "GetDiagnostics" not in actions
    assert all(_stamp(start) <= f["time"] <= _stamp(stop) for f in frames)
    assert "BootNotification Accepted" not in members["station.log"]


async def test_upload_to_a_closed_port_ends_in_upload_failed_after_the_retries(
    csms: Csms, make_daemon, unused_tcp_port: int
) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    location = f"ftp://127.0.0.1:{unused_tcp_port}/uploads/"
    answer = await csms.call(call.GetDiagnostics(location=location, retries=1, retry_interval=1))
    assert answer.file_name
    await _ends(csms, "UploadFailed")
    assert _statuses(csms) == ["Uploading", "UploadFailed"]
    await logged(daemon, "attempt 2 of 2 failed")
    assert "cannot connect" in daemon.logs()
    assert not list((daemon.data_dir / "diagnostics").glob("*")), "the archive is not left on the flash"


@asynccontextmanager
async def _slow_upload_server(delay: float) -> AsyncIterator[str]:
    """Takes `delay` seconds before reading a PUT: long enough to ask what is going on."""

    async def put(request: web.Request) -> web.Response:
        await asyncio.sleep(delay)
        await request.read()
        return web.Response(status=201)

    app = web.Application()
    app.router.add_put("/{name}", put)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()


async def test_trigger_message_reports_uploading_while_it_happens(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wallbox")
    await booted(csms, daemon)
    async with _slow_upload_server(3.0) as location:
        assert (await csms.call(call.GetDiagnostics(location=location))).file_name
        await eventually(lambda: _statuses(csms) == ["Uploading"], 10, "Uploading")
        assert (await csms.call(call.TriggerMessage(requested_message="DiagnosticsStatusNotification"))).status == "Accepted"
        await eventually(lambda: _statuses(csms)[:2] == ["Uploading", "Uploading"], 5, "a triggered Uploading")
        assert (await csms.call(call.GetDiagnostics(location=location))).file_name is None, "one upload at a time"
        assert (await daemon.status())["diagnostics"]["status"] == "Uploading"
        await _ends(csms, "Uploaded")
    assert (await csms.call(call.TriggerMessage(requested_message="DiagnosticsStatusNotification"))).status == "Accepted"
    await eventually(lambda: _statuses(csms)[-1] == "Idle", 5, "Idle once nothing is under way")
