"""The station's connectors, found by number or by the transaction they carry.

One lookup each, so every feature agrees on what "connector 3" or "transaction 17" means.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

from chargepoint.connector.connector import Connector


class Connectors(Sequence[Connector]):
    def __init__(self, connectors: list[Connector]) -> None:
        self._all = connectors

    @overload
    def __getitem__(self, index: int) -> Connector: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Connector]: ...

    def __getitem__(self, index: int | slice) -> Connector | Sequence[Connector]:
        return self._all[index]

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self) -> Iterator[Connector]:
        return iter(self._all)

    def number(self, number: int | None) -> Connector | None:
        """Connector `number` (1-based), or None when the station has no such connector."""
        if number is None or not 1 <= number <= len(self._all):
            return None
        return self._all[number - 1]

    def with_transaction(self, transaction_id: int) -> Connector | None:
        """The connector whose running transaction the CSMS numbered `transaction_id`."""
        return next((c for c in self._all if c.transaction and c.transaction.transaction_id == transaction_id), None)

    def with_local_transaction(self, local_id: int) -> Connector | None:
        """The connector whose running transaction the station stored as `local_id`."""
        return next((c for c in self._all if c.transaction and c.transaction.local_id == local_id), None)
