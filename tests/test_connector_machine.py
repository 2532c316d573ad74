"""The connector status machine is exactly the OCPP 1.6 §4.9 table (errata 3.20 adds B6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from chargepoint.connector import ConnectorStatus, InvalidTransition, status_diagram_document

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


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str]] = []

    async def __call__(self, connector: int, status: str, error: str, info: str | None) -> None:
        self.sent.append((connector, status, error))


@pytest.mark.parametrize("source", list(S))
@pytest.mark.parametrize("target", list(S))
async def test_connector_transition_allowed_exactly_when_the_table_says(source: S, target: S) -> None:
    recorder = Recorder()
    status = ConnectorStatus(1, source, recorder)
    if target == source:
        await status.move_to(target)
        assert recorder.sent == []  # no change, no StatusNotification
    elif target in SPEC_TABLE[source]:
        await status.move_to(target)
        assert status.status == target and recorder.sent == [(1, target, "NoError")]
    else:
        with pytest.raises(InvalidTransition):
            await status.move_to(target)
        assert status.status == source and recorder.sent == []


@pytest.mark.parametrize("source", list(STATION_TABLE))
@pytest.mark.parametrize("target", list(S))
async def test_connector_zero_knows_only_available_unavailable_faulted(source: S, target: S) -> None:
    status = ConnectorStatus(0, source, Recorder())
    if target in STATION_TABLE[source]:
        await status.move_to(target)
        assert status.status == target
    elif target != source:
        with pytest.raises(InvalidTransition):
            await status.move_to(target)


async def test_fault_returns_to_the_status_before_it() -> None:
    recorder = Recorder()
    status = ConnectorStatus(1, S.suspended_ev, recorder)
    await status.fault(ChargePointErrorCode.high_temperature)
    await status.fault(ChargePointErrorCode.over_voltage)  # a second error while Faulted is reported
    await status.clear_fault()
    assert recorder.sent == [
        (1, S.faulted, "HighTemperature"),
        (1, S.faulted, "OverVoltage"),
        (1, S.suspended_ev, "NoError"),
    ]


def test_docs_diagram_is_generated_from_the_machine() -> None:
    document = Path(__file__).resolve().parent.parent / "docs" / "connector-status.md"
    assert document.read_text() == status_diagram_document(), "run `make docs`"
    assert "Preparing --> Finishing: B6" in document.read_text()
