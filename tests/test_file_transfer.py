"""chargepoint.transfer against real HTTP(S) and FTP servers on 127.0.0.1 (§8)."""

from __future__ import annotations

import asyncio
import os
import ssl
from pathlib import Path

import pytest
import trustme

from chargepoint.transfer.errors import TransferFailed
from chargepoint.transfer.files import download, upload
from chargepoint.transfer.options import TransferOptions
from chargepoint.transfer.urls import protocol_of, redact, upload_target
from tests.file_servers import FTP_PASSWORD, FtpFileServer, HttpFileServer, make_file

SIZE = 300_000
OPTIONS = TransferOptions(max_bytes=10 * SIZE, stall_timeout=2.0)


@pytest.fixture
async def http(tmp_path: Path):
    async with HttpFileServer(tmp_path / "www") as server:
        make_file(server.root / "fw-1.2.3.bin", SIZE)
        yield server


@pytest.fixture
def ftp(tmp_path: Path):
    with FtpFileServer(tmp_path / "ftp") as server:
        make_file(server.root / "fw.bin", SIZE)
        (server.root / "in").mkdir()
        yield server


async def test_http_download_is_byte_identical(http: HttpFileServer, tmp_path: Path) -> None:
    await download(http.url("/fw-1.2.3.bin"), tmp_path / "got", OPTIONS)
    assert (tmp_path / "got").read_bytes() == (http.root / "fw-1.2.3.bin").read_bytes()


async def test_http_download_resumes_with_a_range(http: HttpFileServer, tmp_path: Path) -> None:
    original = (http.root / "fw-1.2.3.bin").read_bytes()
    (tmp_path / "got").write_bytes(original[:1000])
    await download(http.url("/fw-1.2.3.bin"), tmp_path / "got", OPTIONS)
    assert (tmp_path / "got").read_bytes() == original
    assert http.requests[-1][2].get("Range") == "bytes=1000-"


async def test_a_server_ignoring_the_range_gets_the_file_once(http: HttpFileServer, tmp_path: Path) -> None:
    http.ignore_ranges = True
    original = (http.root / "fw-1.2.3.bin").read_bytes()
    (tmp_path / "got").write_bytes(original[:1000])
    await download(http.url("/fw-1.2.3.bin"), tmp_path / "got", OPTIONS)
    assert (tmp_path / "got").read_bytes() == original


async def test_an_already_complete_file_is_kept(http: HttpFileServer, tmp_path: Path) -> None:
    original = (http.root / "fw-1.2.3.bin").read_bytes()
    (tmp_path / "got").write_bytes(original)
    await download(http.url("/fw-1.2.3.bin"), tmp_path / "got", OPTIONS)
    assert (tmp_path / "got").read_bytes() == original


async def test_ftp_download_with_credentials_and_resume(ftp: FtpFileServer, tmp_path: Path) -> None:
    original = (ftp.root / "fw.bin").read_bytes()
    await download(ftp.url("/fw.bin"), tmp_path / "whole", OPTIONS)
    assert (tmp_path / "whole").read_bytes() == original
    (tmp_path / "part").write_bytes(original[:5000])
    await download(ftp.url("/fw.bin"), tmp_path / "part", OPTIONS)
    assert (tmp_path / "part").read_bytes() == original
    assert ("REST", "5000") in ftp.commands


