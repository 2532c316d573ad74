"""Cost of Smart Charging: computing a composite schedule, and a new limit reaching the EVSE.

Why: GetCompositeSchedule is answered inside the CSMS's response timeout, and the enforcer
recomputes the limit at every period boundary on a board with little CPU; and a CSMS that sets
a profile expects the charger to follow at once. So two figures: the time to compose 10
stacked TxDefaultProfiles (a daily recurring one, relative and absolute ones with 10 periods
each and staggered durations) over 24 h; and the delay from the SetChargingProfile answer
leaving the station to the new current reaching the EVSE driver's set_offered_current, with a
Station object in this process talking to a loopback CSMS (tests/csms.py). Median and p99.

Usage: .venv/bin/python bench/smart_charging.py [--runs 200] [--sets 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocpp.v16 import call  # noqa: E402

from chargepoint.app.settings import Settings  # noqa: E402
from chargepoint.app.station import Station  # noqa: E402
from chargepoint.smart_charging.schedule import ChargingProfile, Limits, Period, composite_schedule  # noqa: E402
from tests.csms import Csms  # noqa: E402

START = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def stacked_profiles() -> list[ChargingProfile]:
    profiles = []
    for level in range(10):
        periods = tuple(Period(i * 1800 * (level + 1), 32.0 - level - i % 3) for i in range(10))
        kind = ("Recurring", "Relative", "Absolute")[level % 3]
        profiles.append(
            ChargingProfile(
                id=level + 1,
                stack_level=level,
                purpose="TxDefaultProfile",
                kind=kind,
                unit="A",
                periods=periods,
                duration=3600 * (level + 2),
                start_schedule=START + timedelta(minutes=7 * level) if kind != "Relative" else None,
                recurrency="Daily" if kind == "Recurring" else None,
            )
        )
    return profiles


def percentiles(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=100)[98]


def bench_composite(runs: int) -> None:
    profiles, limits = stacked_profiles(), Limits(32.0)
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        composite_schedule(profiles, START + timedelta(hours=3), 86400, "A", limits, START)
        samples.append(time.perf_counter() - began)
    median, p99 = percentiles(samples)
    print(f"composite_10_stacked_24h median={median * 1e3:.3f} ms p99={p99 * 1e3:.3f} ms runs={runs}")


async def bench_enforcement(sets: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        async with Csms() as csms:
            settings = Settings(identity="CP-BENCH-SC", csms_url=csms.url, profile="wemob", data_dir=Path(scratch))
            station = Station(settings)
            evse = station.connectors[0].evse
            changed: asyncio.Event = asyncio.Event()
            seen: list[float] = []
            original = evse.set_offered_current

            def offered(amps: float) -> None:
                original(amps)
                if not seen or seen[-1] != amps:
                    seen.append(amps)
                    changed.set()

            evse.set_offered_current = offered  # type: ignore[method-assign]
            running = asyncio.create_task(station.run())
            try:
                await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1)
                await csms.call(call.RemoteStartTransaction(id_tag="TAG1", connector_id=1))
                evse.plug()  # type: ignore[attr-defined]
                evse.ev_charge()  # type: ignore[attr-defined]
                await csms.wait_for("StartTransaction")
                samples = []
                for n in range(sets):
                    amps = 6 + n % 20
                    profile = {
                        "charging_profile_id": 1, "stack_level": 0, "charging_profile_purpose": "TxDefaultProfile",
                        "charging_profile_kind": "Relative",
                        "charging_schedule": {"charging_rate_unit": "A", "charging_schedule_period": [{"start_period": 0, "limit": amps}]},
                    }
                    changed.clear()
                    mark = len(csms.frames)
                    await csms.call(call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile))
                    answered = next(f for f in csms.frames[mark:] if f.direction == "in" and f.message_type == 3)
                    while seen[-1] != amps:
                        await changed.wait()
                        changed.clear()
                    samples.append(time.monotonic() - answered.at)
                median, p99 = percentiles(samples)
                print(f"set_profile_to_offered_current median={median * 1e3:.2f} ms p99={p99 * 1e3:.2f} ms sets={sets}")
            finally:
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--sets", type=int, default=50)
    args = parser.parse_args()
    bench_composite(args.runs)
    asyncio.run(bench_enforcement(args.sets))


if __name__ == "__main__":
    main()
