"""How a transfer may behave: the station's settings, read once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ssl import SSLContext


@dataclass(frozen=True)
class TransferOptions:
    max_bytes: int  # the largest file a download takes
    stall_timeout: float  # seconds with no byte moving (and the connect timeout)
    # https trust, built when an https transfer first needs it (loading the system's CAs costs
    # start-up time and memory on a board); None: the system's, as aiohttp builds it.
    ssl: Callable[[], SSLContext] | None = None
    reserve_bytes: int = 0  # free disk a download must leave
