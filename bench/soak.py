"""Soak: a compressed hour of charging over a link that is cut every 20 seconds.

Why: in the field a station charges for hours over a mobile link that drops now and then, and
every MeterValues it samples is billing evidence. A short test shows one reconnect works; only
many reconnects under steady load show that none loses, duplicates or reorders a message,
and that the daemon's memory does not creep up with each one.

The run, on a fresh data directory: the CSMS (tests/csms.py) behind the fault proxy
(tests/fault_proxy.py); `chargepoint run` (as bench/replay.py starts it, plus a frame log)
connects through the proxy; a session charges with MeterValueSampleInterval=1; the proxy
closes every connection every 20 s (--drop-every) for --seconds; then the card stops the
session and the run waits for the queue to drain. What the station put on the wire comes from
its frame log, what arrived from the CSMS's record. One line per figure; exit status 1 if a
MeterValues was lost, a sample is missing, or the transaction messages arrived out of order.

Usage: .venv/bin/python bench/soak.py [--seconds 600] [--drop-every 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.replay import Station  # noqa: E402  (needs ROOT on sys.path)
from tests.csms import CALL, Csms, Frame  # noqa: E402
from tests.fault_proxy import FaultProxy  # noqa: E402

ID_TAG = "SOAK"
TRANSACTION_ACTIONS = ("StartTransaction", "MeterValues", "StopTransaction")
DRAIN_TIMEOUT = 120.0  # seconds after the stop; a station slower than this is broken, not slow
MAX_SAMPLE_GAP = 2.0  # seconds between consecutive 1 s samples before one counts as missing


class SoakStation(Station):
    """The replay bench's station, with a frame log of everything it puts on the wire."""

    def __init__(self, scratch: Path, csms_url: str) -> None:
        super().__init__(scratch, csms_url, quiet_s=0.0)
        self.frame_log = scratch / "frames.jsonl"
        with self.config.open("a") as config:
            config.write(f"frame_log = {json.dumps(str(self.frame_log))}\n")

    def rss_kib(self) -> int:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS in /proc/{self.process.pid}/status")

    def sent(self, action: str) -> list[Any]:
        """Payloads of the station's CALLs of `action`, resends included, in order."""
        logged = [json.loads(line) for line in self.frame_log.read_text().splitlines()]
        frames = [entry["frame"] for entry in logged if entry["direction"] == "out"]
        return [f[3] for f in frames if isinstance(f, list) and f[0] == CALL and f[2] == action]

    def discarded(self) -> int:
        return self.log_path.read_text().count("DISCARDED")


def key(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True)


async def charge(station: SoakStation, csms: Csms) -> None:
    await station.command("config-set", key="MeterValueSampleInterval", value="1")
    await station.command("plug", connector=1)
    await station.command("ev", connector=1, action="charge")
    started = await station.command("swipe", id_tag=ID_TAG, connector=1)
    if "transaction started" not in started["message"]:
        raise RuntimeError(f"no transaction: {started}")
    await csms.wait_for("StartTransaction", timeout=30)


async def cut_repeatedly(proxy: FaultProxy, seconds: float, every: float) -> int:
    """Drop every connection each `every` seconds until `seconds` have passed; the count."""
    drops = 0
    end = time.monotonic() + seconds
    while (remaining := end - time.monotonic()) > 0:
        await asyncio.sleep(min(every, remaining))
        if end - time.monotonic() > 0:
            proxy.drop()
            drops += 1
    return drops


async def stop_and_drain(station: SoakStation, csms: Csms) -> None:
    stopped = await station.command("swipe", id_tag=ID_TAG, connector=1)
    if "transaction stopped" not in stopped["message"]:
        raise RuntimeError(f"the session did not stop: {stopped}")
    await station.command("unplug", connector=1)
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while (await station.command("status"))["queued"] or not csms.received("StopTransaction"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the queue did not drain within {DRAIN_TIMEOUT} s")
        await asyncio.sleep(0.2)


def in_order(received: list[Frame]) -> bool:
    """Start, then samples in time order, then Stop, once back-to-back resends count once."""
    delivered = [f for n, f in enumerate(received) if n == 0 or f.payload != received[n - 1].payload]
    actions = [f.action for f in delivered]
    stamps = [f.payload["meterValue"][0]["timestamp"] for f in delivered if f.action == "MeterValues"]
    return (
        actions[0] == "StartTransaction"
        and actions[-1] == "StopTransaction"
        and set(actions[1:-1]) <= {"MeterValues"}
        and stamps == sorted(set(stamps))
    )


def sample_gaps(payloads: list[Any]) -> int:
    """Missing 1 s samples: consecutive distinct samples further apart than MAX_SAMPLE_GAP."""
    stamps = sorted({datetime.fromisoformat(p["meterValue"][0]["timestamp"].replace("Z", "+00:00")) for p in payloads})
    return sum(1 for a, b in zip(stamps, stamps[1:]) if (b - a).total_seconds() > MAX_SAMPLE_GAP)


async def soak(seconds: float, every: float) -> bool:
    with tempfile.TemporaryDirectory(prefix="cp-soak-") as tmp:
        async with Csms(boot_interval=3600) as csms, FaultProxy(csms.port) as proxy:
            station = SoakStation(Path(tmp), proxy.url())
            try:
                await station.start()
                await csms.wait_for("BootNotification", timeout=30)
                await charge(station, csms)
                rss_start = station.rss_kib()
                drops = await cut_repeatedly(proxy, seconds, every)
                await stop_and_drain(station, csms)
                rss_end = station.rss_kib()
                sent = station.sent("MeterValues")
                discarded = station.discarded()
            finally:
                await station.stop()
        received = csms.calls("MeterValues")
        distinct_sent, distinct_received = {key(p) for p in sent}, {key(p) for p in received}
        lost = len(distinct_sent - distinct_received) + discarded
        gaps = sample_gaps(received)
        ordered = in_order(
            [f for f in csms.frames if f.direction == "in" and f.message_type == CALL and f.action in TRANSACTION_ACTIONS]
        )
    print(f"soak seconds={seconds:.0f} drop_every_s={every:.0f} drops={drops} reconnects={csms.connections - 1}")
    print(f"soak meter_values_sent={len(distinct_sent)} (frames incl. resends={len(sent)})")
    print(f"soak meter_values_received={len(distinct_received)} (frames={len(received)})")
    print(f"soak meter_values_lost={lost} (discarded by the queue={discarded})")
    print(f"soak meter_values_duplicates={len(received) - len(distinct_received)}")
    print(f"soak missing_samples={gaps} (consecutive samples over {MAX_SAMPLE_GAP:.0f} s apart)")
    print(f"soak transaction_messages_in_order={'yes' if ordered else 'NO'}")
    print(f"soak daemon_rss_kib start={rss_start} end={rss_end}")
    return lost == 0 and gaps == 0 and ordered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="charging time under cuts (default 600)")
    parser.add_argument("--drop-every", type=float, default=20.0, help="seconds between cuts (default 20)")
    args = parser.parse_args()
    if args.seconds <= 0 or args.drop_every <= 0:
        parser.error("--seconds and --drop-every must be positive")
    sys.exit(0 if asyncio.run(soak(args.seconds, args.drop_every)) else 1)


if __name__ == "__main__":
    main()
