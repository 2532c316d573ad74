"""Security events as the CSMS hears of them (whitepaper A04): critical ones are sent in a
SecurityEventNotification; every one is logged for the technician."""

from __future__ import annotations

import logging

from ocpp.v16 import call

from chargepoint.infra.clock import Clock
from chargepoint.link.outbox import Outbox, post
from chargepoint.security.events import PUSHED, SecurityEvent

log = logging.getLogger(__name__)


class SecurityEvents:
    def __init__(self, outbox: Outbox, clock: Clock) -> None:
        self._outbox = outbox
        self._clock = clock

    def raise_event(self, kind: SecurityEvent, tech_info: str | None = None) -> None:
        log.warning("security event %s%s", kind.value, f": {tech_info}" if tech_info else "")
        if kind in PUSHED:
            payload = call.SecurityEventNotification(type=kind.value, timestamp=self._clock.timestamp(), tech_info=tech_info and tech_info[:255])
            post(self._outbox, payload, f"SecurityEventNotification {kind.value}")
