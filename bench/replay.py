"""Replay of the durable transaction queue: how fast a station catches up after a CSMS outage.

Why: a station that was offline for a day holds thousands of transaction messages, and OCPP
allows one outstanding CALL, so the queue drains at one round trip per message at best. The
figure that matters is how close the station gets to that limit while it also deletes each
delivered message from flash (synchronous=FULL) and looks up the next one.

Each run, on a fresh data directory, with the CSMS unreachable (nothing listens on its port):
1. `chargepoint run` starts; through its control socket a real session runs offline
   (MeterValueSampleInterval=1, AllowOfflineTxForUnknownId=true: plug in, EV charges, card,
   one MeterValues sample, sampling off, card again, unplug), so the queue holds StartTransaction,
   MeterValues and StopTransaction as the station itself wrote them;
2. the daemon is stopped (SIGTERM) and MeterValues rows are inserted into its
   `transaction_message` table, in the payload format transactions.py writes (the station's own
   first sample is the template; timestamps and register interpolated up to the stop), before
   the StopTransaction, until the transaction has 2,000 MeterValues;
3. the daemon starts again, still offline, and reports the whole queue in `status`;
4. the CSMS (tests/csms.py) comes up on the port; the station reconnects and delivers.
The station's figure is messages / seconds from the CSMS receiving the StartTransaction to it
answering the StopTransaction, all 2,002 delivered exactly once and in order.

The baseline, in the same run on the same loopback: bench/baseline_meter_values.py, a bare
`ocpp`-library client, sends the same 2,002 messages one at a time to a fresh CSMS of the same
kind, timed the same way on the CSMS's clock. Station and baseline take turns; each figure is
the median of the runs. One line per figure.

Usage: .venv/bin/python bench/replay.py [--runs 3] [--meter-values 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.csms import CALLRESULT, Csms  # noqa: E402  (needs ROOT on sys.path)

IDENTITY = "CP-REPLAY-1"
TRANSACTION_ACTIONS = ("StartTransaction", "MeterValues", "StopTransaction")
DELIVERY_TIMEOUT = 600.0  # seconds; a station slower than this is broken, not slow
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(extra: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CHARGEPOINT_")} | extra


class Station:
    """`python -m chargepoint run` on one data directory, driven through its control socket."""

    def __init__(self, scratch: Path, csms_url: str, quiet_s: float) -> None:
        self.quiet_s = quiet_s
        self.data_dir = scratch / "data"
        self.data_dir.mkdir()
        self.log_path = scratch / "daemon.log"
        self.config = scratch / "chargepoint.toml"
        values = {"csms_url": csms_url, "identity": IDENTITY, "data_dir": str(self.data_dir), "reconnect_max_delay": 0.5}
        # A JSON string or number is valid TOML.
        self.config.write_text("".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items()))
        self.process: asyncio.subprocess.Process | None = None

    @property
    def database(self) -> Path:
        return self.data_dir / "chargepoint.db"

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "chargepoint", "run",
                cwd=ROOT, env=child_env({"CHARGEPOINT_CONFIG": str(self.config)}),
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                await self.command("status")
                return
            except OSError:
                if self.process.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the station did not come up:\n{self.log_path.read_text()}") from None
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def command(self, command: str, **fields: Any) -> dict[str, Any]:
        reader, writer = await asyncio.open_unix_connection(str(self.data_dir / "control.sock"))
        try:
            writer.write(json.dumps({"command": command, **fields}).encode() + b"\n")
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), 60)
        finally:
            writer.close()
        reply: dict[str, Any] = json.loads(line) if line else {"ok": False, "error": "no answer"}
        if not reply.get("ok"):
            raise RuntimeError(f"{command} {fields}: {reply}")
        return reply

    async def offline_session(self) -> None:
        for key, value in (("MeterValueSampleInterval", "1"), ("AllowOfflineTxForUnknownId", "true")):
            await self.command("config-set", key=key, value=value)
        await self.command("plug", connector=1)
        await self.command("ev", connector=1, action="charge")
        started = await self.command("swipe", id_tag="REPLAY", connector=1)
        assert "transaction started" in started["message"], started
        await asyncio.sleep(1.3)  # the first MeterValues sample: the template
        # No more samples, and room on the clock for the inserted ones to have distinct timestamps.
        await self.command("config-set", key="MeterValueSampleInterval", value="0")
        await asyncio.sleep(self.quiet_s)
        stopped = await self.command("swipe", id_tag="REPLAY", connector=1)
        assert "transaction stopped" in stopped["message"], stopped
        await self.command("unplug", connector=1)


def quiet_seconds(meter_values: int) -> float:
    """Time between the last real sample and the stop: over 1 ms for each inserted sample."""
    return 0.5 + meter_values * 0.0013


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def fill_queue(database: Path, meter_values: int) -> list[tuple[str, dict[str, Any]]]:
    """Insert MeterValues before the StopTransaction until there are `meter_values`; return the queue."""
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        rows = conn.execute("SELECT seq, local_id, action, payload FROM transaction_message ORDER BY seq").fetchall()
        actions = [action for _, _, action, _ in rows]
        if actions[0] != "StartTransaction" or actions[-1] != "StopTransaction" or "MeterValues" not in actions:
            raise RuntimeError(f"unexpected queue after the offline session: {actions}")
        local_id = rows[0][1]
        samples = [json.loads(payload) for _, _, action, payload in rows if action == "MeterValues"]
        stop_seq, stop_payload = rows[-1][0], json.loads(rows[-1][3])
        template = samples[-1]
        first = _parse(template["meter_value"][0]["timestamp"])
        last = _parse(stop_payload["timestamp"])
        register = float(template["meter_value"][0]["sampled_value"][0]["value"])
        extra = meter_values - len(samples)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM transaction_message WHERE seq = ?", (stop_seq,))
        for n in range(1, extra + 1):
            share = n / (extra + 1)
            value = register + (stop_payload["meter_stop"] - register) * share
            sample = json.loads(json.dumps(template))
            sample["meter_value"][0]["timestamp"] = _stamp(first + (last - first) * share)
            sample["meter_value"][0]["sampled_value"][0]["value"] = f"{value:.1f}"
            conn.execute(
                "INSERT INTO transaction_message (local_id, action, payload) VALUES (?, ?, ?)",
                (local_id, "MeterValues", json.dumps(sample, separators=(",", ":"))),
            )
        conn.execute(
            "INSERT INTO transaction_message (local_id, action, payload) VALUES (?, ?, ?)",
            (local_id, "StopTransaction", json.dumps(stop_payload, separators=(",", ":"))),
        )
        conn.execute("COMMIT")
        queue = conn.execute("SELECT action, payload FROM transaction_message ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [(action, json.loads(payload)) for action, payload in queue]


async def wait_delivered(csms: Csms, expected: int) -> tuple[float, float]:
    """Until StopTransaction is answered; (first transaction CALL, last answer) on the CSMS's clock."""
    stop = await csms.wait_for("StopTransaction", timeout=DELIVERY_TIMEOUT)
    answer = None
    while answer is None:
        answer = next(
            (f for f in csms.frames if f.direction == "out" and f.message_type == CALLRESULT and f.unique_id == stop.unique_id),
            None,
        )
        await asyncio.sleep(0.01)
    calls = [f for f in csms.frames if f.direction == "in" and f.action in TRANSACTION_ACTIONS and f.message_type == 2]
    payloads = [json.dumps(f.payload, sort_keys=True) for f in calls]
    if len(calls) != expected or len(set(payloads)) != expected:
        raise RuntimeError(f"expected {expected} distinct transaction messages, the CSMS got {len(calls)} ({len(set(payloads))} distinct)")
    if [f.action for f in calls][0] != "StartTransaction" or any(f.payload.get("transactionId") != 1 for f in calls[1:]):
        raise RuntimeError("messages out of order or without the transactionId the CSMS gave")
    return calls[0].at, answer.at


