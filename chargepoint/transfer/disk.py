"""The checks a download makes before and while it writes: the size cap and the free disk."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from chargepoint.transfer.errors import TransferFailed
from chargepoint.transfer.options import TransferOptions


def check_room(dest: Path, present: int, remaining: int | None, options: TransferOptions) -> None:
    """Before the first byte: a file over the cap, or one the disk cannot hold, is refused."""
    if remaining is None:
        return
    total = present + remaining
    if total > options.max_bytes:
        raise TransferFailed(f"file is {total} bytes, over the cap of {options.max_bytes} bytes")
    free = shutil.disk_usage(dest.parent).free
    if free < remaining + options.reserve_bytes:
        raise TransferFailed(f"disk full: {free} bytes free in {dest.parent}, {remaining + options.reserve_bytes} needed")


def check_cap(written: int, options: TransferOptions) -> None:
    """While streaming: a server that sends more than it announced is cut off at the cap."""
    if written > options.max_bytes:
        raise TransferFailed(f"file is over the cap of {options.max_bytes} bytes")


def write_failure(exc: OSError, dest: Path) -> TransferFailed:
    if exc.errno == errno.ENOSPC:
        return TransferFailed(f"disk full while writing {dest.name}")
    return TransferFailed(f"cannot write {dest.name}: {exc.strerror or exc}")
