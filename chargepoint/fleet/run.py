"""`chargepoint fleet run`: the process around a Fleet. Open-file limit, logging, signals, the
one control socket, the progress line, and the summary at the end (Ctrl-C, SIGTERM or
--duration)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

from chargepoint.app.logs import setup_logging
from chargepoint.app.settings import Settings
from chargepoint.control.server import ControlServer, DaemonNotRunning, send_command
from chargepoint.control.web.access import page_problem
from chargepoint.control.web.server import serve_web
from chargepoint.fleet.figures import Figures
from chargepoint.fleet.files import raise_limit
from chargepoint.fleet.fleet import Fleet, Plan, fleet_dir
from chargepoint.fleet.progress import show_progress
from chargepoint.fleet.sessions import Timing
from chargepoint.fleet.summary import summary, table
from chargepoint.infra.secrets import SecretScrubber

EXIT_OK, EXIT_USAGE = 0, 2
SOCKET_LIMIT = 107  # bytes of a Unix socket path


def socket_path(directory: Path, index: int) -> Path:
    """Shard I's control socket: shards sharing a data_dir each keep their own."""
    return directory / f"fleet-{index}.sock"


def run_fleet(template: Settings, names: list[str], args: argparse.Namespace, index: int, timing: Timing | None) -> int:
    web = args.web or template.web
    problem = (
        page_problem(web, template.web_secret)
        or _occupied(socket_path(fleet_dir(template.data_dir), index), index)
        or raise_limit(len(names))
    )
    if problem:
        print(f"chargepoint: fleet: {problem}", file=sys.stderr)
        return EXIT_USAGE
    scrubber = SecretScrubber()
    if template.password:
        scrubber.add(template.password.get_secret_value())
    setup_logging(args.log_level, scrubber)
    fleet = Fleet(Plan(template, names, args.ramp, args.seed, index, timing), Figures(), scrubber)
    try:
        asyncio.run(_serve(fleet, args.duration, web, template.web_secret))
    except OSError as exc:  # the page's port
        print(f"chargepoint: fleet: web: cannot serve the page on {web}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    result = summary(fleet.figures, fleet.describe())
    if args.json_summary:
        args.json_summary.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2) if args.json else table(result), flush=True)
    return EXIT_OK


def _occupied(path: Path, index: int) -> str | None:
    if len(bytes(path)) > SOCKET_LIMIT:
        return f"data_dir: {path} is too long for the fleet's control socket (Unix paths stop at {SOCKET_LIMIT} bytes)"
    try:
        send_command(path, {"command": "fleet-status"}, timeout=5)
    except (DaemonNotRunning, OSError, ValueError):
        return None
    return f"shard {index} already runs on {path.parent}; give another --index or data_dir"


async def _serve(fleet: Fleet, duration: float | None, web: str | None, password: str | None) -> None:
    """Until the duration ends or a signal comes; the stations are closed before the summary.
    The page, where asked for, shows each station as the fleet builds it."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    directory = fleet_dir(fleet.plan.template.data_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    control = ControlServer(socket_path(directory, fleet.plan.index), {"fleet-status": fleet.status})
    await control.start()
    page = await serve_web([], web, password) if web else None
    if page is not None:
        fleet.on_built(page.attach)
    progress = loop.create_task(show_progress(fleet.counts, fleet.figures))
    running = loop.create_task(fleet.run())
    try:
        await asyncio.wait_for(asyncio.shield(running), duration)
    except (asyncio.CancelledError, TimeoutError):
        pass
    finally:
        for work in (progress, running):
            work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(progress, running, return_exceptions=True)
        if page is not None:
            await page.close()
        await control.close()
