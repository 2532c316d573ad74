"""`chargepoint fleet run` at scale: memory, boot time, message rate and CPU for 100, 1,000 and
5,000 stations against a lean loopback CSMS (bench/fleet_csms.py, its own process).

Why: a CSMS engineer's load test is only as big as the fleet one machine can hold. Per size
N: peak RSS per station (the fleet's VmHWM minus a 1-station fleet's, over N - 1; the goal is
under 1 MB), open files per station, the time from the spawn until all N are Accepted, the
messages per second and the CPU share of all cores over a steady window with generated
sessions running (MeterValues every 10 s while charging, heartbeats every 60 s), and the
round-trip p50/p99 of the summary. A size whose memory the machine lacks is skipped, said so.
One line per figure, then how the figures grow with N.

A size the hard open-file limit cannot hold in one process runs as shards (--index 0, 1, …),
as pods would, and the figures are their sums.

Usage: .venv/bin/python bench/fleet.py [--sizes 100 1000 5000] [--window 30] [--ramp 500]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chargepoint.control.server import DaemonNotRunning, NoAnswer, send_command  # noqa: E402
from chargepoint.fleet.files import holds  # noqa: E402
from chargepoint.fleet.summary import merge  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MB_NEEDED_PER_STATION = 3  # refuse a size unless this much memory is free for each station
CORES = os.cpu_count() or 1


def _proc(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _available_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    return 0


class Run:
    """One fleet process of `count` stations, with its own data directory."""

    def __init__(self, count: int, csms: str, ramp: float, index: int = 0) -> None:
        self.count = count
        self.index = index
        self.dir = Path(tempfile.mkdtemp(prefix="fb-"))
        config = self.dir / "fleet.toml"
        config.write_text(f'data_dir = "{self.dir}"\n')
        self.summary_file = self.dir / "summary.json"
        self.started = time.monotonic()
        self.boot_cpu_s = 0.0
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chargepoint", "--config", str(config), "fleet", "run", "--count", str(count),
             "--csms", csms, "--ramp", str(ramp), "--seed", "1", "--idle", "10", "--charge", "120",
             "--json-summary", str(self.summary_file), "--index", str(index)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(self.dir / "stderr.txt").open("wb"),
        )

    def status(self) -> dict[str, Any] | None:
        try:
            return send_command(self.dir / "fleet" / f"fleet-{self.index}.sock", {"command": "fleet-status"}, timeout=30)
        except (DaemonNotRunning, NoAnswer, OSError, ValueError):
            return None  # not up yet, or too busy building stations to answer

    def wait_accepted(self, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.dir / "stderr.txt").read_text()[-2000:]
            status = self.status()
            if status and status["accepted"] == self.count:
                self.boot_cpu_s = _cpu_seconds(self.process.pid)
                return time.monotonic() - self.started
            time.sleep(0.25)
        raise TimeoutError(f"{self.count} stations not all Accepted within {timeout} s")

    def stop(self) -> dict[str, Any]:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(600)
        return dict(json.loads(self.summary_file.read_text()))


def shards_for(count: int) -> int:
    """Processes needed for `count` stations under this machine's hard open-file limit."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return 1 if hard == resource.RLIM_INFINITY else math.ceil(count / holds(hard))


