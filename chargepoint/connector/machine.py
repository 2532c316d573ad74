"""The OCPP status of one connector, as a `transitions` state machine.

The machine is the spec's transition table (OCPP 1.6 §4.9, with errata 3.20 adding B6): each
allowed change is a trigger named by its table code (A2, B3, ...), so the generated diagram
reads like the spec and a change the table does not list cannot happen.
"""

from __future__ import annotations

from collections.abc import Callable

from ocpp.v16.enums import ChargePointStatus
from transitions import Machine, MachineError


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
    """The spec's table has no path from the present status to the one asked for."""


def transitions_for(table: list[str]) -> list[dict[str, str]]:
    return [{"trigger": code, "source": ROWS[code[0]], "dest": COLUMNS[code[1]]} for code in table]


def states_for(table: list[str]) -> list[str]:
    used = {ROWS[code[0]] for code in table} | {COLUMNS[code[1]] for code in table}
    return [status for status in ROWS.values() if status in used]


class StatusMachine:
    """The guard between a derived status and what is reported: the connector may only walk
    the table's edges, so a jump the table lacks (Preparing to Unavailable, say) is made
    through the statuses the spec does allow, each one reported."""

    status: str  # set by `transitions`
    trigger: Callable[[str], bool]

    def __init__(self, connector_id: int, initial: ChargePointStatus) -> None:
        self.connector_id = connector_id
        table = STATION_TABLE if connector_id == 0 else CONNECTOR_TABLE
        self._codes = {(ROWS[c[0]], COLUMNS[c[1]]): c for c in table}
        Machine(
            model=self,
            states=states_for(table),
            transitions=transitions_for(table),
            initial=initial.value,
            auto_transitions=False,
            model_attribute="status",
        )

    @property
    def current(self) -> ChargePointStatus:
        return ChargePointStatus(self.status)

    def route(self, target: ChargePointStatus) -> list[ChargePointStatus]:
        """The shortest walk along the table's edges to `target`, `target` last; of equal walks,
        the one through the earlier edge of the table (so never Faulted when another will do)."""
        paths: dict[str, list[str]] = {self.status: []}
        frontier = [self.status]
        while frontier and target.value not in paths:
            following = []
            for source in frontier:
                for (start, dest) in self._codes:
                    if start == source and dest not in paths:
                        paths[dest] = [*paths[source], dest]
                        following.append(dest)
            frontier = following
        if target.value not in paths:
            raise InvalidTransition(f"connector {self.connector_id}: no way from {self.status} to {target} (§4.9)")
        return [ChargePointStatus(status) for status in paths[target.value]]

    def move(self, target: ChargePointStatus) -> str:
        """One edge of the table; returns its code."""
        code = self._codes.get((self.status, target.value))
        if code is None:
            raise InvalidTransition(f"connector {self.connector_id}: {self.status} -> {target} is not allowed (§4.9)")
        try:
            self.trigger(code)
        except MachineError as exc:
            raise InvalidTransition(str(exc)) from exc
        return code


def status_diagram() -> str:
    """Mermaid text of a connector's machine, built from the same table as the live one."""
    from transitions.extensions import GraphMachine

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
        "Generated by `make docs` from `chargepoint/connector/machine.py`; edges carry the codes of the\n"
        "OCPP 1.6 §4.9 transition table (B6 added by errata 3.20). Connector 0 uses only\n"
        f"{', '.join(states_for(STATION_TABLE))} ({', '.join(STATION_TABLE)}).\n\n"
        f"```mermaid\n{status_diagram().strip()}\n```\n"
    )
