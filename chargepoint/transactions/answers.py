"""What the CSMS's Start and StopTransaction answers change: the Authorization Cache learns the
idTagInfo (§3.5.1), and a StartTransaction answer reaches the connector whose transaction it
numbers (§5.16)."""

from __future__ import annotations

from typing import Any

from chargepoint.authorization.authorizer import Authorizer
from chargepoint.connector.connectors import Connectors
from chargepoint.transactions.lifecycle import Transactions
from chargepoint.transactions.queue import START, TransactionQueue


def route_answers(
    queue: TransactionQueue, transactions: Transactions, authorizer: Authorizer, connectors: Connectors
) -> None:
    def answered(action: str, local_id: int, answer: Any) -> None:
        id_tag_info = getattr(answer, "id_tag_info", None)
        id_tag = transactions.id_tag_of(local_id)
        if id_tag_info and id_tag is not None:
            authorizer.record(id_tag, id_tag_info)
        if action != START:
            return
        connector = connectors.with_local_transaction(local_id)
        if connector is not None and connector.transaction is not None:
            connector.transaction.transaction_id = answer.transaction_id  # at once: a RemoteStop may follow
            connector.spawn(connector.charging.start_answered(local_id, answer.transaction_id, answer.id_tag_info))

    queue.on_answer(answered)
