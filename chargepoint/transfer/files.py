"""The package's entry points: a download or an upload, by the URL's scheme."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from chargepoint.transfer.errors import TransferFailed
from chargepoint.transfer.options import TransferOptions
from chargepoint.transfer.urls import SCHEMES, upload_target


def _scheme(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        raise TransferFailed(f"unsupported scheme {scheme!r} (supported: {', '.join(sorted(SCHEMES))})")
    return scheme


async def download(url: str, dest: Path, options: TransferOptions) -> None:
    """Into `dest`, resuming from what it holds; raises TransferFailed."""
    if _scheme(url) == "ftp":
        from chargepoint.transfer.ftp import download_ftp

        await download_ftp(url, dest, options)
    else:
        from chargepoint.transfer.http import download_http  # aiohttp: loaded when first needed

        await download_http(url, dest, options)


async def upload(url: str, source: Path, file_name: str, options: TransferOptions) -> None:
    """`source` as `file_name` into the directory `url` names; raises TransferFailed."""
    target = upload_target(url, file_name)
    if _scheme(url) == "ftp":
        from chargepoint.transfer.ftp import upload_ftp

        await upload_ftp(target, source, file_name, options)
    else:
        from chargepoint.transfer.http import upload_http

        await upload_http(target, source, file_name, options)
