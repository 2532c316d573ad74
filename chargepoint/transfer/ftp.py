"""FTP transfers with the standard library's ftplib, in a worker thread, passive and binary.

ftplib is part of Python, needs no dependency, and speaks REST, which resumes a download where
a power cut stopped it (§8.1). The thread checks a flag at every block, so cancelling the
awaiting task (a new UpdateFirmware) ends the transfer within one block or one stall timeout.
"""

from __future__ import annotations

import asyncio
import ftplib
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from chargepoint.transfer.disk import check_cap, check_room, write_failure
from chargepoint.transfer.errors import TransferFailed
from chargepoint.transfer.options import TransferOptions

BLOCK = 64 * 1024


class _Cancelled(Exception):
    """Raised inside the worker thread once the awaiting task is gone."""


async def _in_thread(work: Callable[[threading.Event], None]) -> None:
    stop = threading.Event()
    try:
        await asyncio.to_thread(work, stop)
    except asyncio.CancelledError:
        stop.set()
        raise


@contextmanager
def _connected(url: str, options: TransferOptions) -> Iterator[tuple[ftplib.FTP, str]]:
    """Logged in, binary, passive; the unquoted path of the URL."""
    parts = urlsplit(url)
    ftp = ftplib.FTP(timeout=options.stall_timeout)
    try:
        ftp.connect(parts.hostname or "", parts.port or 21)
        ftp.login(unquote(parts.username or "anonymous"), unquote(parts.password or "anonymous@"))
        ftp.set_pasv(True)
        ftp.voidcmd("TYPE I")
        yield ftp, unquote(parts.path) or "/"
    except ftplib.all_errors as exc:
        raise _failure(exc, parts.hostname, parts.port or 21) from None
    finally:
        ftp.close()


def _failure(exc: BaseException, host: str | None, port: int) -> TransferFailed:
    match exc:
        case TransferFailed():
            return exc
        case ftplib.Error():
            return TransferFailed(f"FTP {str(exc).strip().splitlines()[0]}")
        case socket.timeout() | TimeoutError():
            return TransferFailed(f"no data from {host}:{port} (stalled or unreachable)")
        case ConnectionRefusedError():
            return TransferFailed(f"cannot connect to {host}:{port}: connection refused")
        case OSError() if exc.errno is None or isinstance(exc, (socket.gaierror, ConnectionError)):
            return TransferFailed(f"cannot connect to {host}:{port}: {exc.strerror or exc}")
        case _:
            return TransferFailed(f"FTP transfer with {host}:{port} failed: {exc}")


def _size(ftp: ftplib.FTP, path: str) -> int | None:
    try:
        return ftp.size(path)
    except ftplib.error_perm:
        return None  # a server without SIZE: the cap is checked while streaming


def _fetch(url: str, dest: Path, options: TransferOptions, stop: threading.Event) -> None:
    present = dest.stat().st_size if dest.exists() else 0
    with _connected(url, options) as (ftp, path):
        size = _size(ftp, path)
        if size is not None and present == size:
            return  # already whole: the restart came after the last byte
        if size is not None and present > size:
            present = 0
        check_room(dest, present, None if size is None else size - present, options)
        try:
            with dest.open("r+b" if present else "wb") as out:
                if present:
                    out.truncate(present)
                    out.seek(present)
                written = present

                def block(data: bytes) -> None:
                    nonlocal written
                    if stop.is_set():
                        raise _Cancelled
                    written += len(data)
                    check_cap(written, options)
                    out.write(data)

                try:
                    ftp.retrbinary(f"RETR {path}", block, BLOCK, rest=present or None)
                except ftplib.error_perm as exc:
                    if not present or not str(exc).startswith(("500", "501", "502", "504")):
                        raise
                    out.seek(0)  # REST refused: start over
                    out.truncate(0)
                    written = 0
                    ftp.retrbinary(f"RETR {path}", block, BLOCK)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            if isinstance(exc, (socket.timeout, ConnectionError)):
                raise
            raise write_failure(exc, dest) from None


def _store(url: str, source: Path, file_name: str, options: TransferOptions, stop: threading.Event) -> None:
    with _connected(url, options) as (ftp, path):
        directory = str(PurePosixPath(path).parent) if not path.endswith("/") else path
        if directory not in ("", "/"):
            ftp.cwd(directory)
        with source.open("rb") as data:

            def sent(_: bytes) -> None:
                if stop.is_set():
                    raise _Cancelled

            ftp.storbinary(f"STOR {file_name}", data, BLOCK, sent)


async def download_ftp(url: str, dest: Path, options: TransferOptions) -> None:
    await _in_thread(lambda stop: _fetch(url, dest, options, stop))


async def upload_ftp(url: str, source: Path, file_name: str, options: TransferOptions) -> None:
    await _in_thread(lambda stop: _store(url, source, file_name, options, stop))
