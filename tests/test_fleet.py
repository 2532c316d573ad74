"""`chargepoint fleet`: stations in one process against the real test CSMS, as a CSMS engineer
runs them: booted, driven by seeded sessions, reported by `fleet status`, sharded across
processes, summarised and merged."""

from __future__ import annotations

import asyncio
import itertools
import json
import resource
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from chargepoint.app.cli import main
from chargepoint.fleet.sessions import Timing, plan
from tests.conftest import ROOT, Daemon, eventually
from tests.csms import Csms
from tests.helpers import cli_ok

SUMMARY_FIELDS = {"fleet", "shards", "stations", "duration_s", "messages", "messages_per_s", "sessions", "actions", "errors"}
LATENCY_FIELDS = {"count", "p50_ms", "p90_ms", "p99_ms", "max_ms", "buckets"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _booted(csms: Csms) -> list[str]:
    return sorted(f.identity for f in csms.received("BootNotification") if f.identity)


async def test_a_fleet_boots_and_drives_the_sessions_its_seed_draws(csms: Csms, make_daemon: Any) -> None:
    fleet: Daemon = make_daemon(csms, start=False)
    summary_file = fleet.data_dir / "summary.json"
    timing = Timing(idle_s=0.3, charge_s=1.0)
    page = f"127.0.0.1:{_free_port()}"
    running = asyncio.create_task(fleet.cli(
        "fleet", "run", "--count", "4", "--csms", csms.url, "--seed", "7", "--duration", "8",
        "--idle", str(timing.idle_s), "--charge", str(timing.charge_s), "--json", "--json-summary", str(summary_file),
        "--web", page,
    ))
    await eventually(lambda: len(_booted(csms)) == 4, 15, "4 stations booted")
    async with aiohttp.ClientSession(f"http://{page}") as web:  # the table, and a page per station
        assert "chargepoint fleet" in await (await web.get("/")).text()
        assert (await web.get("/station/CP-0003/")).status == 200
        assert (await web.get("/station/CP-0009/")).status == 404
    status = json.loads(await cli_ok(fleet, "fleet", "status", "--json"))
    assert (status["stations"], status["started"]) == (4, 4)
    assert status["summary"]["actions"]["BootNotification"]["count"] == 4
    shown = await cli_ok(fleet, "fleet", "status")
    assert "CP-0001 … CP-0004" in shown and "4/4 started" in shown
    await eventually(lambda: len(csms.received("StopTransaction")) >= 4, 15, "sessions completed")

    result = await running
    assert result.code == 0, result
    summary = json.loads(result.out)
    assert summary == json.loads(summary_file.read_text())
    assert set(summary) == SUMMARY_FIELDS and summary["errors"] == {}, summary["errors"]
    assert summary["fleet"]["seed"] == 7 and summary["stations"] == 4
    for action in ("BootNotification", "StatusNotification", "Authorize", "StartTransaction", "StopTransaction"):
        assert set(summary["actions"][action]) == LATENCY_FIELDS
    assert summary["sessions"]["completed"] >= 4
    # Each round trip the CSMS answered, less any a station had in flight when the fleet stopped.
    sent = len(csms.received("StartTransaction"))
    assert sent - 4 <= summary["actions"]["StartTransaction"]["count"] <= sent
    for identity in _booted(csms):
        tags = [f.payload["idTag"] for f in csms.received("StartTransaction") if f.identity == identity]
        drawn = [s.id_tag for s in itertools.islice(plan(7, identity, 1, timing), len(tags))]
        assert tags and tags == drawn, identity


async def _shard(fleet: Daemon, csms: Csms, index: int, env: dict[str, str]) -> asyncio.subprocess.Process:
    args = ["fleet", "run", "--count", "3", "--csms", csms.url, "--no-sessions", "--json"]
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chargepoint", *args, *(["--index", str(index)] if index == 0 else []),
        env=fleet.env() | env, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def test_two_shards_run_every_identity_once_and_their_summaries_merge(csms: Csms, make_daemon: Any) -> None:
    fleet: Daemon = make_daemon(csms, start=False)
    csms.errors = {"StatusNotification": "InternalError"}  # errors by kind, merged too
    # Shard 0 by --index, shard 1 as a Kubernetes Indexed Job tells its pod; one data_dir for both.
    shards = [await _shard(fleet, csms, 0, {}), await _shard(fleet, csms, 1, {"JOB_COMPLETION_INDEX": "1"})]
    await eventually(lambda: len(_booted(csms)) == 6, 20, "6 stations booted")
    # Each station's StatusNotifications (connector 0 and 1) follow its boot: SIGTERM after them.
    await eventually(lambda: len(csms.received("StatusNotification")) >= 12, 20, "12 StatusNotifications")
    summaries = []
    for index, shard in enumerate(shards):
        shard.send_signal(signal.SIGTERM)  # the summary comes at SIGTERM as at the end of --duration
        out, err = await asyncio.wait_for(shard.communicate(), 20)
        assert shard.returncode == 0, err.decode()
        path = fleet.data_dir / f"summary-{index}.json"
        path.write_bytes(out)
        summaries.append(str(path))
    assert _booted(csms) == [f"CP-{n:04}" for n in range(1, 7)]

    merged = json.loads(await cli_ok(fleet, "fleet", "merge", *summaries, "--json"))
    assert (merged["shards"], merged["stations"]) == ([0, 1], 6)
    assert merged["actions"]["BootNotification"]["count"] == 6
    refused = len(csms.received("StatusNotification"))  # less any answer a stopping station missed
    assert set(merged["errors"]) == {"StatusNotification: CALLERROR InternalError"}
    assert refused >= 12 and refused - 6 <= merged["errors"]["StatusNotification: CALLERROR InternalError"] <= refused
    assert "BootNotification" in await cli_ok(fleet, "fleet", "merge", *summaries)
    twice = await fleet.cli("fleet", "merge", summaries[0], summaries[0])
    assert (twice.code, twice.err.strip()) == (2, "chargepoint: fleet: merge: shard 0 appears twice")


def test_too_few_open_files_is_one_line_naming_how_many_stations_fit(tmp_path: Path) -> None:
    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (160, 160))

    config = tmp_path / "fleet.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n')
    result = subprocess.run(
        [sys.executable, "-m", "chargepoint", "--config", str(config), "fleet", "run", "--count", "100"],
        cwd=ROOT, capture_output=True, text=True, preexec_fn=low_limit, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "chargepoint: fleet: --count 100 needs about 664 open files but the hard limit is 160: this process can hold"
        " 16 stations (raise it with ulimit -Hn or LimitNOFILE=, or run more shards)"
    ]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run"], "the following arguments are required: --count"),
        (["run", "--count", "0"], "argument --count: must be at least 1, got 0"),
        (["run", "--count", "x"], "argument --count: must be a number, got 'x'"),
        (["run", "--count", "2", "--ramp", "0"], "argument --ramp: must be a positive number of seconds, got 0"),
        (["run", "--count", "2", "--identity", "CP"], "fleet: --identity 'CP' gives two stations the same identity"),
        (["run", "--count", "2", "--model", "wemob:nope"], "setting --model: unknown model 'nope' for profile 'wemob'"),
        (["run", "--count", "2", "--model", "acme"], "setting --model: unknown profile 'acme'"),
        (["run", "--count", "2", "--csms", "http://x"], "setting --csms: must be a ws:// or wss:// URL with a host"),
        (["merge", "nowhere.json"], "fleet: merge: cannot read nowhere.json"),
        (["status", "--index", "-1"], "argument --index: must be at least 0, got -1"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(
    args: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "fleet.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n')
    try:
        code = main(["--config", str(config), "fleet", *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and says in err[0], err


def test_a_bad_shard_index_in_the_environment_and_no_fleet_to_ask(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "fleet.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n')
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "one")
    assert main(["--config", str(config), "fleet", "status"]) == 2
    assert capsys.readouterr().err == "chargepoint: fleet: JOB_COMPLETION_INDEX must be a shard index (0, 1, …), got 'one'\n"
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "3")
    assert main(["--config", str(config), "fleet", "status"]) == 1
    assert capsys.readouterr().err == f"chargepoint: no fleet (shard 3) is running on data_dir {tmp_path}\n"
