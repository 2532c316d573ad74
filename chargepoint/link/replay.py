"""Which CALLs on one connection reuse a message ID (OCPP-J §4.1.4: "A message ID for a CALL
message MUST be different from all message IDs previously used by the same sender … on the same
WebSocket connection").

The same ID with the same action and payload is the CSMS resending what it thinks was lost (a
network problem), which the whitepaper's AttemptedReplayAttacks excludes: it is answered again as
before. The same ID with anything else is no resend: a captured frame altered and played back,
or a peer that is not the CSMS it says it is. That one is refused with SecurityError and reported
as AttemptedReplayAttacks. The memory is per connection and bounded, as a board's RAM is.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from enum import Enum
from typing import Any

REMEMBERED = 1000  # message IDs per connection


class Seen(Enum):
    NEW = "new"
    RESENT = "resent"
    REPLAYED = "replayed"


class SeenCalls:
    def __init__(self, remembered: int = REMEMBERED) -> None:
        self._remembered = remembered
        self._calls: OrderedDict[str, str] = OrderedDict()

    def check(self, unique_id: str, action: str, payload: Any) -> Seen:
        """Judge one CALL; a new one is remembered (the oldest forgotten past `remembered`)."""
        content = json.dumps([action, payload], sort_keys=True, separators=(",", ":"))
        known = self._calls.get(unique_id)
        if known is not None:
            return Seen.RESENT if known == content else Seen.REPLAYED
        self._calls[unique_id] = content
        if len(self._calls) > self._remembered:
            self._calls.popitem(last=False)
        return Seen.NEW
