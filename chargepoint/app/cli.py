"""The `chargepoint` command: the daemon, the demo, status, local configuration, bench actions."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import signal
import subprocess
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ocpp.v16.enums import ResetType

from chargepoint.app import cli_help, ocmf_commands
from chargepoint.app.status_view import human_status
from chargepoint.control.server import DaemonNotRunning, NoAnswer, send_command
from chargepoint.control.web.access import bind_argument, page_problem
from chargepoint.fleet import command as fleet
from chargepoint.vendors.wallbox import id_tag_from_uid, parse_uid
from chargepoint.app.settings import Settings, SettingsError, load_settings, unknown_environment
from chargepoint.infra.database import DatabaseGone, SchemaTooNew
from chargepoint.infra.lock import DataDirBusy, DataDirLock
from chargepoint.scenarios import command as scenario_command

if TYPE_CHECKING:
    from chargepoint.app.station import Station
    from chargepoint.control.web.server import WebServer

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_HARD_RESET = 10  # Hard reset: the service manager (Restart=always) starts the station again
# How long each waits for the data directory: a starting daemon for an offline `config` (which
# holds it for milliseconds), `config` for a starting or stopping daemon's control socket.
RUN_WAIT, CONFIG_WAIT = 2.0, 10.0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line naming what is wrong, instead of argparse's usage dump."""
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chargepoint", description="OCPP 1.6J charge point", epilog=cli_help.EPILOG)
    parser.add_argument("--config", metavar="FILE", help="TOML settings file (default: $CHARGEPOINT_CONFIG)")
    parser.add_argument("--version", action=cli_help.VersionAction, help="print the version and exit")
    # Accepted after the subcommand too; SUPPRESS keeps a value given before it.
    common = _Parser(add_help=False)
    common.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)  # none: the help, see main

    run = commands.add_parser("run", parents=[common], help="run the station daemon")
    run.add_argument("--web", metavar="HOST:PORT", type=bind_argument, help=cli_help.WEB)
    commands.add_parser("demo", parents=[common], help="a complete charging session against a local CSMS")
    status = commands.add_parser("status", parents=[common], help="link, registration and connectors")
    status.add_argument("--json", action="store_true", help=cli_help.STATUS_JSON)

    config = commands.add_parser("config", parents=[common], help="read or change configuration keys")
    config_commands = config.add_subparsers(dest="action", required=True, parser_class=_Parser)
    get = config_commands.add_parser("get", parents=[common], help="GetConfiguration, locally")
    get.add_argument("keys", nargs="*", metavar="KEY")
    get.add_argument("--json", action="store_true", help=cli_help.CONFIG_JSON)
    change = config_commands.add_parser("set", parents=[common], help="ChangeConfiguration, locally")
    change.add_argument("key", metavar="KEY")
    change.add_argument("value", metavar="VALUE")
    _bench_parsers(commands, common)
    ocmf_commands.add_commands(commands, common)
    scenario_command.add_parser(commands, common)
    fleet.add_commands(commands, common, _Parser)
    return parser


