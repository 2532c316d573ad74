"""The signed-meter-values commands: `meter-key` (the public key, PEM) and `verify-ocmf`
(records checked against it).

Both read data_dir only, so they work with the daemon stopped; `meter-key` makes the key if the
station has none yet, so it can be registered with the CSMS before the first start. The
cryptography they need is imported when one runs: every other command starts without it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chargepoint.app.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
COMMANDS = ("meter-key", "verify-ocmf")


def add_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    commands.add_parser("meter-key", parents=[common], help="the public key the station signs meter values with (PEM)")
    verify = commands.add_parser("verify-ocmf", parents=[common], help="check signed meter values (OCMF records)")
    verify.add_argument(
        "file", metavar="FILE", help="OCMF records one per line, a frame log, or MeterValues JSON; - for stdin"
    )
    verify.add_argument("--key", type=Path, metavar="PEM", help="public key to check against (default: the station's)")


def run_command(settings: Settings, args: argparse.Namespace) -> int:
    from chargepoint.metering.signing import DeviceKey

    if args.command == "meter-key":
        try:
            print(DeviceKey.of(settings.data_dir).public_pem(), end="")
        except ValueError as exc:  # a key file that is not one: never replaced behind the CSMS's back
            print(f"chargepoint: {exc}", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK
    return _verify(settings, args)


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    from chargepoint.metering.signing import KEY_FILE, DeviceKey
    from chargepoint.metering.verify import check, public_key, records_in

    if args.key is None and not (settings.data_dir / KEY_FILE).exists():  # a new key would verify nothing
        print(f"chargepoint: no meter signing key in {settings.data_dir}; give the public key with --key PEM", file=sys.stderr)
        return EXIT_USAGE
    try:
        key = public_key(args.key.read_bytes()) if args.key else DeviceKey.of(settings.data_dir).public_key
    except (OSError, ValueError) as exc:
        print(f"chargepoint: --key {args.key}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(errors="replace")
    except OSError as exc:
        print(f"chargepoint: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    records = records_in(text)
    if not records:
        print(f"chargepoint: no OCMF record in {args.file}", file=sys.stderr)
        return EXIT_FAILED
    failed = 0
    for number, record in enumerate(records, start=1):
        verdict = check(record, key)
        if verdict.verified:
            print(f"record {number}: verified: {verdict.what}")
        else:
            failed += 1
            print(f"record {number}: FAILED: {verdict.problem}: {verdict.what}")
    print(f"{len(records) - failed} of {len(records)} records verified")
    return EXIT_OK if failed == 0 else EXIT_FAILED
