"""The durable queue of transaction-related messages (spec §4.10, errata 3.18; WEMOB §4.3.22-23).

StartTransaction, transaction MeterValues and StopTransaction are written to the database in
the same SQLite transaction as the state change they report, and deleted only when the CSMS
has answered, so neither a lost link nor a power cut loses or reorders them. They leave one at
a time in the order they happened; other messages may overtake them through the session.

A CALLERROR or a timeout on a live link is a failed attempt: after the n-th the message waits
TransactionMessageRetryInterval × n seconds, until TransactionMessageAttempts are used up.
Time spent disconnected uses no attempts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ocpp.v16 import call

from chargepoint.link.outbox import CallFailed, NotAccepted, Outbox
from chargepoint.infra.database import Database
from configkeys import Configuration

log = logging.getLogger(__name__)

START, METER_VALUES, STOP = "StartTransaction", "MeterValues", "StopTransaction"
_PAYLOADS = {START: call.StartTransaction, METER_VALUES: call.MeterValues, STOP: call.StopTransaction}
# Errata 3.18: messages of a transaction whose StartTransaction never got through carry -1.
UNKNOWN_TRANSACTION_ID = -1

AnswerListener = Callable[[str, int, Any], None]


@dataclass(frozen=True)
class _Queued:
    seq: int
    local_id: int
    action: str
    payload: dict[str, Any]
    attempts: int
    not_before: float


class TransactionQueue:
    def __init__(self, db: Database, outbox: Outbox, config: Configuration) -> None:
        self._db = db
        self._outbox = outbox
        self._config = config
        self._wake = asyncio.Event()
        self._listeners: list[AnswerListener] = []

    def on_answer(self, listener: AnswerListener) -> None:
        """listener(action, local transaction id, CSMS answer) after each delivered message."""
        self._listeners.append(listener)

    @staticmethod
    def push(conn: sqlite3.Connection, local_id: int, action: str, payload: dict[str, Any]) -> None:
        """Queue inside the caller's SQLite transaction, so the message and its cause commit together."""
        conn.execute(
            "INSERT INTO transaction_message (local_id, action, payload) VALUES (?, ?, ?)",
            (local_id, action, json.dumps(payload, separators=(",", ":"))),
        )

    def wake(self) -> None:
        self._wake.set()

    def __len__(self) -> int:
        return int(self._db.query("SELECT COUNT(*) FROM transaction_message")[0][0])

    async def run(self) -> None:
        while True:
            await self._outbox.wait_accepted()
            head = self._head()
            if head is None:
                await self._sleep(None)
                continue
            # Capped by the longest wait the message can owe, in case the clock stepped backwards.
            owed = self._config.integer("TransactionMessageRetryInterval") * head.attempts
            delay = min(head.not_before - time.time(), owed)
            if delay > 0:
                await self._sleep(delay)
                continue
            await self._deliver(head)

    async def _sleep(self, seconds: float | None) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    def _head(self) -> _Queued | None:
        rows = self._db.query(
            "SELECT seq, local_id, action, payload, attempts, not_before FROM transaction_message ORDER BY seq LIMIT 1"
        )
        if not rows:
            return None
        seq, local_id, action, payload, attempts, not_before = rows[0]
        return _Queued(seq, local_id, action, json.loads(payload), attempts, not_before)

    async def _deliver(self, message: _Queued) -> None:
        try:
            answer = await self._outbox.request(self._payload(message))
        except NotAccepted:
            return  # the link went down: sent again once it is back, at no cost in attempts
        except CallFailed as exc:
            self._failed(message, str(exc))
            return
        except Exception as exc:  # a stored payload the library refuses must not stop the queue
            self._failed(message, repr(exc))
            return
        with self._db.transaction() as conn:
            if message.action == START:
                conn.execute(
                    "UPDATE charging_transaction SET transaction_id = ? WHERE local_id = ?",
                    (answer.transaction_id, message.local_id),
                )
            conn.execute("DELETE FROM transaction_message WHERE seq = ?", (message.seq,))
        for listener in self._listeners:
            listener(message.action, message.local_id, answer)

    def _payload(self, message: _Queued) -> Any:
        fields = dict(message.payload)
        if message.action != START:
            fields["transaction_id"] = self._transaction_id(message.local_id)
        return _PAYLOADS[message.action](**fields)

    def _transaction_id(self, local_id: int) -> int:
        rows = self._db.query("SELECT transaction_id FROM charging_transaction WHERE local_id = ?", (local_id,))
        return rows[0][0] if rows and rows[0][0] is not None else UNKNOWN_TRANSACTION_ID

    def _failed(self, message: _Queued, reason: str) -> None:
        attempts = message.attempts + 1
        allowed = self._config.integer("TransactionMessageAttempts")
        with self._db.transaction() as conn:
            if attempts >= allowed:
                conn.execute("DELETE FROM transaction_message WHERE seq = ?", (message.seq,))
            else:
                retry_in = self._config.integer("TransactionMessageRetryInterval") * attempts
                conn.execute(
                    "UPDATE transaction_message SET attempts = ?, not_before = ? WHERE seq = ?",
                    (attempts, time.time() + retry_in, message.seq),
                )
        if attempts >= allowed:
            log.error(
                "transaction %d: %s DISCARDED after %d failed attempts (TransactionMessageAttempts); last: %s",
                message.local_id,
                message.action,
                attempts,
                reason,
            )
        else:
            log.warning(
                "transaction %d: %s attempt %d of %d failed (%s); next try in %d s",
                message.local_id,
                message.action,
                attempts,
                allowed,
                reason,
                self._config.integer("TransactionMessageRetryInterval") * attempts,
            )
