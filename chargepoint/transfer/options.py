"""How a transfer may behave: the station's settings, read once."""

from __future__ import annotations

from dataclasses import dataclass
from ssl import SSLContext


@dataclass(frozen=True)
class TransferOptions:
    max_bytes: int  # the largest file a download takes
    stall_timeout: float  # seconds with no byte moving (and the connect timeout)
    ssl: SSLContext | None = None  # https trust; None: the system's
    reserve_bytes: int = 0  # free disk a download must leave
