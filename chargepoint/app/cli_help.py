"""What `chargepoint --help` tells about the arguments every bench command shares, and
`--version`, kept apart from the parser so cli.py stays about running commands."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from chargepoint.connector.status import FAULT_CODES

CONNECTOR = "the connector number, 1 to the station's NumberOfConnectors"
FAULT_CONNECTOR = "the connector number, 1 to NumberOfConnectors; 0 is the whole station"
FAULT_CODE = "the ChargePointErrorCode to raise, one of: " + ", ".join(FAULT_CODES)
STATUS_JSON = "print the same report as JSON, for scripts (link_error: why the last connect failed)"
CONFIG_JSON = "print the keys as JSON: configurationKey and unknownKey as in GetConfiguration, and writeOnly"
# `ev N battery`: the flags, as drivers.battery names the fields.
BATTERY = {
    "capacity": "the battery's capacity in kWh",
    "soc": "its state of charge at plug-in, and now if plugged in (%%)",
    "target": "the SoC where the EV stops asking for energy (%%)",
    "max-ac-kw": "the most it takes on AC (its on-board charger), kW",
    "max-dc-kw": "the most it takes on DC, kW",
}
WEB = ("serve the bench's web page on HOST:PORT (e.g. 127.0.0.1:8080; port 0 picks one and logs it);"
       " overrides the web setting; off loopback only with web_password")
EPILOG = (
    "N is a connector number, 1 to the station's NumberOfConnectors (0, the whole station, for fault). "
    "Bench commands need the daemon running; a command that changes nothing exits 1 saying so. "
    "`chargepoint COMMAND --help` describes each command."
)


class VersionAction(argparse.Action):
    """`--version`: the installed package's version, looked up only when asked, so no other
    command pays for importlib.metadata (some 20 ms) at start."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: str | None = None
    ) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed = version("chargepoint")
        except PackageNotFoundError:  # run from a checkout that was never installed
            installed = "unknown (not installed)"
        print(f"chargepoint {installed}")
        parser.exit(0)
