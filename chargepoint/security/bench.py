"""Bench commands of the security package: the enclosure's tamper switch, and the security log
as a technician on site reads or clears it."""

from __future__ import annotations

import json

from chargepoint.control.server import Handler, Reply, Request
from chargepoint.security.events import SecurityEvent
from chargepoint.security.notifications import SecurityEvents


class SecurityBench:
    def __init__(self, events: SecurityEvents) -> None:
        self._events = events

    def handlers(self) -> dict[str, Handler]:
        return {"tamper": self.tamper, "security-log": self.security_log}

    async def tamper(self, request: Request) -> Reply:
        """Bench: the enclosure was opened, as a real tamper switch would report it."""
        self._events.raise_event(SecurityEvent.tamper_detection_activated, "enclosure opened (tamper switch)")
        return {"message": "tamper switch triggered: TamperDetectionActivated queued for the CSMS"}

    async def security_log(self, request: Request) -> Reply:
        """The log's entries, one per line, or with `clear` an empty log whose first entry says so."""
        if request.get("clear"):
            self._events.log.clear()
            self._events.raise_event(SecurityEvent.security_log_was_cleared, "cleared on site (chargepoint security-log --clear)")
            return {"message": "security log cleared: SecurityLogWasCleared queued for the CSMS"}
        lines = [_shown(line) for line in self._events.log.entries()]
        return {"message": "\n".join(lines) if lines else "the security log is empty"}


def _shown(line: str) -> str:
    entry = json.loads(line)
    info = f"  {entry['techInfo']}" if entry.get("techInfo") else ""
    return f"{entry['time']}  {entry.get('event')}{info}"
