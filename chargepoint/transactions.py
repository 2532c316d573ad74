"""Transaction lifecycle: StartTransaction / StopTransaction with figures from the meter.

Every transaction is written to the database before the CSMS hears of it, so a later power
cut can be reconciled from what is on flash.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ocpp.v16 import call
from ocpp.v16.enums import AuthorizationStatus, Reason

from chargepoint.clock import Clock
from chargepoint.session import CallFailed, NotAccepted, Session
from chargepoint.store import TransactionRecord, TransactionTable

log = logging.getLogger(__name__)


class TransactionRefused(Exception):
    """The transaction could not start: the CSMS refused the idTag or could not be reached."""


@dataclass
class Transaction:
    record: TransactionRecord
    transaction_id: int

    @property
    def id_tag(self) -> str:
        return self.record.id_tag


class Transactions:
    def __init__(self, session: Session, table: TransactionTable, clock: Clock) -> None:
        self._session = session
        self._table = table
        self._clock = clock

    async def start(self, connector_id: int, id_tag: str, meter_start: int) -> Transaction:
        record = self._table.begin(connector_id, id_tag, meter_start, self._clock.timestamp())
        try:
            answer = await self._session.request(
                call.StartTransaction(
                    connector_id=connector_id, id_tag=id_tag, meter_start=meter_start, timestamp=record.started_at
                )
            )
        except (NotAccepted, CallFailed) as exc:
            self._table.end(record.local_id, meter_start, self._clock.timestamp(), Reason.other)
            raise TransactionRefused(str(exc)) from exc
        self._table.set_transaction_id(record.local_id, answer.transaction_id)
        status = answer.id_tag_info["status"]
        log.info("connector %d: transaction %d started for %s (%s)", connector_id, answer.transaction_id, id_tag, status)
        transaction = Transaction(record, answer.transaction_id)
        if status != AuthorizationStatus.accepted:
            await self.stop(transaction, meter_start, Reason.de_authorized, None)
            raise TransactionRefused(f"CSMS answered {status} for {id_tag}")
        return transaction

    async def stop(self, transaction: Transaction, meter_stop: int, reason: Reason, id_tag: str | None) -> None:
        stopped_at = self._clock.timestamp()
        self._table.end(transaction.record.local_id, meter_stop, stopped_at, reason)
        try:
            await self._session.request(
                call.StopTransaction(
                    transaction_id=transaction.transaction_id,
                    meter_stop=meter_stop,
                    timestamp=stopped_at,
                    reason=reason,
                    id_tag=id_tag,
                )
            )
        except (NotAccepted, CallFailed) as exc:
            log.warning("transaction %d: StopTransaction not delivered: %s", transaction.transaction_id, exc)
            return
        log.info("transaction %d stopped (%s), meterStop %d Wh", transaction.transaction_id, reason, meter_stop)
