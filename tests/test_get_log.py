"""GetLog and LogStatusNotification (whitepaper N01): both logs really travel to file servers on
127.0.0.1, keep to oldestTimestamp / latestTimestamp, and every failure ends in the status that
names it, each notification carrying the GetLog's requestId (N01.FR.07)."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import socket
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ocpp.v16 import call
from ocpp.v16.enums import UploadLogStatus

from chargepoint.security.get_log import upload_status
from tests.conftest import booted, eventually
from tests.csms import Csms
from tests.file_servers import FtpFileServer, HttpFileServer
from tests.helpers import cli_ok


def _statuses(csms: Csms, request_id: int) -> list[str]:
    return [f.payload["status"] for f in csms.received("LogStatusNotification") if f.payload.get("requestId") == request_id]


async def _ends(csms: Csms, request_id: int, count: int = 2) -> list[str]:
    await eventually(lambda: len(_statuses(csms, request_id)) >= count, 20, f"LogStatusNotification of {request_id}")
    return _statuses(csms, request_id)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _get_log(kind: str, request_id: int, location: str, **window: str) -> call.GetLog:
    return call.GetLog(log_type=kind, request_id=request_id, log={"remoteLocation": location, **window}, retries=0)


async def test_n01_both_logs_upload_by_http_within_their_window(csms: Csms, make_daemon, tmp_path: Path) -> None:
    async with HttpFileServer(tmp_path / "www") as server:
        daemon = make_daemon(csms)
        await booted(csms, daemon)
        await csms.wait_for("SecurityEventNotification", lambda p: p["type"] == "StartupOfTheDevice")
        # The station's clock follows the CSMS's whole-second currentTime, up to 1 s behind.
        after_startup = datetime.now(UTC) + timedelta(seconds=1.5)
        await asyncio.sleep(1.6)
        await cli_ok(daemon, "tamper")
        answer = await csms.call(_get_log("SecurityLog", 7, server.url("/upload/"), oldestTimestamp=_stamp(after_startup)))
        assert answer.status == "Accepted" and answer.filename.endswith(".jsonl.gz")
        assert await _ends(csms, 7) == ["Uploading", "Uploaded"]
        lines = gzip.decompress((server.uploads / answer.filename).read_bytes()).decode().splitlines()
        assert [json.loads(line)["event"] for line in lines] == ["TamperDetectionActivated"]

        answer = await csms.call(_get_log("DiagnosticsLog", 8, server.url("/upload/")))
        assert answer.status == "Accepted" and answer.filename.endswith(".tar.gz")
        assert await _ends(csms, 8) == ["Uploading", "Uploaded"]
        with tarfile.open(fileobj=io.BytesIO((server.uploads / answer.filename).read_bytes()), mode="r:gz") as tar:
            assert {"station.log", "frames.jsonl", "configuration.json"} <= set(tar.getnames())


async def test_n01_fr_10_11_failures_name_their_cause_and_a_new_request_cancels(
    csms: Csms, make_daemon, tmp_path: Path
) -> None:
    with FtpFileServer(tmp_path / "ftp") as ftp:
        daemon = make_daemon(csms, profile="wallbox")
        await booted(csms, daemon)
        anonymous = ftp.url("/", credentials=False)  # may read, not write: 550
        assert (await csms.call(_get_log("SecurityLog", 1, anonymous))).status == "Accepted"
        assert await _ends(csms, 1) == ["Uploading", "PermissionDenied"]
        assert (await csms.call(_get_log("SecurityLog", 2, "sftp://127.0.0.1/logs/"))).status == "Accepted"
        assert await _ends(csms, 2) == ["Uploading", "NotSupportedOperation"]
        assert (await csms.call(_get_log("SecurityLog", 3, "no location"))).status == "Rejected"

        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/upload/"
        slow = call.GetLog(log_type="SecurityLog", request_id=4, log={"remoteLocation": nowhere}, retries=3, retry_interval=60)
        assert (await csms.call(slow)).status == "Accepted"
        await _ends(csms, 4, count=1)
        assert (await csms.call(_get_log("SecurityLog", 5, ftp.url("/")))).status == "AcceptedCanceled"
        assert await _ends(csms, 5) == ["Uploading", "Uploaded"]
        assert _statuses(csms, 4) == ["Uploading"]  # cancelled: nothing more of it
        assert [p for p in ftp.root.iterdir() if p.name.endswith(".jsonl.gz")]
    assert _statuses(csms, 3) == []


@pytest.mark.parametrize(
    ("cause", "status"),
    [
        (None, UploadLogStatus.uploaded),
        ("HTTP 401 Unauthorized from http://h/x", UploadLogStatus.permission_denied),
        ("HTTP 403 Forbidden from http://h/x", UploadLogStatus.permission_denied),
        ("FTP 530 Login incorrect.", UploadLogStatus.permission_denied),
        ("FTP 550 Not enough privileges.", UploadLogStatus.permission_denied),
        ("unsupported scheme 'sftp' (supported: ftp, http, https)", UploadLogStatus.not_supported_operation),
        ("HTTP 405 Method Not Allowed from http://h/x", UploadLogStatus.not_supported_operation),
        ("HTTP 400 Bad Request from http://h/x", UploadLogStatus.bad_message),
        ("not a usable URL: http://", UploadLogStatus.bad_message),
        ("HTTP 500 Internal Server Error from http://h/x", UploadLogStatus.upload_failure),
        ("cannot connect to 127.0.0.1:9: connection refused", UploadLogStatus.upload_failure),
    ],
)
def test_n01_fr_10_a_transfer_failure_maps_to_the_status_that_describes_it(cause: str | None, status: UploadLogStatus) -> None:
    assert upload_status(cause) == status
