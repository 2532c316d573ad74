"""The connector's status is a pure function of its facts (OCPP 1.6 §4.9), and a connector
reports each change of status or error exactly once, walking the §4.9 table."""

from __future__ import annotations

import pytest
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from chargepoint.connector.state import HARDWARE, ConnectorState
from chargepoint.connector.status import (
    ActiveError,
    ConnectorFacts,
    ErrorKind,
    contactor_closed,
    current_offered,
    derive_station_status,
    derive_status,
    reported_error,
)

S = ChargePointStatus
E = ChargePointErrorCode
FAULT = ActiveError(E.high_temperature, None, ErrorKind.FAULT)
EV_COMM = ActiveError(E.ev_communication_error, None, ErrorKind.SUSPENDS)
METER = ActiveError(E.power_meter_failure, "no answer", ErrorKind.WARNING)
RUNNING = {"transaction": True, "plugged": True}


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        ({}, S.available),
        ({"plugged": True}, S.preparing),
        ({"authorized": True}, S.preparing),  # idTag first, cable still to come
        ({"plugged": True, "timed_out": True}, S.available),  # ConnectionTimeOut passed
        ({"plugged": True, "finishing": True}, S.finishing),  # errata 3.20 B6
        ({**RUNNING, "ev_ready": True}, S.charging),
        (RUNNING, S.suspended_ev),  # the EV does not ask for energy
        ({"transaction": True, "ev_ready": True}, S.suspended_ev),  # EV side disconnected, kept
        ({**RUNNING, "ev_ready": True, "suspended_by_station": True}, S.suspended_evse),
        ({**RUNNING, "ev_ready": True, "errors": (EV_COMM,)}, S.suspended_evse),
        ({**RUNNING, "ev_ready": True, "errors": (METER,)}, S.charging),  # a warning changes nothing
        ({**RUNNING, "ev_ready": True, "errors": (FAULT,)}, S.faulted),
        ({"plugged": True, "errors": (EV_COMM,)}, S.preparing),  # suspends only a transaction
        ({"operative": False}, S.unavailable),
        ({"operative": False, "plugged": True}, S.unavailable),
        ({"operative": False, **RUNNING, "ev_ready": True}, S.charging),  # Scheduled: waits for the end
        ({"operative": False, "plugged": True, "finishing": True}, S.finishing),  # until the cable leaves
        ({"operative": False, "errors": (FAULT,)}, S.faulted),
        ({"updating": True}, S.unavailable),  # §5.19 errata 3.49: idle connectors wait the install out
        ({"updating": True, "plugged": True}, S.unavailable),
        ({"updating": True, **RUNNING, "ev_ready": True}, S.charging),  # a session goes on
        ({"updating": True, "plugged": True, "finishing": True}, S.finishing),
        ({"reserved": True}, S.reserved),
        ({"reserved": True, "plugged": True}, S.preparing),
        ({"reserved": True, "operative": False}, S.unavailable),
        ({"reserved": True, "errors": (FAULT,)}, S.faulted),
        ({**RUNNING, "ev_ready": True, "limit": 0.0}, S.suspended_evse),  # §3.13: nothing offered
        ({**RUNNING, "ev_ready": True, "limit": 6.0}, S.charging),
        ({"plugged": True, "limit": 0.0}, S.preparing),  # a limit matters only to a transaction
    ],
)
def test_status_follows_from_the_facts(facts: dict, status: S) -> None:
    assert derive_status(ConnectorFacts(**facts)) == status


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        ({}, S.available),
        ({"operative": False}, S.unavailable),
        ({"updating": True}, S.unavailable),
        ({"errors": (FAULT,)}, S.faulted),
    ],
)
def test_connector_zero_status_follows_from_its_facts(facts: dict, status: S) -> None:
    assert derive_station_status(ConnectorFacts(**facts)) == status


@pytest.mark.parametrize(
    ("errors", "reported"),
    [
        ((), None),
        ((METER,), METER),
        ((METER, EV_COMM), EV_COMM),  # a suspending error outranks a warning
        ((FAULT, EV_COMM, METER), FAULT),
        ((FAULT, ActiveError(E.over_voltage, None, ErrorKind.FAULT)), ActiveError(E.over_voltage, None, ErrorKind.FAULT)),
    ],
)
def test_the_gravest_latest_error_is_reported(errors: tuple[ActiveError, ...], reported: ActiveError | None) -> None:
    assert reported_error(errors) == reported


@pytest.mark.parametrize(
    ("facts", "closed", "offered"),
    [
        ({}, False, 0.0),
        ({**RUNNING, "ev_ready": True}, True, 32.0),
        ({"transaction": True}, False, 32.0),  # unplugged: nothing to energize, the offer stands
        ({**RUNNING, "suspended_by_station": True}, False, 0.0),
        ({**RUNNING, "errors": (EV_COMM,)}, True, 0.0),  # the pilot offers nothing, the EV stops drawing
        ({**RUNNING, "errors": (FAULT,)}, False, 0.0),  # Faulted: no energy, none offered
        ({**RUNNING, "limit": 10.0}, True, 10.0),
        ({**RUNNING, "limit": 40.0}, True, 32.0),  # the hardware still caps
    ],
)
def test_outputs_follow_from_the_facts(facts: dict, closed: bool, offered: float) -> None:
    assert contactor_closed(ConnectorFacts(**facts)) is closed
    assert current_offered(ConnectorFacts(**facts), 32.0) == offered


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str, str | None]] = []

    def __call__(self, connector: int, status: S, error: E, info: str | None) -> None:
        self.sent.append((connector, status, error, info))


async def test_a_fault_and_its_clearing_are_each_reported_once() -> None:
    station, recorder = ConnectorState(0, S.available, True), Recorder()
    station.on_status(recorder)
    await station.fault(E.high_temperature, "cabinet 80 C")
    await station.fault(E.over_voltage, None)  # a second error while Faulted is reported
    station.show()  # no change, no report
    await station.clear_fault()
    assert recorder.sent == [
        (0, S.faulted, E.high_temperature, "cabinet 80 C"),
        (0, S.faulted, E.over_voltage, None),
        (0, S.available, E.no_error, None),
    ]


async def test_availability_set_while_faulted_applies_when_the_fault_clears() -> None:
    station, recorder = ConnectorState(0, S.available, True), Recorder()
    station.on_status(recorder)
    station.raise_error(HARDWARE, E.ground_failure, None, ErrorKind.FAULT)
    await station.change_operative(False)
    station.clear_error(HARDWARE)
    assert [sent[1] for sent in recorder.sent] == [S.faulted, S.unavailable]


async def test_a_one_off_notice_keeps_the_status_and_is_not_repeated() -> None:
    station, recorder = ConnectorState(0, S.available, True), Recorder()
    station.on_status(recorder)
    station.notice(E.local_list_conflict, "A1 is Blocked in the list")
    station.show()
    assert recorder.sent == [(0, S.available, E.local_list_conflict, "A1 is Blocked in the list")]