@pytest.mark.parametrize(
    ("path", "options", "cause"),
    [
        ("/missing.bin", OPTIONS, "HTTP 404"),
        ("/fw-1.2.3.bin", TransferOptions(max_bytes=SIZE // 2, stall_timeout=2.0), "over the cap"),
    ],
)
async def test_http_download_failures_name_the_cause(http, tmp_path: Path, path: str, options, cause: str) -> None:
    with pytest.raises(TransferFailed, match=cause):
        await download(http.url(path), tmp_path / "got", options)
    assert not (tmp_path / "got").exists() or (tmp_path / "got").stat().st_size <= options.max_bytes


async def test_a_stalled_server_times_out(http: HttpFileServer, tmp_path: Path) -> None:
    http.stall_after = 1000
    with pytest.raises(TransferFailed, match="stalled"):
        await download(http.url("/fw-1.2.3.bin"), tmp_path / "got", TransferOptions(SIZE * 2, stall_timeout=0.5))
    assert (tmp_path / "got").stat().st_size == 1000, "what arrived stays, for the resume"


async def test_a_closed_port_cannot_connect(tmp_path: Path, unused_tcp_port: int) -> None:
    for url in (f"http://127.0.0.1:{unused_tcp_port}/x", f"ftp://127.0.0.1:{unused_tcp_port}/x"):
        with pytest.raises(TransferFailed, match="cannot connect"):
            await download(url, tmp_path / "got", OPTIONS)
    with pytest.raises(TransferFailed, match="cannot connect"):
        await upload(f"ftp://127.0.0.1:{unused_tcp_port}/in/", make_file(tmp_path / "up", 10), "up", OPTIONS)


async def test_https_needs_a_trusted_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    async with HttpFileServer(tmp_path / "www", ssl_context=server_context) as server:
        make_file(server.root / "fw.bin", SIZE)
        with pytest.raises(TransferFailed, match="^TLS"):
            await download(server.url("/fw.bin"), tmp_path / "got", OPTIONS)
        trusting = ssl.create_default_context()
        ca.configure_trust(trusting)
        await download(server.url("/fw.bin"), tmp_path / "got", TransferOptions(SIZE * 2, 2.0, lambda: trusting))
        assert (tmp_path / "got").read_bytes() == (server.root / "fw.bin").read_bytes()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
async def test_a_full_disk_fails_the_download(http: HttpFileServer, tmp_path: Path) -> None:
    (tmp_path / "got").symlink_to("/dev/full")
    with pytest.raises(TransferFailed, match="disk full"):
        await download(http.url("/fw-1.2.3.bin"), tmp_path / "got", OPTIONS)


async def test_ftp_failures_name_the_cause_and_never_the_password(ftp: FtpFileServer, tmp_path: Path) -> None:
    with pytest.raises(TransferFailed, match="FTP 550") as missing:
        await download(ftp.url("/nope.bin"), tmp_path / "got", OPTIONS)
    wrong = ftp.url("/fw.bin").replace(FTP_PASSWORD, "wrong-pw")
    with pytest.raises(TransferFailed, match="FTP 530") as refused:
        await download(wrong, tmp_path / "got", OPTIONS)
    assert FTP_PASSWORD not in str(missing.value) and "wrong-pw" not in str(refused.value)


async def test_uploads_by_put_multipart_post_and_ftp(http: HttpFileServer, ftp: FtpFileServer, tmp_path: Path) -> None:
    source = make_file(tmp_path / "diag.tar.gz", SIZE)
    await upload(http.url("/upload/"), source, "a.tar.gz", OPTIONS)
    await upload(http.url("/form/diagnostics"), source, "b.tar.gz", OPTIONS)
    await upload(ftp.url("/in/"), source, "c.tar.gz", OPTIONS)
    assert (http.uploads / "a.tar.gz").read_bytes() == source.read_bytes()
    assert (http.uploads / "b.tar.gz").read_bytes() == source.read_bytes()
    assert (ftp.root / "in" / "c.tar.gz").read_bytes() == source.read_bytes()
    assert [r[0] for r in http.requests if r[1].startswith("/form/")] == ["PUT", "POST"]


async def test_an_unsupported_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TransferFailed, match="unsupported scheme 'sftp'"):
        await download("sftp://h/x", tmp_path / "got", OPTIONS)


async def test_cancelling_an_ftp_download_ends_it(tmp_path: Path) -> None:
    with FtpFileServer(tmp_path / "ftp") as server:
        make_file(server.root / "big.bin", 64 * 1024 * 1024)
        roomy = TransferOptions(max_bytes=1 << 30, stall_timeout=2.0)
        task = asyncio.create_task(download(server.url("/big.bin"), tmp_path / "got", roomy))
        while not (tmp_path / "got").exists() or (tmp_path / "got").stat().st_size == 0:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.5)
        size = (tmp_path / "got").stat().st_size
        await asyncio.sleep(0.5)
        assert (tmp_path / "got").stat().st_size == size < 64 * 1024 * 1024, "the thread stopped writing"


@pytest.mark.parametrize(
    ("url", "protocol", "redacted"),
    [
        ("ftp://u:p@h:21/a", "FTP", "ftp://********@h:21/a"),
        ("HTTPS://h/a", "HTTPS", "HTTPS://h/a"),
        ("http://u@h/a@b", "HTTP", "http://********@h/a@b"),
        ("sftp://h/a", None, "sftp://h/a"),
    ],
)
def test_urls(url: str, protocol: str | None, redacted: str) -> None:
    assert protocol_of(url) == protocol and redact(url) == redacted


@pytest.mark.parametrize(
    ("location", "target"),
    [
        ("ftp://h/in/", "ftp://h/in/f.tar.gz"),
        ("ftp://h/in", "ftp://h/in/f.tar.gz"),
        ("ftp://h", "ftp://h/f.tar.gz"),
        ("http://h/upload/", "http://h/upload/f.tar.gz"),
        ("http://h/upload?token=1", "http://h/upload?token=1"),
    ],
)
def test_upload_target(location: str, target: str) -> None:
    assert upload_target(location, "f.tar.gz") == target