def _bench_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """The bench commands: what a person or the hardware does at the station."""
    for name, text in (("plug", "EV cable connected"), ("unplug", "EV cable disconnected")):
        sub = commands.add_parser(name, parents=[common], help=f"bench: {text} on connector N")
        sub.add_argument("connector", type=int, metavar="N", help=cli_help.CONNECTOR)
        if name == "plug":
            sub.add_argument("--evccid", metavar="HEX", help="the EV's EVCCID, as in its DIN 70121 / ISO 15118 SessionSetupReq")
    pin = commands.add_parser("pin", parents=[common], help="bench: a PIN typed on the station's pad (Commander 2)")
    pin.add_argument("code", metavar="CODE", help="the PIN, 4 to 8 digits")
    pin.add_argument("--connector", type=int, metavar="N", help=cli_help.CONNECTOR)
    hmi = commands.add_parser("hmi", parents=[common], help="bench: the station's own menu (WEMOB DC)")
    hmi_settings = hmi.add_subparsers(dest="setting", required=True, parser_class=_Parser)
    hmi_settings.add_parser("silent-mode", parents=[common], help="More options > Settings > Silent mode").add_argument(
        "value", choices=("on", "off")
    )
    hmi_settings.add_parser("language", parents=[common], help="the menu's language").add_argument(
        "value", choices=("pt", "en", "es")
    )
    swipe = commands.add_parser("swipe", parents=[common], help="bench: an idTag presented at the reader")
    card = swipe.add_mutually_exclusive_group(required=True)
    card.add_argument("id_tag", metavar="IDTAG", nargs="?")
    card.add_argument("--uid", metavar="HEX", help="a card UID as read (e.g. 04:A2:1B:3C), sent the Wallbox way")
    swipe.add_argument("--connector", type=int, metavar="N", help=cli_help.CONNECTOR + " (default: the reader's pick)")
    ev = commands.add_parser("ev", parents=[common], help="bench: the EV asks for energy or pauses; its battery")
    ev.add_argument("connector", type=int, metavar="N", help=cli_help.CONNECTOR)
    ev.add_argument("action", choices=("charge", "suspend", "battery"))
    for flag, text in cli_help.BATTERY.items():
        ev.add_argument(f"--{flag}", type=float, metavar="X", default=argparse.SUPPRESS, help=text)
    meter_sim = commands.add_parser("meter-sim", parents=[common], help="an SDM630 meter on Modbus TCP, simulated")
    meter_sim.add_argument("--host", default="127.0.0.1")
    meter_sim.add_argument("--port", type=int, default=5020)
    meter_sim.add_argument("--power", type=float, default=7400.0, metavar="W", help="constant load in W")
    meter_sim.add_argument("--register", type=Path, metavar="FILE", help="keeps the energy register across restarts")
    estop = commands.add_parser("estop", parents=[common], help="bench: press the emergency stop button (it latches)")
    estop.add_argument("--release", action="store_true", help="release it")
    commands.add_parser("tamper", parents=[common], help="bench: trigger the enclosure's tamper switch")
    security_log = commands.add_parser("security-log", parents=[common], help="the security log's entries, oldest first")
    security_log.add_argument("--clear", action="store_true", help="empty it (raises SecurityLogWasCleared)")
    lock = commands.add_parser("lock", parents=[common], help="bench: jam or free the socket lock of connector N")
    lock.add_argument("connector", type=int, metavar="N", help=cli_help.CONNECTOR)
    lock.add_argument("state", choices=("jam", "free"))
    fault = commands.add_parser("fault", parents=[common], help="bench: raise or clear a ChargePointErrorCode")
    fault.add_argument("connector", type=int, metavar="N", help=cli_help.FAULT_CONNECTOR)
    fault.add_argument("code", nargs="?", metavar="CODE", help=cli_help.FAULT_CODE)
    fault.add_argument("--clear", action="store_true", help="clear the faults raised by hand on connector N")
    fault.add_argument("--info", help="free text sent in StatusNotification.info")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:  # a usage error, as argparse treats a missing argument: exit 2
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.command == "meter-sim":
        return _meter_sim(args)  # a stand-alone device: no station settings needed
    for warning in unknown_environment(os.environ):
        print(f"chargepoint: warning: {warning}", file=sys.stderr)
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        return _refused(exc)
    try:
        return _dispatch(settings, args)
    except SettingsError as exc:  # one the hardware refuses at start (a meter path, …)
        return _refused(exc)
    except (SchemaTooNew, NoAnswer) as exc:
        print(f"chargepoint: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except DataDirBusy as exc:
        print(f"chargepoint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseGone:
        return EXIT_FAILED  # logged at ERROR where it was noticed; the service manager restarts us
    except (OSError, sqlite3.Error) as exc:
        print(f"chargepoint: cannot use data_dir {settings.data_dir}: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _refused(exc: SettingsError) -> int:
    for problem in exc.problems:
        print(f"chargepoint: setting {problem}", file=sys.stderr)
    return EXIT_USAGE


def _dispatch(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "run":
        web = args.web or settings.web
        problem = page_problem(web, settings.web_secret)
        if problem:
            raise SettingsError([problem])
        with DataDirLock(settings.data_dir, wait=RUN_WAIT):
            return _run(settings, web)
    if args.command == "demo":
        from chargepoint.app.demo import run_demo

        return run_demo(settings)
    if args.command == "config":
        return _config(settings, args)
    if args.command in ocmf_commands.COMMANDS:
        return ocmf_commands.run_command(settings, args)
    if args.command == "scenario":
        return scenario_command.main(args, settings)
    if args.command == "fleet":
        return fleet.main(settings, args)
    return _bench(settings, args)


def _run(settings: Settings, web: str | None) -> int:
    from chargepoint.app.logs import setup_logging
    from chargepoint.app.service_manager import ServiceManager
    from chargepoint.app.station import Station
    from chargepoint.infra.secrets import SecretScrubber

    scrubber = SecretScrubber()
    for secret in (settings.password, settings.web_password):
        if secret:
            scrubber.add(secret.get_secret_value())
    setup_logging(settings.log_level, scrubber, settings.station_log, settings.log_max_bytes)

    async def serve() -> ResetType | None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        service_manager = ServiceManager()
        station = Station(settings, scrubber)
        page = await _web_page(station, web, settings.web_secret)
        notifying = loop.create_task(service_manager.run(lambda: station.status_text))
        kind: ResetType | None = None
        try:
            kind = await station.run()
        except asyncio.CancelledError:
            pass
        finally:
            if page is not None:
                await page.close()
        if kind == ResetType.soft:
            service_manager.restarting_in_place()  # RELOADING, not STOPPING, when it stops below
        notifying.cancel()
        await asyncio.gather(notifying, return_exceptions=True)
        return kind

    kind = asyncio.run(serve())
    if kind == ResetType.soft:
        # The same program, arguments and environment: a clean start that keeps the PID.
        try:
            os.execv(sys.executable, [sys.executable, "-m", "chargepoint", *sys.argv[1:]])
        except OSError as exc:
            print(f"chargepoint: soft reset could not restart in place ({exc}); exiting for a restart", file=sys.stderr)
            return EXIT_HARD_RESET
    if kind == ResetType.hard:
        return _hard_reset(settings)
    return EXIT_OK


async def _web_page(station: Station, web: str | None, password: str | None) -> WebServer | None:
    """The bench's web page, where `run --web` or the `web` setting asks for one."""
    if web is None:
        return None
    from chargepoint.control.web.server import serve_web

    try:
        return await serve_web([station], web, password)
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)  # asyncio's own text repeats the address
        raise SettingsError([f"web: cannot serve the page on {web}: {why}"]) from None


def _meter_sim(args: argparse.Namespace) -> int:
    from drivers.sdm630_sim import serve_forever

    if not 0 < args.port < 65536:
        print("chargepoint: --port must be 1 to 65535", file=sys.stderr)
        return EXIT_USAGE
    print(f"SDM630 simulator on modbus-tcp://{args.host}:{args.port}?unit=1&model=sdm630, load {args.power:g} W", flush=True)
    try:
        asyncio.run(serve_forever(args.host, args.port, args.power, args.register))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"chargepoint: meter-sim: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _hard_reset(settings: Settings) -> int:
    """Reboot the board when a command is configured, else let the service manager restart us."""
    if settings.reboot_command is None:
        return EXIT_HARD_RESET
    from chargepoint.app.configuration import open_configuration
    from chargepoint.infra.database import Database

    db = Database(settings.database_path)
    retries = open_configuration(settings, db).integer("ResetRetries")
    db.close()
    for attempt in range(1 + retries):
        result = subprocess.run(shlex.split(settings.reboot_command), check=False)
        if result.returncode == 0:
            break
        print(f"chargepoint: reboot command failed (exit {result.returncode}), attempt {attempt + 1}", file=sys.stderr)
    return EXIT_HARD_RESET


def _config(settings: Settings, args: argparse.Namespace) -> int:
    request: dict[str, Any]
    if args.action == "get":
        request = {"command": "config-get", "keys": args.keys}
    else:
        request = {"command": "config-set", "key": args.key, "value": args.value}
    reply = _config_reply(settings, request)
    if not reply["ok"]:
        print(f"chargepoint: {reply['error']}", file=sys.stderr)
        return EXIT_FAILED
    if args.action == "set":
        print(reply["status"])
        if reply["reason"]:
            print(f"chargepoint: {args.key}: {reply['reason']}", file=sys.stderr)
        return EXIT_OK if reply["accepted"] else EXIT_FAILED
    if args.json:
        listing = {"configurationKey": reply["keys"], "unknownKey": reply["unknown"], "writeOnly": reply["write_only"]}
        print(json.dumps(listing, indent=2))
    else:
        for key in reply["keys"]:
            mode = "R " if key["readonly"] else "RW"
            print(f"{key['key']} {mode} {'' if key['value'] is None else key['value']}")
        for key in reply["write_only"]:
            print(f"{key['key']} W  (write-only: {'set' if key['set'] else 'not set'})")
        for name in reply["unknown"]:
            print(f"{name} unknown key")
    return EXIT_FAILED if reply["unknown"] else EXIT_OK


def _config_reply(settings: Settings, request: dict[str, Any]) -> dict[str, Any]:
    """From the daemon if one listens, else from the store under the data directory's lock. A
    daemon holding the lock without a socket is starting or stopping: wait for either."""
    deadline = time.monotonic() + CONFIG_WAIT
    while True:
        try:
            return send_command(settings.control_socket, request)
        except DaemonNotRunning:
            pass
        try:
            with DataDirLock(settings.data_dir):
                return _config_offline(settings, request)
        except DataDirBusy:
            if time.monotonic() >= deadline:
                raise
        time.sleep(0.1)


def _config_offline(settings: Settings, request: dict[str, Any]) -> dict[str, Any]:
    """No daemon: the same rules, straight on the database (the caller holds the lock)."""
    from chargepoint.control.commands import config_get, config_set
    from chargepoint.control.server import CommandError
    from chargepoint.app.configuration import open_configuration
    from chargepoint.infra.database import Database

    db = Database(settings.database_path)
    try:
        config = open_configuration(settings, db)
        if request["command"] == "config-get":
            return {"ok": True, **config_get(config, request["keys"])}
        return {"ok": True, **config_set(config, request["key"], request["value"])}
    except CommandError as exc:
        return {"ok": False, "error": str(exc)}
    finally:
        db.close()


def _bench(settings: Settings, args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"command": args.command}
    if args.command == "swipe":
        try:
            id_tag = args.id_tag or id_tag_from_uid(parse_uid(args.uid))
        except ValueError as exc:
            print(f"chargepoint: --uid: {exc}", file=sys.stderr)
            return EXIT_USAGE
        request.update(id_tag=id_tag, connector=args.connector)
    elif args.command == "pin":
        request.update(code=args.code, connector=args.connector)
    elif args.command == "hmi":
        request.update(setting=args.setting, value=args.value)
    elif args.command == "security-log":
        request["clear"] = args.clear
    elif args.command not in ("status", "estop", "tamper"):
        request["connector"] = args.connector
    if args.command == "plug":
        request["evccid"] = args.evccid
    if args.command == "ev":
        request["action"] = args.action
        names = [flag.replace("-", "_") for flag in cli_help.BATTERY]
        request["battery"] = {name: getattr(args, name) for name in names if hasattr(args, name)}
        if request["battery"] and args.action != "battery":
            print("chargepoint: battery values go with `ev N battery` only", file=sys.stderr)
            return EXIT_USAGE
    if args.command == "lock":
        request["state"] = args.state
    if args.command == "estop":
        request["release"] = args.release
    if args.command == "fault":
        if args.clear == (args.code is not None):
            print("chargepoint: fault needs either a CODE or --clear", file=sys.stderr)
            return EXIT_USAGE
        request.update(code=args.code, info=args.info)
    try:
        reply = send_command(settings.control_socket, request)
    except DaemonNotRunning as exc:
        print(f"chargepoint: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not reply["ok"]:
        print(f"chargepoint: {reply['error']}", file=sys.stderr)
        return EXIT_FAILED
    if args.command == "status":
        print(json.dumps(reply, indent=2) if args.json else human_status(reply))
    else:
        print(reply["message"])
    return EXIT_OK
