"""The process's open-file limit, raised to what N stations need, or the one line saying not.

Each station holds its WebSocket, its SQLite database with the WAL and shared-memory files,
and its frame log: FDS_PER_STATION counts those and one spare for a transfer; the process
itself keeps FDS_BASE (Python, the event loop, the control socket, stdio).
"""

from __future__ import annotations

import resource

FDS_PER_STATION = 6
FDS_BASE = 64


def needed(stations: int) -> int:
    return FDS_BASE + FDS_PER_STATION * stations


def holds(limit: int) -> int:
    """How many stations `limit` open files hold."""
    return max(0, (limit - FDS_BASE) // FDS_PER_STATION)


def target(stations: int, soft: int, hard: int) -> int:
    """The soft limit to set: unchanged when enough, else as much as needed up to the hard one."""
    need = needed(stations)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return soft
    return need if hard == resource.RLIM_INFINITY else min(hard, need)


def raise_limit(stations: int) -> str | None:
    """Raise RLIMIT_NOFILE for `stations`; None when it holds them, else why it cannot."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = target(stations, soft, hard)
    if wanted != soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted != resource.RLIM_INFINITY and wanted < needed(stations):
        return (
            f"--count {stations} needs about {needed(stations)} open files but the hard limit is {hard}: this process"
            f" can hold {holds(wanted)} stations (raise it with ulimit -Hn or LimitNOFILE=, or run more shards)"
        )
    return None
