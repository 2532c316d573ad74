"""`chargepoint fleet run | status | merge`: the fleet's command line and its process concerns.

Logging and signals belong here, once for the whole process, as `run` keeps them for a lone
station. `fleet run --web` serves the fleet's page (control.web) beside the control socket.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from chargepoint.app import cli_help
from chargepoint.app.settings import Settings, SettingsError, load_settings
from chargepoint.control.server import DaemonNotRunning, send_command
from chargepoint.control.web.access import bind_argument
from chargepoint.fleet.identities import DEFAULT_PATTERN, BadPattern, identities
from chargepoint.fleet.sessions import Timing
from chargepoint.fleet.summary import merge, table
from configkeys import get_profile

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
INDEX_ENV = "JOB_COMPLETION_INDEX"  # set by a Kubernetes Indexed Job in each pod


def _at_least(low: float, kind: type = int) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if value < low or value != value:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {text}")
        return value

    return parse


def _positive(text: str) -> float:
    value = _at_least(0.0, float)(text)
    if value == 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return float(value)


def add_commands(commands: Any, common: argparse.ArgumentParser, parser_class: type[argparse.ArgumentParser]) -> None:
    fleet = commands.add_parser("fleet", parents=[common], help="many stations in one process, to load-test a CSMS")
    actions = fleet.add_subparsers(dest="fleet_command", required=True, parser_class=parser_class)
    run = actions.add_parser("run", parents=[common], help="run N stations against a CSMS")
    run.add_argument("--count", type=_at_least(1), required=True, metavar="N", help="stations in this process (shard)")
    run.add_argument("--csms", metavar="URL", help="ws:// or wss:// endpoint (default: the settings' csms_url)")
    run.add_argument("--identity", default=DEFAULT_PATTERN, metavar="PATTERN", help="identity of station n, e.g. CP-{n:04}")
    run.add_argument("--model", metavar="PROFILE:MODEL|FILE", help="e.g. wemob:wemob-station-dc60, or a TOML settings file")
    run.add_argument("--ramp", type=_positive, default=50.0, metavar="PER_S", help="connections opened per second")
    run.add_argument("--seed", type=int, default=1, help="seed of the generated sessions (same seed, same sessions)")
    run.add_argument("--duration", type=_positive, metavar="S", help="stop after S seconds (default: at Ctrl-C/SIGTERM)")
    run.add_argument("--index", type=_at_least(0), metavar="I", help=f"shard I runs stations I*N+1 … I*N+N (default: ${INDEX_ENV} or 0)")
    run.add_argument("--idle", type=_at_least(0.0, float), default=60.0, metavar="S", help="longest pause before a session")
    run.add_argument("--charge", type=_positive, default=300.0, metavar="S", help="longest charge of a session")
    run.add_argument("--no-sessions", action="store_true", help="no generated sessions: only what the CSMS asks for")
    run.add_argument("--json", action="store_true", help="the summary as JSON on stdout instead of the table")
    run.add_argument("--json-summary", type=Path, metavar="FILE", help="also write the JSON summary to FILE")
    run.add_argument("--web", metavar="HOST:PORT", type=bind_argument, help="the fleet's page: " + cli_help.WEB)
    run.add_argument("--log-level", default="WARNING", type=str.upper, choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    status = actions.add_parser("status", parents=[common], help="the running fleet of this data_dir")
    status.add_argument("--index", type=_at_least(0), metavar="I", help=f"which shard (default: ${INDEX_ENV} or 0)")
    status.add_argument("--json", action="store_true")
    merged = actions.add_parser("merge", parents=[common], help="merge per-pod JSON summaries into one")
    merged.add_argument("files", nargs="+", type=Path, metavar="SUMMARY")
    merged.add_argument("--json", action="store_true", help="print the merged JSON instead of the table")


def main(settings: Settings, args: argparse.Namespace) -> int:
    if args.fleet_command == "merge":
        return _merge(args)
    index = _index(args.index)
    if index is None:
        return EXIT_USAGE
    if args.fleet_command == "status":
        return _status(settings, index, args.json)
    from chargepoint.fleet.run import run_fleet

    try:
        template = _template(settings, args)
        names = identities(args.identity, args.count, index)
    except BadPattern as exc:
        return _usage(str(exc))
    timing = None if args.no_sessions else Timing(args.idle, args.charge)
    return run_fleet(template, names, args, index, timing)


def _usage(message: str) -> int:
    print(f"chargepoint: fleet: {message}", file=sys.stderr)
    return EXIT_USAGE


def _index(given: int | None) -> int | None:
    if given is not None:
        return given
    text = os.environ.get(INDEX_ENV, "0")
    if not text.isdigit():
        _usage(f"{INDEX_ENV} must be a shard index (0, 1, …), got {text!r}")
        return None
    return int(text)


def _template(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings every station copies: --config, or the --model file, with --model and --csms."""
    model = args.model
    if model and (model.endswith(".toml") or Path(model).is_file()):
        settings, model = load_settings(model), None
    update: dict[str, Any] = {}
    if model:
        profile, _, name = model.partition(":")
        try:
            station = get_profile(profile).model(name or None)
        except ValueError as exc:
            raise SettingsError([f"--model: {exc}"]) from None
        update = {"profile": profile, "model": station.name, "connectors": station.connectors, "meters": ["sim"] * station.connectors}
    if args.csms:
        try:
            update["csms_url"] = Settings._ws_url(args.csms)
        except ValueError as exc:
            raise SettingsError([f"--csms: {exc} (got {args.csms!r})"]) from None
    return settings.model_copy(update=update)


def _status(settings: Settings, index: int, as_json: bool) -> int:
    from chargepoint.fleet.fleet import fleet_dir
    from chargepoint.fleet.run import socket_path

    try:
        reply = send_command(socket_path(fleet_dir(settings.data_dir), index), {"command": "fleet-status"})
    except DaemonNotRunning:
        print(f"chargepoint: no fleet (shard {index}) is running on data_dir {settings.data_dir}", file=sys.stderr)
        return EXIT_FAILED
    if as_json:
        print(json.dumps(reply, indent=2))
        return EXIT_OK
    fleet = reply["summary"]["fleet"]
    print(f"fleet shard {index}: {fleet['first']} … {fleet['last']} ({fleet['model']}) against {fleet['csms']}")
    print(f"{reply['started']}/{reply['stations']} started, {reply['connected']} connected, {reply['accepted']} accepted,"
          f" {reply['charging']} charging")
    print(table(reply["summary"]))
    return EXIT_OK


def _merge(args: argparse.Namespace) -> int:
    parts = []
    for path in args.files:
        try:
            parts.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            return _usage(f"merge: cannot read {path}: {exc}")
    try:
        merged = merge(parts)
    except (ValueError, KeyError, TypeError) as exc:
        return _usage(f"merge: {exc}")
    print(json.dumps(merged, indent=2) if args.json else table(merged))
    return EXIT_OK
