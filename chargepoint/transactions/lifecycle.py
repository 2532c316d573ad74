"""Transaction lifecycle: begin, sample, end, each persisted together with its message.

A transaction runs on the station's own authority once the idTag is authorized; the CSMS
hears of it through the durable queue, whenever the link allows. What is on flash is enough
to finish a transaction that a power cut interrupted (reason PowerLoss, last stored reading).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ocpp.v16.enums import Reason

from chargepoint.infra.database import Database
from configkeys import Configuration
from chargepoint.transactions.queue import METER_VALUES, START, STOP, TransactionQueue

log = logging.getLogger(__name__)

MAX_VALUES_KEY = "StopTransactionMaxMeterValues"
_COLUMNS = "local_id, connector, id_tag, meter_start, started_at, transaction_id, last_meter_wh, last_meter_at"


@dataclass
class Transaction:
    local_id: int
    connector: int
    id_tag: str
    meter_start: int
    started_at: str
    transaction_id: int | None = None
    last_meter_wh: int | None = None
    last_meter_at: str | None = None
    parent_id_tag: str | None = None  # who else may stop it (§3.10); known from the idTagInfo
    # StopTxnSampledData / StopTxnAlignedData values as they were taken, for transactionData.
    data_values: list[dict[str, Any]] = field(default_factory=list)
    reservation_id: int | None = None  # the reservation its start ended (§5.13)

    @property
    def last_stored_wh(self) -> int:
        """The energy register as last stored, the start's until a sample came."""
        return self.last_meter_wh if self.last_meter_wh is not None else self.meter_start

    @property
    def last_stored_at(self) -> str:
        return self.last_meter_at or self.started_at


class Transactions:
    def __init__(self, db: Database, queue: TransactionQueue, config: Configuration) -> None:
        self._db = db
        self._queue = queue
        self._config = config

    def begin(
        self, connector: int, id_tag: str, meter_start: int, timestamp: str, reservation_id: int | None = None
    ) -> Transaction:
        start: dict[str, Any] = {"connector_id": connector, "id_tag": id_tag, "meter_start": meter_start, "timestamp": timestamp}
        if reservation_id is not None:
            start["reservation_id"] = reservation_id  # §4.8: this start ends that reservation
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO charging_transaction (connector, id_tag, meter_start, started_at, last_meter_wh, "
                "last_meter_at) VALUES (?, ?, ?, ?, ?, ?)",
                (connector, id_tag, meter_start, timestamp, meter_start, timestamp),
            )
            assert cursor.lastrowid is not None
            local_id = cursor.lastrowid
            self._queue.push(conn, local_id, START, start)
        self._queue.wake()
        log.info("connector %d: transaction (local %d) started for %s, meterStart %d Wh", connector, local_id, id_tag, meter_start)
        return Transaction(
            local_id, connector, id_tag, meter_start, timestamp, None, meter_start, timestamp, reservation_id=reservation_id
        )

    def sample(self, transaction: Transaction, energy_wh: int, timestamp: str, meter_value: dict[str, Any]) -> None:
        """Store the register with the sample: it is what a power cut leaves us to bill from."""
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE charging_transaction SET last_meter_wh = ?, last_meter_at = ? WHERE local_id = ?",
                (energy_wh, timestamp, transaction.local_id),
            )
            self._queue.push(
                conn,
                transaction.local_id,
                METER_VALUES,
                {"connector_id": transaction.connector, "meter_value": [meter_value]},
            )
        transaction.last_meter_wh, transaction.last_meter_at = energy_wh, timestamp
        self._queue.wake()

    def end(
        self,
        transaction: Transaction,
        meter_stop: int,
        timestamp: str,
        reason: Reason,
        id_tag: str | None,
        end_values: list[dict[str, Any]] | None = None,
    ) -> None:
        payload: dict[str, Any] = {"meter_stop": meter_stop, "timestamp": timestamp, "reason": reason.value}
        if id_tag is not None:
            payload["id_tag"] = id_tag
        data = self._transaction_data(transaction, end_values or [])
        if data:
            payload["transaction_data"] = data
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE charging_transaction SET meter_stop = ?, stopped_at = ?, stop_reason = ?, last_meter_wh = ?, "
                "last_meter_at = ? WHERE local_id = ?",
                (meter_stop, timestamp, reason.value, meter_stop, timestamp, transaction.local_id),
            )
            self._queue.push(conn, transaction.local_id, STOP, payload)
        self._queue.wake()
        log.info(
            "connector %d: transaction (local %d) stopped (%s), meterStop %d Wh",
            transaction.connector,
            transaction.local_id,
            reason.value,
            meter_stop,
        )

    def _transaction_data(self, transaction: Transaction, end_values: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """§6.50 transactionData: Begin, sampled and aligned values, End; both StopTxn keys empty: none.
        Over StopTransactionMaxMeterValues the middle goes first: start and end frame the bill."""
        values = [*transaction.data_values, *end_values]
        limit = self._config.integer(MAX_VALUES_KEY) if self._config.has(MAX_VALUES_KEY) else len(values)
        if len(values) > limit:
            values = values[: limit - 1] + values[-1:] if limit > 0 else []
        return values

    def id_tag_of(self, local_id: int) -> str | None:
        rows = self._db.query("SELECT id_tag FROM charging_transaction WHERE local_id = ?", (local_id,))
        return str(rows[0][0]) if rows else None

    def history(self) -> list[dict[str, Any]]:
        """Every transaction the station keeps, oldest first, as a diagnostics file lists them."""
        names = ("local_id", "connector", "id_tag", "transaction_id", "meter_start", "started_at", "meter_stop", "stopped_at", "stop_reason")
        rows = self._db.query(f"SELECT {', '.join(names)} FROM charging_transaction ORDER BY local_id")
        return [dict(zip(names, row)) for row in rows]

    def interrupted(self) -> list[Transaction]:
        """Transactions a crash or power cut left running, oldest first."""
        rows = self._db.query(f"SELECT {_COLUMNS} FROM charging_transaction WHERE stopped_at IS NULL ORDER BY local_id")
        return [Transaction(*row) for row in rows]

    def close_interrupted(
        self, transaction: Transaction, reason: Reason, end_values: list[dict[str, Any]] | None = None
    ) -> None:
        """Stop with the last reading we stored, at the time it was taken (EVerest does the same)."""
        self.end(transaction, transaction.last_stored_wh, transaction.last_stored_at, reason, None, end_values)
