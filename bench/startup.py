"""Start-up time and idle memory of `chargepoint run`, against a bare-`ocpp` charge point.

Why: the station is a systemd service on boards with 256 MB of RAM that may lose power at any
moment, so two figures matter in the field: how long after (re)start the CSMS hears from the
station, and how much memory it holds while it sits connected doing nothing. Alone they say
little, so the same figures are taken for bench/baseline_cp.py, the least a charge point can be
with the `ocpp` library, and the ratio (ours / baseline) is the cost of everything else.

Each run: a fresh data directory, a loopback CSMS (tests/csms.py) in this event loop, the
process spawned directly (no shell); start-up time runs from just before the spawn until the
CSMS records the first BootNotification frame; then the process stays connected and idle for
--idle seconds and its peak RSS (VmHWM) is read from /proc before it is terminated. The two
charge points take turns, so drift on the machine hits both alike. One line per figure.

Usage: .venv/bin/python bench/startup.py [--runs 5] [--idle 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.csms import Csms  # noqa: E402  (needs ROOT on sys.path)

IDENTITY = "CP-BENCH-1"
BOOT_TIMEOUT = 60.0  # seconds; a station slower than this is broken, not slow
STOP_TIMEOUT = 10.0


@dataclass
class Results:
    """Per-run figures of one charge point."""

    startup_ms: list[float] = field(default_factory=list)
    peak_rss_kib: list[int] = field(default_factory=list)


# Given the CSMS URL and a scratch directory, return the command line and extra environment.
Launcher = Callable[[str, Path], tuple[list[str], dict[str, str]]]


def chargepoint_command(csms_url: str, scratch: Path) -> tuple[list[str], dict[str, str]]:
    """`python -m chargepoint run` on a fresh data dir, settings as shipped otherwise."""
    data_dir = scratch / "data"
    data_dir.mkdir()
    config = scratch / "chargepoint.toml"
    values = {"csms_url": csms_url, "identity": IDENTITY, "data_dir": str(data_dir)}
    # A JSON string is a valid TOML basic string.
    config.write_text("".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items()))
    return [sys.executable, "-m", "chargepoint", "run"], {"CHARGEPOINT_CONFIG": str(config)}


def baseline_command(csms_url: str, scratch: Path) -> tuple[list[str], dict[str, str]]:
    return [sys.executable, str(ROOT / "bench" / "baseline_cp.py"), f"{csms_url}/{IDENTITY}"], {}


def peak_rss_kib(pid: int) -> int:
    """VmHWM: the most resident memory the process has had, in KiB (/proc says "kB")."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


async def measure(launch: Launcher, idle: float) -> tuple[float, int]:
    """One run: (milliseconds from spawn to BootNotification, peak RSS in KiB after idling)."""
    with tempfile.TemporaryDirectory(prefix="cp-bench-") as tmp:
        scratch = Path(tmp)
        log_path = scratch / "process.log"
        async with Csms(boot_interval=60) as csms:
            command, extra_env = launch(csms.url, scratch)
            env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGEPOINT_")} | extra_env
            with log_path.open("wb") as log:
                # time.monotonic, not perf_counter: it is the clock the CSMS stamps frames with.
                started = time.monotonic()
                process = await asyncio.create_subprocess_exec(
                    *command, cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
                )
            boot = asyncio.create_task(csms.wait_for("BootNotification", timeout=BOOT_TIMEOUT))
            exited = asyncio.create_task(process.wait())
            try:
                await asyncio.wait({boot, exited}, return_when=asyncio.FIRST_COMPLETED)
                if not boot.done():
                    raise RuntimeError(f"{command} exited with {process.returncode} before booting:\n{log_path.read_text()}")
                startup_ms = (boot.result().at - started) * 1000
                await asyncio.sleep(idle)
                if process.returncode is not None or csms.connections != 1:
                    raise RuntimeError(
                        f"{command} did not stay connected (exit {process.returncode}, "
                        f"{csms.connections} connections):\n{log_path.read_text()}"
                    )
                rss = peak_rss_kib(process.pid)
            finally:
                boot.cancel()
                exited.cancel()
                await stop(process)
    return startup_ms, rss


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()


def report(figure: str, ours: Sequence[float], baseline: Sequence[float], unit_format: str) -> None:
    """Three lines: each charge point's median and runs, then the ratio of the medians."""
    ours_median, baseline_median = statistics.median(ours), statistics.median(baseline)
    for name, runs, median in (("chargepoint", ours, ours_median), ("baseline", baseline, baseline_median)):
        listed = ", ".join(format(value, unit_format) for value in runs)
        print(f"{figure} {name} median={median:{unit_format}} runs=[{listed}]")
    print(f"{figure} ratio={ours_median / baseline_median:.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per charge point (default 5)")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds connected and idle before reading RSS (default 30)")
    args = parser.parse_args()
    if args.runs < 1 or args.idle < 0:
        parser.error("--runs must be at least 1 and --idle not negative")

    ours, baseline = Results(), Results()
    for _ in range(args.runs):
        for launch, results in ((chargepoint_command, ours), (baseline_command, baseline)):
            startup_ms, rss = await measure(launch, args.idle)
            results.startup_ms.append(startup_ms)
            results.peak_rss_kib.append(rss)

    report("startup_to_boot_ms", ours.startup_ms, baseline.startup_ms, ".1f")
    report("peak_rss_kib", ours.peak_rss_kib, baseline.peak_rss_kib, ".0f")


if __name__ == "__main__":
    asyncio.run(main())
