"""The live progress line, once a second on stderr: one line redrawn on a terminal, plain lines
in a log (a pod's output, a CI job), where carriage returns would pile up into one."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TextIO

from chargepoint.fleet.figures import Figures
from chargepoint.fleet.latency import Histogram

TICK = 1.0


def progress_line(counts: dict[str, int], rate: float, window: Histogram) -> str:
    latency = (
        f"RTT p50 {window.percentile(50) * 1000:.1f} ms p99 {window.percentile(99) * 1000:.1f} ms"
        if window.count else "RTT -"
    )
    return (
        f"{counts['connected']}/{counts['stations']} connected, {counts['accepted']} accepted,"
        f" {counts['charging']} charging | {rate:.0f} msg/s | {latency}"
    )


async def show_progress(counts: Callable[[], dict[str, int]], figures: Figures, out: TextIO = sys.stderr) -> None:
    """Until cancelled; a terminal's line is ended when it is."""
    tty = out.isatty()
    frames = figures.frames
    try:
        while True:
            await asyncio.sleep(TICK)
            rate, frames = (figures.frames - frames) / TICK, figures.frames
            line = progress_line(counts(), rate, figures.take_window())
            out.write(f"\r\x1b[K{line}" if tty else f"{line}\n")
            out.flush()
    finally:
        if tty:
            out.write("\n")