async def station_run(meter_values: int) -> tuple[float, float]:
    """(messages per second, seconds from CSMS up to the last answer) for the station."""
    with tempfile.TemporaryDirectory(prefix="cp-replay-") as tmp:
        port = free_port()
        station = Station(Path(tmp), f"ws://127.0.0.1:{port}/ocpp", quiet_seconds(meter_values))
        try:
            await station.start()
            await station.offline_session()
            await station.stop()
            queue = fill_queue(station.database, meter_values)
            await station.start()
            queued = (await station.command("status"))["queued"]
            if queued != len(queue):
                raise RuntimeError(f"the station reports {queued} queued, the database holds {len(queue)}")
            async with Csms(port=port, boot_interval=3600) as csms:
                up = time.monotonic()
                first, last = await wait_delivered(csms, len(queue))
            return len(queue) / (last - first), last - up
        finally:
            await station.stop()


async def baseline_run(queue: list[tuple[str, dict[str, Any]]]) -> float:
    with tempfile.TemporaryDirectory(prefix="cp-replay-base-") as tmp:
        messages = Path(tmp) / "messages.json"
        messages.write_text(json.dumps(queue))
        async with Csms(boot_interval=3600) as csms:
            process = await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "bench" / "baseline_meter_values.py"), f"{csms.url}/{IDENTITY}", str(messages),
                cwd=ROOT, env=child_env({}), stdin=asyncio.subprocess.DEVNULL,
            )
            try:
                first, last = await wait_delivered(csms, len(queue))
            finally:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            if process.returncode != 0:
                raise RuntimeError(f"the baseline client exited with {process.returncode}")
    return len(queue) / (last - first)


async def sample_queue(meter_values: int) -> list[tuple[str, dict[str, Any]]]:
    """The queue as the station writes it, for the baseline to send: one offline session, filled."""
    with tempfile.TemporaryDirectory(prefix="cp-replay-q-") as tmp:
        station = Station(Path(tmp), f"ws://127.0.0.1:{free_port()}/ocpp", quiet_seconds(meter_values))
        try:
            await station.start()
            await station.offline_session()
        finally:
            await station.stop()
        return fill_queue(station.database, meter_values)


def line(figure: str, runs: list[float], unit_format: str) -> float:
    median = statistics.median(runs)
    print(f"{figure} median={median:{unit_format}} runs=[{', '.join(format(v, unit_format) for v in runs)}]")
    return median


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--meter-values", type=int, default=2000, help="MeterValues in the transaction (default 2000)")
    args = parser.parse_args()
    if args.runs < 1 or args.meter_values < 2:
        parser.error("--runs must be at least 1 and --meter-values at least 2")

    station_rates: list[float] = []
    catch_up: list[float] = []
    baseline_rates: list[float] = []
    queue = await sample_queue(args.meter_values)
    for _ in range(args.runs):
        rate, seconds = await station_run(args.meter_values)
        station_rates.append(rate)
        catch_up.append(seconds)
        baseline_rates.append(await baseline_run(queue))

    messages = len(queue)
    ours = line(f"replay_{messages}_msgs station_msgs_per_s", station_rates, ".0f")
    base = line(f"replay_{messages}_msgs baseline_one_outstanding_call_msgs_per_s", baseline_rates, ".0f")
    print(f"replay_{messages}_msgs ratio_station_to_baseline={ours / base:.2f}")
    line(f"replay_{messages}_msgs station_csms_up_to_drained_s", catch_up, ".2f")


if __name__ == "__main__":
    asyncio.run(main())
