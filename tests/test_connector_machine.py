"""The connector status machine is exactly the OCPP 1.6 §4.9 table (errata 3.20 adds B6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ocpp.v16.enums import ChargePointStatus

from chargepoint.connector.machine import InvalidTransition, StatusMachine, status_diagram_document

S = ChargePointStatus
# Written out independently of the implementation: from-status -> allowed to-statuses.
SPEC_TABLE = {
    S.available: {S.preparing, S.charging, S.suspended_ev, S.suspended_evse, S.reserved, S.unavailable, S.faulted},
    S.preparing: {S.available, S.charging, S.suspended_ev, S.suspended_evse, S.finishing, S.faulted},
    S.charging: {S.available, S.suspended_ev, S.suspended_evse, S.finishing, S.unavailable, S.faulted},
    S.suspended_ev: {S.available, S.charging, S.suspended_evse, S.finishing, S.unavailable, S.faulted},
    S.suspended_evse: {S.available, S.charging, S.suspended_ev, S.finishing, S.unavailable, S.faulted},
    S.finishing: {S.available, S.preparing, S.unavailable, S.faulted},
    S.reserved: {S.available, S.preparing, S.unavailable, S.faulted},
    S.unavailable: {S.available, S.preparing, S.charging, S.suspended_ev, S.suspended_evse, S.faulted},
    S.faulted: {S.available, S.preparing, S.charging, S.suspended_ev, S.suspended_evse, S.finishing, S.reserved, S.unavailable},
}
STATION_TABLE = {
    S.available: {S.unavailable, S.faulted},
    S.unavailable: {S.available, S.faulted},
    S.faulted: {S.available, S.unavailable},
}


@pytest.mark.parametrize("source", list(S))
@pytest.mark.parametrize("target", list(S))
def test_connector_transition_allowed_exactly_when_the_table_says(source: S, target: S) -> None:
    machine = StatusMachine(1, source)
    if target in SPEC_TABLE[source]:
        machine.move(target)
        assert machine.current == target
    else:
        with pytest.raises(InvalidTransition):
            machine.move(target)
        assert machine.current == source


@pytest.mark.parametrize("source", list(STATION_TABLE))
@pytest.mark.parametrize("target", list(S))
def test_connector_zero_knows_only_available_unavailable_faulted(source: S, target: S) -> None:
    machine = StatusMachine(0, source)
    if target in STATION_TABLE[source]:
        machine.move(target)
        assert machine.current == target
    elif target != source:
        with pytest.raises(InvalidTransition):
            machine.move(target)


@pytest.mark.parametrize(
    ("source", "target", "walk"),
    [
        (S.preparing, S.unavailable, [S.available, S.unavailable]),  # §4.9 has no B8
        (S.finishing, S.charging, [S.available, S.charging]),  # nor F3; a tie goes to the first edge
        (S.charging, S.preparing, [S.available, S.preparing]),  # nor C2
        (S.available, S.faulted, [S.faulted]),
    ],
)
def test_a_jump_the_table_lacks_walks_through_allowed_statuses(source: S, target: S, walk: list[S]) -> None:
    assert StatusMachine(1, source).route(target) == walk


def test_connector_zero_has_no_way_to_a_charging_status() -> None:
    with pytest.raises(InvalidTransition):
        StatusMachine(0, S.available).route(S.charging)


def test_docs_diagram_is_generated_from_the_machine() -> None:
    document = Path(__file__).resolve().parent.parent / "docs" / "connector-status.md"
    assert document.read_text() == status_diagram_document(), "run `make docs`"
    assert "Preparing --> Finishing: B6" in document.read_text()
