"""Security events as the CSMS hears of them (whitepaper A04): every one goes into the security
log; a critical one, or one a use case says is sent (events.PUSHED), is also queued in the
database and sent in a SecurityEventNotification.

"Security events that are critical should be pushed" (§8), and A04.FR.02 wants them "queued with
a guaranteed delivery": like transaction messages they are written to SQLite before anything else
happens, so an offline period or a power cut loses none, and they leave one at a time, in the
order raised, each with the timestamp of the moment it happened. Stored events are handed to the
link the moment the station is Accepted, before the StatusNotifications of the new connection,
so a CSMS learns of a tamper or a reboot before anything else. Other non-critical events stay in the
security log, where GetLog SecurityLog fetches them; pushing them too would flood a CSMS with
InvalidMessages from the peer that caused them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ocpp.v16 import call

from chargepoint.infra.clock import Clock
from chargepoint.infra.database import Database
from chargepoint.infra.repeats import RepeatingFailure
from chargepoint.link.outbox import CallFailed, Delivery, NotAccepted, Outbox
from chargepoint.security.events import PUSHED, SecurityEvent, SecurityEventSink
from chargepoint.security.log import SecurityLog

log = logging.getLogger(__name__)

TECH_INFO_LENGTH = 255  # SecurityEventNotification.req techInfo is string[0..255]
RETRY_INTERVAL = 10.0  # seconds × attempts after the CSMS refused a notification


@dataclass(frozen=True)
class _Queued:
    seq: int
    type: str
    timestamp: str
    tech_info: str | None
    attempts: int


class SecurityEvents:
    def __init__(
        self, db: Database, outbox: Outbox, clock: Clock, security_log: SecurityLog, scrub: Callable[[str], str] = str
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._clock = clock
        self.log = security_log
        self._scrub = scrub
        self._wake = asyncio.Event()
        self._handed: list[tuple[_Queued, asyncio.Future[Any]]] = []  # in the link's queue, oldest first

    def raise_event(self, kind: SecurityEvent, tech_info: str | None = None) -> None:
        info = self._scrub(tech_info)[:TECH_INFO_LENGTH] if tech_info else None
        timestamp = self._clock.timestamp()
        log.warning("security event %s%s", kind.value, f": {info}" if info else "")
        try:
            self.log.append(timestamp, kind.value, info)
        except OSError as exc:  # a full disk (MemoryExhaustion itself) must not take the station down
            log.error("security log not written: %s", exc.strerror or exc)
        if kind in PUSHED:
            with self._db.transaction() as conn:
                conn.execute(
                    "INSERT INTO security_event (type, timestamp, tech_info) VALUES (?, ?, ?)", (kind.value, timestamp, info)
                )
            self.registered(False)

    def registered(self, _first_time: bool = False) -> None:
        """Hand the link every stored event it does not hold yet (a link listener: see above)."""
        self._handed = [(event, answer) for event, answer in self._handed if not _lost(answer)]
        held = {event.seq for event, _ in self._handed}
        for event in self._stored():
            if event.seq in held:
                continue
            payload = call.SecurityEventNotification(type=event.type, timestamp=event.timestamp, tech_info=event.tech_info)
            try:
                self._handed.append((event, self._outbox.enqueue(payload)))
            except NotAccepted:
                break  # offline: they wait in the database
        self._wake.set()

    def __len__(self) -> int:
        """Critical events not yet confirmed by the CSMS."""
        return int(self._db.query("SELECT COUNT(*) FROM security_event")[0][0])

    async def run(self) -> None:
        while True:
            await self._outbox.wait_accepted()
            if not self._handed:
                self._wake.clear()
                await self._wake.wait()
                continue
            event, answer = self._handed[0]
            try:
                await answer
            except NotAccepted:  # the link went down: these go again on the next one
                self._handed = [(event, answer) for event, answer in self._handed if not _lost(answer)]
                continue
            except CallFailed as exc:
                self._handed.pop(0)
                if self._refused(event, str(exc)):
                    await asyncio.sleep(RETRY_INTERVAL * (event.attempts + 1))
                    self.registered()
                continue
            self._handed.pop(0)
            with self._db.transaction() as conn:
                conn.execute("DELETE FROM security_event WHERE seq = ?", (event.seq,))

    def _stored(self) -> list[_Queued]:
        rows = self._db.query("SELECT seq, type, timestamp, tech_info, attempts FROM security_event ORDER BY seq")
        return [_Queued(*row) for row in rows]

    def _refused(self, event: _Queued, reason: str) -> bool:
        """Count a refusal; True while the event is kept for another attempt."""
        attempts = event.attempts + 1
        keep = attempts < Delivery.GIVE_UP_AFTER
        with self._db.transaction() as conn:
            if keep:
                conn.execute("UPDATE security_event SET attempts = ? WHERE seq = ?", (attempts, event.seq))
            else:
                conn.execute("DELETE FROM security_event WHERE seq = ?", (event.seq,))
        if keep:
            log.warning("SecurityEventNotification %s refused (attempt %d): %s", event.type, attempts, reason)
        else:
            log.error("SecurityEventNotification %s given up after %d refusals: %s", event.type, attempts, reason)
        return keep


def link_report(events: SecurityEventSink) -> Callable[[SecurityEvent, str], None]:
    """What the link reports refused CALLs to: InvalidMessages told once when they start and then
    at growing gaps (infra.repeats), since a peer sending garbage sends it all day."""
    invalid = RepeatingFailure()

    def report(kind: SecurityEvent, tech_info: str) -> None:
        if kind is SecurityEvent.invalid_messages:
            told = invalid.failed(time.monotonic(), tech_info)
            if told is not None:
                events.raise_event(kind, told)
        else:
            events.raise_event(kind, tech_info)

    return report


def _lost(answer: asyncio.Future[Any]) -> bool:
    """The link went down before the CSMS answered: the event must be handed again."""
    return answer.cancelled() or (answer.done() and isinstance(answer.exception(), NotAccepted))