def measure(count: int, csms: str, csms_pid: int, ramp: float, window: float, baseline_kb: int) -> dict[str, Any]:
    shards = shards_for(count)
    runs = [Run(count // shards, csms, ramp / shards, index) for index in range(shards)]
    try:
        boot_s = max(run.wait_accepted(timeout=120 + 5 * count / ramp) for run in runs)
        time.sleep(min(window, 15))  # the first sessions start, within --idle 10
        pids = [run.process.pid for run in runs]
        before = [run.status() for run in runs]
        cpu0, csms0, t0 = sum(map(_cpu_seconds, pids)), _cpu_seconds(csms_pid), time.monotonic()
        time.sleep(window)
        after = [run.status() for run in runs]
        assert None not in before and None not in after, "a fleet did not answer its status"
        elapsed = time.monotonic() - t0
        cpu, csms_cpu = sum(map(_cpu_seconds, pids)) - cpu0, _cpu_seconds(csms_pid) - csms0
        peak_kb = sum(_proc(pid, "VmHWM") for pid in pids)
        fds = sum(len(os.listdir(f"/proc/{pid}/fd")) for pid in pids)
        charging = sum(a["charging"] for a in after if a)
        messages = sum(a["summary"]["messages"] for a in after if a) - sum(b["summary"]["messages"] for b in before if b)
    finally:
        summary = merge([run.stop() for run in runs])
    rtt = summary["actions"].get("MeterValues") or summary["actions"]["StatusNotification"]
    return {
        "shards": shards,
        "rss_per_station_kb": (peak_kb - shards * baseline_kb) / max(1, count - shards),
        "peak_rss_mb": peak_kb / 1024,
        "fds_per_station": fds / count,
        "boot_s": boot_s,
        "boot_cpu_ms_per_station": sum(run.boot_cpu_s for run in runs) * 1000 / count,
        "cpu_ms_per_message": cpu * 1000 / max(1, messages),
        "msgs_per_s": messages / elapsed,
        "cpu_share": cpu / elapsed / CORES,
        "csms_cpu_share": csms_cpu / elapsed / CORES,
        "charging": charging,
        "p50_ms": rtt["p50_ms"],
        "p99_ms": rtt["p99_ms"],
        "errors": sum(summary["errors"].values()),
        "error_kinds": summary["errors"],
    }


def baseline(csms: str) -> int:
    """VmHWM of a 1-station fleet once it is Accepted: the process without the crowd."""
    run = Run(1, csms, 10)
    try:
        run.wait_accepted(60)
        time.sleep(2)
        return _proc(run.process.pid, "VmHWM")
    finally:
        run.stop()


def report(count: int, figures: dict[str, Any]) -> None:
    if figures["shards"] > 1:
        print(f"N={count}: run as {figures['shards']} shards (processes): the hard open-file limit holds fewer in one")
    print(f"N={count}: peak RSS per station {figures['rss_per_station_kb']:.0f} KB (fleet {figures['peak_rss_mb']:.0f} MB)")
    print(f"N={count}: open files per station {figures['fds_per_station']:.1f}")
    print(f"N={count}: all connected and Accepted in {figures['boot_s']:.1f} s"
          f" ({figures['boot_cpu_ms_per_station']:.1f} ms of CPU per station, from the spawn)")
    print(f"N={count}: sustained {figures['msgs_per_s']:.0f} messages/s with {figures['charging']:.0f} charging")
    print(f"N={count}: CPU {figures['cpu_share']:.0%} of {CORES} cores (lean CSMS {figures['csms_cpu_share']:.0%}),"
          f" {figures['cpu_ms_per_message']:.2f} ms of CPU per message")
    print(f"N={count}: round trip p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms; errors {figures['errors']:.0f}")
    for kind, n in sorted(figures["error_kinds"].items(), key=lambda item: -item[1])[:3]:
        print(f"N={count}: error {n} x {kind}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--window", type=float, default=30.0, help="seconds of steady state measured")
    parser.add_argument("--ramp", type=float, default=500.0, help="connections per second")
    args = parser.parse_args()
    port = _free_port()
    csms = subprocess.Popen([sys.executable, str(ROOT / "bench" / "fleet_csms.py"), str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert csms.stdout is not None and csms.stdout.readline().strip() == "listening"
        url = f"ws://127.0.0.1:{port}/ocpp"
        base = baseline(url)
        print(f"baseline: a 1-station fleet peaks at {base / 1024:.0f} MB RSS; load average {os.getloadavg()[0]:.1f} on {CORES} cores")
        results: dict[int, dict[str, Any]] = {}
        for count in args.sizes:
            if _available_mb() < count * MB_NEEDED_PER_STATION:
                print(f"N={count}: skipped, {_available_mb()} MB free is less than {count * MB_NEEDED_PER_STATION} MB")
                continue
            results[count] = measure(count, url, csms.pid, args.ramp, args.window, base)
            report(count, results[count])
            print(f"N={count}: load average {os.getloadavg()[0]:.1f} (other work on the machine shares the cores)")
        print("growth: N, KB/station, boot s, msg/s, msg/s per station, CPU share")
        for count, f in results.items():
            print(f"growth: {count}, {f['rss_per_station_kb']:.0f}, {f['boot_s']:.1f}, {f['msgs_per_s']:.0f},"
                  f" {f['msgs_per_s'] / count:.2f}, {f['cpu_share']:.0%}")
    finally:
        csms.terminate()
        csms.wait(10)


if __name__ == "__main__":
    main()
