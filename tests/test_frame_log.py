"""The frame log rotates by size into `frame_log_files` files of `frame_log_max_bytes`, and
GetDiagnostics still sends every file kept (issue 12, item 7)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from ocpp.v16 import call

from chargepoint.infra.clock import Clock
from chargepoint.infra.secrets import SecretScrubber
from chargepoint.link.framelog import FrameLog
from tests.conftest import Csms, booted
from tests.file_servers import HttpFileServer

FRAME = '[2,"{n}","Heartbeat",{{}}]'


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _numbers(paths: tuple[Path, ...]) -> list[int]:
    """The CALL numbers recorded in `paths`, in file order."""
    return [int(json.loads(line)["frame"][1]) for path in paths if path.exists() for line in _lines(path)]


def _log(path: Path, max_bytes: int, files: int) -> FrameLog:
    return FrameLog(path, Clock(), SecretScrubber(), max_bytes, files)


@pytest.mark.parametrize("files", [1, 2, 4])
def test_the_log_keeps_its_newest_frames_in_so_many_files_of_capped_size(tmp_path: Path, files: int) -> None:
    path = tmp_path / "frames.jsonl"
    frame_log = _log(path, 1000, files)
    for n in range(200):
        frame_log.record("in", FRAME.format(n=n))
    frame_log.close()
    assert sorted(tmp_path.iterdir()) == sorted(frame_log.files)
    assert frame_log.files[-1] == path and len(frame_log.files) == files
    longest = max(len(line) + 1 for p in frame_log.files for line in _lines(p))
    assert all(p.stat().st_size <= 1000 + longest for p in frame_log.files)
    kept = _numbers(frame_log.files)
    assert kept == list(range(200 - len(kept), 200))  # oldest first, none lost between files


def test_the_log_survives_a_restart_and_drops_what_fewer_files_no_longer_keep(tmp_path: Path) -> None:
    path = tmp_path / "frames.jsonl"
    frame_log = _log(path, 1000, 4)
    for n in range(100):
        frame_log.record("in", FRAME.format(n=n))
    frame_log.close()
    assert (tmp_path / "frames.jsonl.3").exists()
    frame_log = _log(path, 1000, 2)
    frame_log.record("in", FRAME.format(n=100))
    frame_log.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames.jsonl", "frames.jsonl.1"]
    assert _numbers(frame_log.files)[-2:] == [99, 100]


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("frame_log_max_bytes = 1000", "greater than or equal to 65536"),
        ("frame_log_max_bytes = \"big\"", "valid integer"),
        ("frame_log_files = 0", "greater than or equal to 1"),
        ("frame_log_files = 1000", "less than or equal to 100"),
    ],
)
async def test_a_bad_rotation_setting_is_one_line_naming_it(make_daemon, line: str, named: str) -> None:
    daemon = make_daemon(start=False)
    daemon.config_file.write_text(daemon.config_file.read_text() + line + "\n")
    result = await daemon.cli("config", "get")
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert f"setting {line.split()[0]}: " in result.err and named in result.err, result.err


async def test_diagnostics_send_every_frame_log_file_kept(csms: Csms, make_daemon, tmp_path: Path) -> None:
    daemon = make_daemon(csms, frame_log_max_bytes=65536, frame_log_files=3)
    await booted(csms, daemon)
    oldest = daemon.frame_log.with_name("frames.jsonl.2")
    for _ in range(200):  # each full GetConfiguration answer is a few KiB of frames
        if oldest.exists():
            break
        await csms.call(call.GetConfiguration())
    assert oldest.exists() and not daemon.frame_log.with_name("frames.jsonl.3").exists()
    first_kept = _lines(oldest)[0]
    async with HttpFileServer(tmp_path / "www") as server:
        answer = await csms.call(call.GetDiagnostics(location=server.url("/upload/")))
        await csms.wait_for("DiagnosticsStatusNotification", lambda p: p["status"] == "Uploaded", timeout=20)
        with tarfile.open(fileobj=io.BytesIO((server.uploads / answer.file_name).read_bytes()), mode="r:gz") as tar:
            member = tar.extractfile("frames.jsonl")
            assert member is not None
            sent = member.read().decode()
    assert sent.startswith(first_kept + "\n")
