"""Which installed profiles govern a connector (§3.13.1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from chargepoint.connector.connector import Connector
from chargepoint.smart_charging.schedule import CP_MAX, TX, TX_DEFAULT, ChargingProfile
from chargepoint.smart_charging.store import Installed


def profiles_for(
    installed: Sequence[Installed], connector: int, transaction_id: int | None | bool, with_station: bool
) -> list[ChargingProfile]:
    """A connector's profiles: a TxDefaultProfile of its own replaces connector 0's at the same
    stackLevel; TxProfiles count only while a transaction runs (`transaction_id` False: none),
    and only one of that transaction when they name it. `with_station` adds the
    ChargePointMaxProfiles, which GetCompositeSchedule merges; enforcement shares them instead."""
    defaults = {i.profile.stack_level: i.profile for i in installed if i.profile.purpose == TX_DEFAULT and i.connector == 0}
    defaults.update(
        {i.profile.stack_level: i.profile for i in installed if i.profile.purpose == TX_DEFAULT and i.connector == connector}
    )
    chosen = list(defaults.values()) if connector != 0 else []
    if transaction_id is not False:
        chosen += [
            i.profile
            for i in installed
            if i.profile.purpose == TX
            and i.connector == connector
            and i.profile.transaction_id in (None, transaction_id)
        ]
    if with_station:
        chosen += [i.profile for i in installed if i.profile.purpose == CP_MAX]
    return chosen


def transaction_id_of(connector: Connector) -> int | None | bool:
    """The running transaction's id, None while the CSMS has not numbered it, False without one."""
    transaction = connector.transaction
    return False if transaction is None else transaction.transaction_id


def anchor_of(connector: Connector, now: datetime) -> datetime:
    """Relative profiles count from the transaction's start, or from now without one."""
    transaction = connector.transaction
    return datetime.fromisoformat(transaction.started_at.replace("Z", "+00:00")) if transaction else now
