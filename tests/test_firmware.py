"""Firmware Management (§5.19, §4.5): real downloads from HTTP and FTP servers on 127.0.0.1,
the wait for a running transaction, the install, and the outcome after the restart it brings.

The station is a real `chargepoint run` process. Its Hard-reset restart is its exit with
EXIT_HARD_RESET, after which the test starts it again, as systemd (Restart=always) would.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ocpp.v16 import call

from chargepoint.app.cli import EXIT_HARD_RESET
from tests.conftest import Csms, Daemon, booted, eventually
from tests.file_servers import FtpFileServer, HttpFileServer, make_file
from tests.helpers import charging, cli_ok, exited, logged, reaches

FACTORY_VERSION = "2.3.1"  # WEMOB's
IMAGE_SIZE = 256 * 1024


def _now(offset: float = 0.0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=offset)).isoformat(timespec="seconds").replace("+00:00", "Z")


def _statuses(csms: Csms, after: int = 0) -> list[str]:
    return [f.payload["status"] for f in csms.received("FirmwareStatusNotification")[after:]]


async def _statuses_reach(csms: Csms, expected: list[str], timeout: float = 20.0, after: int = 0) -> None:
    await eventually(lambda: _statuses(csms, after)[: len(expected)] == expected and len(_statuses(csms, after)) >= len(expected),
                     timeout, f"FirmwareStatusNotification {expected}, got {_statuses(csms, after)}")


async def _update(csms: Csms, location: str, **fields: int) -> None:
    await csms.call(call.UpdateFirmware(location=location, retrieve_date=_now(), **fields))


async def _restarted(csms: Csms, daemon: Daemon) -> dict:
    """Start the station again as systemd would after its Hard-reset exit; its new boot."""
    boots = len(csms.received("BootNotification"))
    daemon.start()
    frame = await csms.wait_for("BootNotification", after=_index_of_boot(csms, boots), timeout=20)
    return frame.payload


def _index_of_boot(csms: Csms, boots: int) -> int:
    """The frame index after the `boots`-th BootNotification, for waiting on the next one."""
    seen = 0
    for index, frame in enumerate(csms.frames):
        if frame.direction == "in" and frame.action == "BootNotification" and frame.message_type == 2:
            seen += 1
            if seen == boots:
                return index + 1
    return 0


async def test_update_over_http_installs_and_boots_the_new_version(csms: Csms, make_daemon, tmp_path: Path) -> None:
    async with HttpFileServer(tmp_path / "www") as server:
        make_file(server.root / "wemob-2.4.0.bin", IMAGE_SIZE)
        daemon = make_daemon(csms)
        await booted(csms, daemon)
        assert csms.received("BootNotification")[0].payload["firmwareVersion"] == FACTORY_VERSION
        await _update(csms, server.url("/wemob-2.4.0.bin"))
        await _statuses_reach(csms, ["Downloading", "Downloaded", "Installing"])
        assert await exited(daemon) == EXIT_HARD_RESET
        assert (await _restarted(csms, daemon))["firmwareVersion"] == "2.4.0"
        await _statuses_reach(csms, ["Downloading", "Downloaded", "Installing", "Installed"])
        await daemon.wait_socket()
        out = await cli_ok(daemon, "status")
        assert "firmware: 2.4.0  update: Idle" in out
        assert not list((daemon.data_dir / "firmware").glob("*")), "the image is not kept after the install"
        await asyncio.sleep(0.5)
        assert _statuses(csms)[-1] == "Installed", "Installed is reported once"


async def test_update_over_ftp_keeps_the_credentials_out_of_every_log(csms: Csms, make_daemon, tmp_path: Path) -> None:
    with FtpFileServer(tmp_path / "ftp") as server:
        make_file(server.root / "image.bin", IMAGE_SIZE)
        daemon = make_daemon(csms)
        await booted(csms, daemon)
        location = server.url("/image.bin")
        assert "s3cret-pw" in location
        await _update(csms, location)
        await _statuses_reach(csms, ["Downloading", "Downloaded", "Installing"])
        assert await exited(daemon) == EXIT_HARD_RESET
        version = (await _restarted(csms, daemon))["firmwareVersion"]
        assert len(version) == 12 and all(c in "0123456789abcdef" for c in version), "no X.Y.Z: the sha256 prefix"
        await _statuses_reach(csms, ["Downloading", "Downloaded", "Installing", "Installed"])
        assert "s3cret-pw" not in daemon.logs() and "s3cret-pw" not in daemon.frames()
        assert "********@127.0.0.1" in daemon.frames()


async def test_a_failing_download_is_tried_retries_times_retry_interval_apart(csms: Csms, make_daemon, tmp_path: Path) -> None:
    async with HttpFileServer(tmp_path / "www") as server:
        daemon = make_daemon(csms)
        await booted(csms, daemon)
        started = asyncio.get_running_loop().time()
        await _update(csms, server.url("/missing-2.4.0.bin"), retries=3, retry_interval=1)
        await _statuses_reach(csms, ["Downloading", "DownloadFailed"], timeout=20)
        tries = [r for r in server.requests if r[1] == "/missing-2.4.0.bin"]
        assert len(tries) == 3, "§6.55: retries is how many times the station tries"
        assert asyncio.get_running_loop().time() - started >= 2.0, "three tries, retryInterval apart"
        await logged(daemon, "firmware download from")
        assert "404" in daemon.logs()
        await daemon.wait_socket()
        assert "update: Idle" in await cli_ok(daemon, "status")
        assert daemon.process is not None and daemon.process.poll() is None, "a failed download restarts nothing"


async def test_a_failing_install_command_reports_installation_failed(csms: Csms, make_daemon, tmp_path: Path) -> None:
    async with HttpFileServer(tmp_path / "www") as server:
        make_file(server.root / "wemob-2.4.0.bin", IMAGE_SIZE)
        daemon = make_daemon(csms, firmware_install_command="sh -c 'echo bad signature >&2; exit 3' {file}")
        await booted(csms, daemon)
        await _update(csms, server.url("/wemob-2.4.0.bin"))
        await _statuses_reach(csms, ["Downloading", "Downloaded", "Installing", "InstallationFailed"])
        await logged(daemon, "exited with status 3: bad signature")
        await reaches(csms, 1, "Available", timeout=10)  # back in service: nothing was installed
        assert daemon.process is not None and daemon.process.poll() is None
        assert "firmware: 2.3.1  update: Idle" in await cli_ok(daemon, "status")


async def test_the_install_waits_for_the_running_transaction(csms: Csms, make_daemon, tmp_path: Path) -> None:
    """§5.19, errata 3.49: charging goes on; the free connector is Unavailable meanwhile."""
    async with HttpFileServer(tmp_path / "www") as server:
        make_file(server.root / "wemob-2.4.0.bin", IMAGE_SIZE)
        daemon = make_daemon(csms, model="wemob-parking-ac22")
        await booted(csms, daemon, connectors=2)
        await charging(csms, daemon)
        mark = len(csms.frames)
        await _update(csms, server.url("/wemob-2.4.0.bin"))
        await _statuses_reach(csms, ["Downloading", "Downloaded"])
        await reaches(csms, 2, "Unavailable", after=mark)
        await reaches(csms, 0, "Unavailable", after=mark)
        await asyncio.sleep(1.0)
        assert _statuses(csms) == ["Downloading", "Downloaded"], "no install while a transaction runs"
        status = await daemon.status()
        assert status["connectors"][0]["status"] == "Charging" and status["firmware"]["status"] == "Downloaded"
        refused = await daemon.cli("swipe", "TAG2", "--connector", "2")
        assert refused.code != 0 and "Unavailable" in refused.out + refused.err
        await cli_ok(daemon, "swipe", "TAG1")  # the driver ends the session
        await csms.wait_for("StopTransaction", after=mark, timeout=10)
        await _statuses_reach(csms, ["Downloading", "Downloaded", "Installing"])
        assert await exited(daemon) == EXIT_HARD_RESET
        assert (await _restarted(csms, daemon))["firmwareVersion"] == "2.4.0"
        await _statuses_reach(csms, ["Downloading", "Downloaded", "Installing", "Installed"])


async def test_a_power_cut_during_the_download_resumes_it_after_the_restart(csms: Csms, make_daemon, tmp_path: Path) -> None:
    async with HttpFileServer(tmp_path / "www") as server:
        make_file(server.root / "wemob-2.4.0.bin", IMAGE_SIZE)
        server.stall_after = IMAGE_SIZE // 2
        daemon = make_daemon(csms)
        await booted(csms, daemon)
        await _update(csms, server.url("/wemob-2.4.0.bin"), retries=1)
        await _statuses_reach(csms, ["Downloading"])
        partial = daemon.data_dir / "firmware" / "wemob-2.4.0.bin"
        await eventually(lambda: partial.exists() and partial.stat().st_size >= IMAGE_SIZE // 4, 10, "half the image on disk")
        daemon.kill()
        server.stall_after = None
        daemon.start()
        await _statuses_reach(csms, ["Downloading", "Downloading", "Downloaded", "Installing"], timeout=30)
        ranges = [r[2].get("Range") for r in server.requests if r[1] == "/wemob-2.4.0.bin"]
        assert ranges[-1] is not None and ranges[-1].startswith("bytes=") and ranges[-1] != "bytes=0-", ranges
        assert await exited(daemon) == EXIT_HARD_RESET
        assert (await _restarted(csms, daemon))["firmwareVersion"] == "2.4.0"
        await _statuses_reach(csms, ["Downloading", "Downloading", "Downloaded", "Installing", "Installed"])


async def test_a_power_cut_during_the_install_leaves_the_old_firmware_and_says_so(csms: Csms, make_daemon, tmp_path: Path) -> None:
    async with HttpFileServer(tmp_path / "www") as server:
        make_file(server.root / "wemob-2.4.0.bin", IMAGE_SIZE)
        marker = tmp_path / "installer-started"
        daemon = make_daemon(csms, firmware_install_command=f"sh -c 'touch {marker}; sleep 15' {{file}}")
        await booted(csms, daemon)
        await _update(csms, server.url("/wemob-2.4.0.bin"))
        await _statuses_reach(csms, ["Downloading", "Downloaded", "Installing"])
        await eventually(marker.exists, 10, "the installer running")
        daemon.kill()
        assert (await _restarted(csms, daemon))["firmwareVersion"] == FACTORY_VERSION
        await _statuses_reach(csms, ["Downloading", "Downloaded", "Installing", "InstallationFailed"])
        await daemon.wait_socket()
        assert "firmware: 2.3.1  update: Idle" in await cli_ok(daemon, "status")


async def test_a_new_update_replaces_one_still_downloading(csms: Csms, make_daemon, tmp_path: Path) -> None:
    async with HttpFileServer(tmp_path / "www") as server:
        make_file(server.root / "wemob-2.4.0.bin", IMAGE_SIZE)
        make_file(server.root / "wemob-2.5.0.bin", IMAGE_SIZE)
        daemon = make_daemon(csms)
        await booted(csms, daemon)
        await csms.call(call.UpdateFirmware(location=server.url("/wemob-2.4.0.bin"), retrieve_date=_now(3600)))
        await daemon.wait_socket()
        assert (await daemon.status())["firmware"]["image"] == "wemob-2.4.0.bin"
        await _update(csms, server.url("/wemob-2.5.0.bin"))
        await _statuses_reach(csms, ["Downloading", "Downloaded", "Installing"])
        assert await exited(daemon) == EXIT_HARD_RESET
        assert (await _restarted(csms, daemon))["firmwareVersion"] == "2.5.0"
        assert not [r for r in server.requests if r[1] == "/wemob-2.4.0.bin"], "the replaced update never downloads"


async def test_trigger_message_reports_downloading_while_it_happens(csms: Csms, make_daemon, tmp_path: Path) -> None:
    async with HttpFileServer(tmp_path / "www") as server:
        make_file(server.root / "wallbox-6.7.0.bin", IMAGE_SIZE)
        daemon = make_daemon(csms, profile="wallbox")
        await booted(csms, daemon)
        mark = len(csms.frames)
        assert (await csms.call(call.TriggerMessage(requested_message="FirmwareStatusNotification"))).status == "Accepted"
        assert (await csms.wait_for("FirmwareStatusNotification", after=mark)).payload["status"] == "Idle"
        server.stall_after = IMAGE_SIZE // 2
        await _update(csms, server.url("/wallbox-6.7.0.bin"))
        await _statuses_reach(csms, ["Idle", "Downloading"])
        mark = len(csms.frames)
        assert (await csms.call(call.TriggerMessage(requested_message="FirmwareStatusNotification"))).status == "Accepted"
        assert (await csms.wait_for("FirmwareStatusNotification", after=mark)).payload["status"] == "Downloading"


@pytest.mark.parametrize(
    ("make_location", "cause"),
    [
        (lambda server, port: f"http://127.0.0.1:{port}/wemob-2.4.0.bin", "cannot connect"),
        (lambda server, port: server.url("/wemob-2.4.0.bin"), "over the cap"),
        (lambda server, port: "sftp://127.0.0.1/wemob-2.4.0.bin", "SupportedFileTransferProtocols"),
    ],
    ids=["closed-port", "over-the-cap", "unsupported-scheme"],
)
async def test_a_download_that_cannot_succeed_ends_in_download_failed_naming_the_cause(
    csms: Csms, make_daemon, tmp_path: Path, unused_tcp_port: int, make_location, cause: str
) -> None:
    async with HttpFileServer(tmp_path / "www") as server:
        make_file(server.root / "wemob-2.4.0.bin", IMAGE_SIZE)
        daemon = make_daemon(csms, firmware_max_bytes=IMAGE_SIZE // 2)
        await booted(csms, daemon)
        await _update(csms, make_location(server, unused_tcp_port), retries=1)
        await eventually(lambda: "DownloadFailed" in _statuses(csms), 15, "DownloadFailed")
        await logged(daemon, cause)
        assert not list((daemon.data_dir / "firmware").glob("*")), "nothing is left on the flash"


async def test_a_bad_retrieve_date_gets_a_call_error(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    answer = await csms.call_raw("UpdateFirmware", {"location": "http://127.0.0.1/x.bin", "retrieveDate": "soon"})
    assert answer[0] == 4 and answer[2] == "TypeConstraintViolation"
