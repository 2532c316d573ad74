"""The OCPP status of one connector, as a `transitions` state machine.

The machine is the spec's transition table (OCPP 1.6 §4.9, with errata 3.20 adding B6): each
allowed change is a trigger named by its table code (A2, B3, ...), so the generated diagram
reads like the spec and a change the table does not list cannot happen.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus
from transitions import MachineError
from transitions.extensions.asyncio import AsyncMachine

log = logging.getLogger(__name__)

# Plain strings, not the enum: `transitions` would name enum states by member name.
ROWS: dict[str, str] = {
    letter: status.value
    for letter, status in zip(
        "ABCDEFGHI",
        (
            ChargePointStatus.available,
            ChargePointStatus.preparing,
            ChargePointStatus.charging,
            ChargePointStatus.suspended_ev,
            ChargePointStatus.suspended_evse,
            ChargePointStatus.finishing,
            ChargePointStatus.reserved,
            ChargePointStatus.unavailable,
            ChargePointStatus.faulted,
        ),
    )
}
COLUMNS = {str(i): status for i, status in enumerate(ROWS.values(), start=1)}

# §4.9 table, row letter = from, column number = to; B6 from errata 3.20.
CONNECTOR_TABLE = (
    "A2 A3 A4 A5 A7 A8 A9 "
    "B1 B3 B4 B5 B6 B9 "
    "C1 C4 C5 C6 C8 C9 "
    "D1 D3 D5 D6 D8 D9 "
    "E1 E3 E4 E6 E8 E9 "
    "F1 F2 F8 F9 "
    "G1 G2 G8 G9 "
    "H1 H2 H3 H4 H5 H9 "
    "I1 I2 I3 I4 I5 I6 I7 I8"
).split()
# Connector 0 (the whole station) only knows Available, Unavailable and Faulted.
STATION_TABLE = "A8 A9 H1 H9 I1 I8".split()


class InvalidTransition(Exception):
    """The spec's table has no change from the present status to the one asked for."""


StatusListener = Callable[[int, ChargePointStatus, ChargePointErrorCode, str | None], Awaitable[None]]


def transitions_for(table: list[str]) -> list[dict[str, str]]:
    return [{"trigger": code, "source": ROWS[code[0]], "dest": COLUMNS[code[1]]} for code in table]


def states_for(table: list[str]) -> list[str]:
    used = {ROWS[code[0]] for code in table} | {COLUMNS[code[1]] for code in table}
    return [status for status in ROWS.values() if status in used]


class ConnectorStatus:
    """Holds one connector's status; every change and every error report reaches the listener."""

    def __init__(self, connector_id: int, initial: ChargePointStatus, listener: StatusListener) -> None:
        self.connector_id = connector_id
        self.error_code = ChargePointErrorCode.no_error
        self.info: str | None = None
        self._before_fault: ChargePointStatus | None = None
        self._listener = listener
        table = STATION_TABLE if connector_id == 0 else CONNECTOR_TABLE
        self._codes = {(ROWS[c[0]], COLUMNS[c[1]]): c for c in table}
        self.machine = AsyncMachine(
            model=self,
            states=states_for(table),
            transitions=transitions_for(table),
            initial=initial.value,
            auto_transitions=False,
            send_event=False,
            model_attribute="status",
        )

    def can_move_to(self, target: ChargePointStatus) -> bool:
        return (self.status, target) in self._codes

    async def move_to(
        self,
        target: ChargePointStatus,
        error_code: ChargePointErrorCode = ChargePointErrorCode.no_error,
        info: str | None = None,
    ) -> None:
        """Change status and report it; staying in the same status is a no-op."""
        if target == self.status:
            return
        code = self._codes.get((self.status, target))
        if code is None:
            raise InvalidTransition(f"connector {self.connector_id}: {self.status} -> {target} is not allowed (§4.9)")
        try:
            await self.trigger(code)
        except MachineError as exc:
            raise InvalidTransition(str(exc)) from exc
        log.info("connector %d: %s (%s)", self.connector_id, target, code)
        self.error_code, self.info = error_code, info
        await self._listener(self.connector_id, ChargePointStatus(self.status), error_code, info)

    async def warn(self, error_code: ChargePointErrorCode, info: str | None = None) -> None:
        """Report an error that leaves charging possible (the status does not change)."""
        self.error_code, self.info = error_code, info
        await self._listener(self.connector_id, ChargePointStatus(self.status), error_code, info)

    @property
    def faulted(self) -> bool:
        return self.status == ChargePointStatus.faulted

    async def fault(self, error_code: ChargePointErrorCode, info: str | None = None) -> None:
        if not self.faulted:
            self._before_fault = ChargePointStatus(self.status)
            await self.move_to(ChargePointStatus.faulted, error_code, info)
        else:
            await self.warn(error_code, info)

    def return_after_fault(self, status: ChargePointStatus) -> None:
        """Something changed while faulted (e.g. the cable left): clearing goes here instead."""
        self._before_fault = status

    async def clear_fault(self) -> None:
        """Leave Faulted for the status held before it."""
        if not self.faulted:
            return
        target = self._before_fault or ChargePointStatus.available
        self._before_fault = None
        await self.move_to(target)


def status_diagram() -> str:
    """Mermaid text of a connector's machine, built from the same table as the live one."""
    from transitions.extensions.factory import GraphMachine

    class _Model:
        pass

    machine = GraphMachine(
        model=_Model(),
        states=states_for(CONNECTOR_TABLE),
        transitions=transitions_for(CONNECTOR_TABLE),
        initial=ChargePointStatus.available.value,
        auto_transitions=False,
        graph_engine="mermaid",
        title="OCPP 1.6 connector status (spec 4.9, errata 3.20)",
        show_state_attributes=False,
    )
    return str(machine.models[0].get_graph().draw(None))


def status_diagram_document() -> str:
    """docs/connector-status.md: the diagram wrapped for a Markdown viewer."""
    return (
        "# Connector status machine\n\n"
        "Generated by `make docs` from `chargepoint/connector.py`; edges carry the codes of the\n"
        "OCPP 1.6 §4.9 transition table (B6 added by errata 3.20). Connector 0 uses only\n"
        f"{', '.join(states_for(STATION_TABLE))} ({', '.join(STATION_TABLE)}).\n\n"
        f"```mermaid\n{status_diagram().strip()}\n```\n"
    )
