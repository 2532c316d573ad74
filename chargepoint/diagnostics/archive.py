"""The diagnostics file: one tar.gz a CSMS operator can open with any archiver.

It is written from files the station already keeps (its rotating log, the frame log, both
scrubbed as they were written) and from what the database knows, and every text goes through
the secret scrubber once more on its way in: the archive leaves the station, so nothing may
ride along that a log line let slip.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chargepoint.diagnostics.window import Window, frame_log_lines, station_log_lines


@dataclass(frozen=True)
class Contents:
    """What goes in, gathered by the feature at the moment of the request."""

    station_logs: tuple[Path, ...]  # oldest first: the rotated file, then the current one
    frame_logs: tuple[Path, ...]
    tables: dict[str, Any] = field(default_factory=dict)  # name.json -> JSON-ready data


def write_archive(path: Path, contents: Contents, window: Window, scrub: Callable[[str], str]) -> None:
    """Blocking: run it in a worker thread. The logs are streamed line by line."""
    with tarfile.open(path, "w:gz") as archive:
        _add_lines(archive, "station.log", station_log_lines(_read(contents.station_logs), window), scrub)
        _add_lines(archive, "frames.jsonl", frame_log_lines(_read(contents.frame_logs), window), scrub)
        for name, data in contents.tables.items():
            _add_text(archive, f"{name}.json", scrub(json.dumps(data, indent=2, default=str)) + "\n")


def _read(paths: Iterable[Path]) -> Iterator[str]:
    for path in paths:
        try:
            with path.open(encoding="utf-8", errors="replace") as lines:
                yield from lines
        except FileNotFoundError:
            continue  # not written yet, or rotated away meanwhile


def _add_lines(archive: tarfile.TarFile, name: str, lines: Iterable[str], scrub: Callable[[str], str]) -> None:
    """Through a temporary file, not memory: a tar member states its size before its bytes."""
    with tempfile.TemporaryFile() as spool:
        for line in lines:
            spool.write(scrub(line).encode())
        size = spool.tell()
        spool.seek(0)
        archive.addfile(_member(name, size), spool)


def _add_text(archive: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode()
    archive.addfile(_member(name, len(data)), io.BytesIO(data))


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(time.time()), 0o600
    return info
