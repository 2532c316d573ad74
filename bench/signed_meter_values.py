"""The cost of signing: MeterValues built per second with signed_meter_values off and on.

Each MeterValues is built as the station's sampler builds one during a transaction (the
configured measurands, then the OCMF record of the energy register: its page number stored in
the station's SQLite database, synchronous=FULL, and an ECDSA P-256 signature). Prints the
median of several runs per figure, one line each, the ratio, and the signature alone (the
rest of the difference is the page number's fsync, so it depends on the storage).

Usage: python bench/signed_meter_values.py [--runs 5] [--seconds 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from ocpp.v16 import call
from ocpp.v16.enums import ReadingContext

from chargepoint.app.configuration import open_configuration
from chargepoint.app.settings import Settings
from chargepoint.app.signed_values import meter_signer
from chargepoint.infra.clock import Clock
from chargepoint.infra.database import Database
from chargepoint.infra.state import StateTable
from chargepoint.metering.signing import DeviceKey
from chargepoint.metering.values import MeterValueBuilder
from configkeys import boot_notification_fields
from drivers.meter import MeterReading


def builder(data_dir: Path, signed: bool) -> MeterValueBuilder:
    settings = Settings(data_dir=data_dir, signed_meter_values=signed)
    db = Database(settings.database_path)
    clock = Clock()
    boot = vars(call.BootNotification(**boot_notification_fields(settings.station_model, settings.identity)))
    return MeterValueBuilder(open_configuration(settings, db), clock, meter_signer(settings, boot, StateTable(db), clock))


def per_second(meter_values: MeterValueBuilder, seconds: float) -> float:
    built, energy = 0, 1_000_000.0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        energy += 10
        reading = MeterReading(energy, 7400.0, datetime.now(timezone.utc), voltage_v=(230.0, 230.0, 230.0))
        sample = meter_values.build(reading, "MeterValuesSampledData", ReadingContext.sample_periodic, energy - 10)
        meter_values.sign([sample], 1, "04A21B3C", reading, ReadingContext.sample_periodic)
        assert sample is not None and len(sample["sampled_value"]) == (2 if meter_values.signer else 1)
        built += 1
    return built / elapsed


def signatures_per_second(data_dir: Path, seconds: float) -> float:
    """The ECDSA signature alone, without the page number's database write."""
    key, text, signed = DeviceKey.of(data_dir), '{"PG":"T1","RD":[{"RV":1000.01}]}', 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        key.sign(text)
        signed += 1
    return signed / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        unsigned, signed = builder(Path(tmp) / "off", False), builder(Path(tmp) / "on", True)
        off = statistics.median(per_second(unsigned, args.seconds) for _ in range(args.runs))
        on = statistics.median(per_second(signed, args.seconds) for _ in range(args.runs))
        alone = statistics.median(signatures_per_second(Path(tmp) / "on", args.seconds) for _ in range(args.runs))
    print(f"MeterValues built per second, signed_meter_values off: {off:.0f}")
    print(f"MeterValues built per second, signed_meter_values on: {on:.0f}")
    print(f"signing costs a factor of {off / on:.1f} ({1000 / on - 1000 / off:.2f} ms per MeterValues)")
    print(f"ECDSA P-256 signatures per second, alone (no page-number write): {alone:.0f}")


if __name__ == "__main__":
    main()
