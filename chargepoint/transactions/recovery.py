"""After a crash or power cut: transactions left open are closed, and connectors pick up.

A transaction ends with its last stored reading, as PowerLoss, or as the reset a crash cut
short. Each connector then resumes where its cable is; WEMOB §4.4.5 AllowChargeAfterBrownOut
lets an interrupted driver go on charging without identifying again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from ocpp.v16.enums import Reason, ResetType

from chargepoint.connector.connectors import Connectors
from chargepoint.transactions.lifecycle import Transaction, Transactions
from configkeys import Configuration

log = logging.getLogger(__name__)

REASONS = {None: Reason.power_loss, ResetType.soft: Reason.soft_reset, ResetType.hard: Reason.hard_reset}


class PendingReset(Protocol):
    def interrupted(self) -> ResetType | None: ...

    def completed(self) -> None: ...


EndValues = Callable[[Transaction, Reason], list[dict[str, Any]]]


def recover(
    reset: PendingReset,
    transactions: Transactions,
    connectors: Connectors,
    config: Configuration,
    reboots: bool,
    end_values: EndValues | None = None,
) -> ResetType | None:
    """Close what a crash left open; returns Hard when an interrupted Hard reset must still
    reboot the board (`reboots`: a reboot command is configured), else None. `end_values`
    gives each stop its Transaction.End values (the signed final reading)."""
    interrupted = reset.interrupted()
    reason = REASONS[interrupted]
    resumed: dict[int, str] = {}
    for transaction in transactions.interrupted():
        log.warning(
            "connector %d: transaction (local %d) was interrupted; stopping it as %s",
            transaction.connector,
            transaction.local_id,
            reason.value,
        )
        transactions.close_interrupted(transaction, reason, end_values(transaction, reason) if end_values else None)
        resumed[transaction.connector] = transaction.id_tag
    reset.completed()
    if interrupted == ResetType.hard and reboots:
        return ResetType.hard
    brown_out = config.has("AllowChargeAfterBrownOut") and config.boolean("AllowChargeAfterBrownOut")
    for connector in connectors:
        connector.spawn(connector.after_restart(resumed.get(connector.id) if brown_out else None))
    return None
