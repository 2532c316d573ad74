"""HTTP(S) transfers with aiohttp: a GET streamed to disk (resumed with Range), a PUT streamed
from disk, and a multipart POST for servers that will not take a PUT."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from chargepoint.transfer.disk import check_cap, check_room, write_failure
from chargepoint.transfer.errors import TransferFailed
from chargepoint.transfer.options import TransferOptions
from chargepoint.transfer.urls import redact

BLOCK = 64 * 1024
READ_BLOCK = 512 * 1024  # from disk in a worker thread: fewer, larger hand-offs, memory still flat
_TOTAL = re.compile(r"bytes \*/(\d+)")
_REFUSES_PUT = (405, 501)


def _session(options: TransferOptions) -> aiohttp.ClientSession:
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=options.stall_timeout, sock_read=options.stall_timeout)
    connector = aiohttp.TCPConnector(ssl=options.ssl() if options.ssl is not None else True)
    return aiohttp.ClientSession(timeout=timeout, connector=connector, auto_decompress=False)


def _failure(exc: BaseException, url: str, options: TransferOptions) -> TransferFailed:
    """One line a technician can act on, for the errors aiohttp and the OS raise."""
    where = redact(url)
    match exc:
        case aiohttp.ClientConnectorCertificateError() | aiohttp.ClientSSLError():
            return TransferFailed(f"TLS: {exc} ({where})")
        case aiohttp.ClientConnectorError():
            return TransferFailed(f"cannot connect to {exc.host}:{exc.port}: {exc.os_error.strerror or exc.os_error}")
        case asyncio.TimeoutError() | aiohttp.ServerTimeoutError():
            return TransferFailed(f"no data for {options.stall_timeout:g} s (stalled) from {where}")
        case aiohttp.InvalidURL():
            return TransferFailed(f"not a usable URL: {where}")
        case _:
            return TransferFailed(f"{type(exc).__name__}: {exc} ({where})")


async def download_http(url: str, dest: Path, options: TransferOptions) -> None:
    present = dest.stat().st_size if dest.exists() else 0
    headers = {"Range": f"bytes={present}-"} if present else {}
    try:
        async with _session(options) as session, session.get(url, headers=headers) as response:
            if response.status == 416 and _complete(response, present):
                return
            if response.status not in (200, 206):
                raise TransferFailed(f"HTTP {response.status} {response.reason} from {redact(url)}")
            offset = present if response.status == 206 else 0
            check_room(dest, offset, response.content_length, options)
            await _stream_to(dest, offset, response.content.iter_chunked(BLOCK), options)
    except TransferFailed:
        raise
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        raise _failure(exc, url, options) from None


def _complete(response: aiohttp.ClientResponse, present: int) -> bool:
    """416 to a Range starting at our size: whole if the server's total is what we have."""
    match = _TOTAL.fullmatch(response.headers.get("Content-Range", ""))
    return match is not None and int(match.group(1)) == present


async def _stream_to(dest: Path, offset: int, chunks: AsyncIterator[bytes], options: TransferOptions) -> None:
    """Append from `offset` (0 starts over), flushed to the medium at the end."""
    try:
        with dest.open("r+b" if offset else "wb") as out:
            if offset:  # "wb" already emptied it
                out.truncate(offset)
                out.seek(offset)
            written = offset
            async for chunk in chunks:
                written += len(chunk)
                check_cap(written, options)
                out.write(chunk)
            out.flush()
            await asyncio.to_thread(os.fsync, out.fileno())
    except (aiohttp.ClientError, TimeoutError):
        raise  # the network's failure, not the disk's (both are OSErrors)
    except OSError as exc:
        raise write_failure(exc, dest) from None


async def _file_blocks(source: Path) -> AsyncIterator[bytes]:
    with source.open("rb") as data:
        while block := await asyncio.to_thread(data.read, READ_BLOCK):
            yield block


async def upload_http(url: str, source: Path, file_name: str, options: TransferOptions) -> None:
    try:
        async with _session(options) as session:
            headers = {"Content-Length": str(source.stat().st_size), "Content-Type": "application/gzip"}
            async with session.put(url, data=_file_blocks(source), headers=headers) as response:
                status, reason = response.status, response.reason
            if status in _REFUSES_PUT:
                status, reason = await _post_form(session, url, source, file_name)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        raise _failure(exc, url, options) from None
    except OSError as exc:
        raise TransferFailed(f"cannot read {source.name}: {exc.strerror or exc}") from None
    if not 200 <= status < 300:
        raise TransferFailed(f"HTTP {status} {reason} from {redact(url)}")


async def _post_form(session: aiohttp.ClientSession, url: str, source: Path, file_name: str) -> tuple[int, Any]:
    with source.open("rb") as data:
        form = aiohttp.FormData()
        form.add_field("file", data, filename=file_name, content_type="application/gzip")
        async with session.post(url, data=form) as response:
            return response.status, response.reason
