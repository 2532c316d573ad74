"""`chargepoint scenario list` and `chargepoint scenario run [NAME…] --csms URL [--junit FILE]`.

Exit status: 0 when every scenario passed, 1 when one failed, 2 for an unknown name, a bad
scenario file or a bad argument.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chargepoint.app.settings import Settings
from chargepoint.scenarios.cases import LOCATIONS, TAGS, ScenarioError, catalogue, select

if TYPE_CHECKING:
    from chargepoint.scenarios.runner import Instruction

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_TAGS = {name: f"SCN-{name.upper()}" for name in TAGS}
# The station every scenario runs unless its file says otherwise: one connector, every profile.
STATION = {"profile": "wemob", "model": "wemob-wall-ac22", "extra_profiles": ["Reservation", "RemoteTrigger"]}
# What --config may set for the scenarios' station: how it reaches this CSMS, and which one it is.
CARRIED = {"profile", "model", "password", "tls_ca", "tls_cert", "tls_key", "response_timeout"}


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """The `scenario` subcommands, on the CLI's own subparsers."""
    scenario = commands.add_parser("scenario", parents=[common], help="certification-style scenarios against a CSMS")
    actions = scenario.add_subparsers(dest="action", required=True, parser_class=type(scenario))
    actions.add_parser("list", parents=[common], help="the scenarios, with the test case each mirrors")
    run = actions.add_parser("run", parents=[common], help="run scenarios (all when none is named) against a CSMS")
    run.add_argument("names", nargs="*", metavar="NAME", help="a scenario name from `scenario list`, or a .toml file")
    run.add_argument("--csms", required=True, metavar="URL", help="the CSMS's ws:// or wss:// URL; the identity is appended")
    run.add_argument("--identity", default="CP-SCENARIO", help="the station identity the CSMS knows (default: CP-SCENARIO)")
    run.add_argument("--junit", type=Path, metavar="FILE", help="write a JUnit XML report here")
    run.add_argument("--time-scale", type=float, default=1.0, metavar="X", help="multiply every timeout and wait by X")
    run.add_argument(
        "--operator-timeout", type=float, default=120.0, metavar="S",
        help="seconds the CSMS's operator gets for each request asked of them (default 120)",
    )
    for name in TAGS:
        run.add_argument(f"--{name}-tag", metavar="IDTAG", help=f"the CSMS's {name} idTag (default {DEFAULT_TAGS[name]})")
    run.add_argument("--firmware-url", metavar="URL", help="a firmware image the station can download (TC_044_1)")
    run.add_argument("--diagnostics-url", metavar="URL", help="where the station can upload diagnostics (TC_045_1)")


def main(args: argparse.Namespace, settings: Settings) -> int:
    """Only the CARRIED settings given in --config reach the station; the rest is the run's."""
    try:
        if args.action == "list":
            scenarios = catalogue()
            width = max(len(s.name) for s in scenarios)
            for scenario in scenarios:
                print(f"{scenario.name:{width}s}  {scenario.mirrors:14s}  {scenario.title}")
            return EXIT_OK
        scenarios = select(args.names)
    except ScenarioError as exc:
        print(f"chargepoint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    problem = _argument_problem(args)
    if problem:
        print(f"chargepoint: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from chargepoint.scenarios.report import summary, write_junit
    from chargepoint.scenarios.runner import RunOptions, Runner

    carried = {name: getattr(settings, name) for name in CARRIED & settings.model_fields_set}
    tags = {name: getattr(args, f"{name}_tag") or DEFAULT_TAGS[name] for name in TAGS}
    tags |= {name: getattr(args, name) for name in LOCATIONS if getattr(args, name)}
    options = RunOptions(args.csms, args.identity, {**STATION, **carried}, tags, args.time_scale, args.operator_timeout)
    logging.getLogger("chargepoint").setLevel(logging.CRITICAL)  # the steps' lines are the output
    results = asyncio.run(Runner(options, _ask, lambda line: print(line, flush=True)).run(scenarios))
    print(summary(results))
    if args.junit:
        write_junit(results, args.junit)
    return EXIT_OK if all(r.passed for r in results) else EXIT_FAILED


def _argument_problem(args: argparse.Namespace) -> str | None:
    if urlsplit(args.csms).scheme not in ("ws", "wss") or not urlsplit(args.csms).hostname:
        return f"--csms must be a ws:// or wss:// URL, not {args.csms!r}"
    if not 0 < args.time_scale <= 100:
        return "--time-scale must be above 0 and at most 100"
    if not 0 < args.operator_timeout <= 86_400:
        return "--operator-timeout must be above 0 and at most 86400 seconds"
    if not 1 <= len(args.identity) <= 48:
        return "--identity must be 1 to 48 characters"
    for name in TAGS:
        tag = getattr(args, f"{name}_tag")
        if tag is not None and not 1 <= len(tag) <= 20:
            return f"--{name}-tag must be 1 to 20 characters (OCPP IdToken)"
    return None


async def _ask(instruction: Instruction) -> None:
    """The person at the CSMS: told what to do; a setting to make waits for Enter at a terminal."""
    print(f"  OPERATOR  {instruction.text}", flush=True)
    if instruction.task is not None and sys.stdin.isatty():
        await asyncio.to_thread(input, "            press Enter when done ")
