"""Firmware and diagnostics file transfer: throughput against curl, and memory during a transfer.

Why: a firmware image is the largest thing the station ever moves, on a board with little RAM
and while it keeps charging. So: a 50 MB file over loopback, downloaded (HTTP GET, FTP RETR)
and uploaded (HTTP PUT, FTP STOR) by the station's own `chargepoint.transfer` in a child
process, and by `curl` against the same servers; the median of --runs, the ratio station/curl,
and the child's peak RSS (VmHWM) before the transfer and after it: flat means streamed.

Usage: .venv/bin/python bench/transfer.py [--runs 5] [--size-mb 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.file_servers import FtpFileServer, HttpFileServer, make_file  # noqa: E402


def _peak_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def child(operation: str, url: str, path: str) -> None:
    """One transfer by the station's code; prints seconds and VmHWM before and after."""
    import chargepoint.transfer.ftp  # noqa: F401  (loaded before the baseline, like the station)
    import chargepoint.transfer.http  # noqa: F401
    from chargepoint.transfer.files import download, upload
    from chargepoint.transfer.options import TransferOptions

    options = TransferOptions(max_bytes=1 << 34, stall_timeout=30.0)
    before = _peak_rss_kib()
    started = time.perf_counter()
    if operation == "download":
        asyncio.run(download(url, Path(path), options))
    else:
        asyncio.run(upload(url, Path(path), "upload.bin", options))
    print(json.dumps({"seconds": time.perf_counter() - started, "rss_before": before, "rss_after": _peak_rss_kib()}))


def station(operation: str, url: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", operation, url, str(path)], check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out))


def curl(operation: str, url: str, path: Path) -> float:
    args = ["curl", "-sS", "-o", str(path), url] if operation == "download" else ["curl", "-sS", "-T", str(path), url]
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


class _HttpInThread:
    """The test suite's aiohttp file server, on its own loop so the bench's subprocesses wait freely."""

    def __init__(self, root: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = HttpFileServer(root)
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self.server.__aenter__(), self.loop).result(10)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.__aexit__(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


def measure(
    name: str, runs: int, size: int, operation: str, urls: tuple[str, str], path: Path, clean: Callable[[], None]
) -> None:
    """`urls`: the station's (an upload names a directory, as GetDiagnostics does) and curl's."""
    ours, theirs, rss = [], [], []
    for _ in range(runs):
        clean()
        result = station(operation, urls[0], path)
        ours.append(result["seconds"])
        rss.append((result["rss_before"], result["rss_after"]))
        clean()
        theirs.append(curl(operation, urls[1], path))
    mb = size / 1e6
    station_rate, curl_rate = mb / statistics.median(ours), mb / statistics.median(theirs)
    before, after = statistics.median(r[0] for r in rss), statistics.median(r[1] for r in rss)
    print(
        f"{name:14s} station {station_rate:7.1f} MB/s  curl {curl_rate:7.1f} MB/s  ratio {station_rate / curl_rate:.2f}"
        f"  peak RSS before {before / 1024:.1f} MiB, after {after / 1024:.1f} MiB  runs={runs}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--child", nargs=3, metavar=("OPERATION", "URL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if shutil.which("curl") is None:
        sys.exit("bench/transfer.py needs curl for the baseline")
    size = args.size_mb * 1_000_000
    with tempfile.TemporaryDirectory(prefix="cp-transfer-") as tmp:
        work = Path(tmp)
        image = make_file(work / "www" / "image.bin", size)
        (work / "ftp").mkdir()
        shutil.copy(image, work / "ftp" / "image.bin")
        got = work / "got.bin"
        http = _HttpInThread(work / "www")
        try:
            with FtpFileServer(work / "ftp") as ftp:
                drop = lambda: got.unlink(missing_ok=True)  # noqa: E731
                web, files = http.server.url("/image.bin"), ftp.url("/image.bin")
                measure("HTTP download", args.runs, size, "download", (web, web), got, drop)
                measure("FTP download", args.runs, size, "download", (files, files), got, drop)
                keep = lambda: None  # noqa: E731
                put = (http.server.url("/upload/"), http.server.url("/upload/upload.bin"))
                measure("HTTP upload", args.runs, size, "upload", put, image, keep)
                measure("FTP upload", args.runs, size, "upload", (ftp.url("/"), ftp.url("/upload.bin")), image, keep)
        finally:
            http.close()


if __name__ == "__main__":
    main()
