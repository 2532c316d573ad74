"""What a connector's status is, as a function of what is true about it (OCPP 1.6 §4.9).

The connector never chooses a status. It records facts (cable in, EV asking for energy, a
transaction running, an error raised by some part) and this module says which status those
facts mean, which error the StatusNotification carries, and whether energy may flow. A new
fact, a reservation or a charging limit say, is a new input and one more rule here, not one
more flag consulted by every event handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

S = ChargePointStatus
# What an error can be: every ChargePointErrorCode but the absence of one.
FAULT_CODES = sorted(code.value for code in ChargePointErrorCode if code != ChargePointErrorCode.no_error)


class ErrorKind(Enum):
    FAULT = "fault"  # the connector cannot be used: Faulted (§4.9)
    SUSPENDS = "suspends"  # energy stops, the transaction goes on: SuspendedEVSE
    WARNING = "warning"  # reported only; the status does not change


@dataclass(frozen=True)
class ActiveError:
    code: ChargePointErrorCode
    info: str | None
    kind: ErrorKind


@dataclass(frozen=True)
class ConnectorFacts:
    operative: bool = True  # ChangeAvailability; Inoperative waits for a running transaction to end
    updating: bool = False  # a firmware update is about to install (§5.19, errata 3.49): no new session
    emergency_stop: bool = False  # the button is pressed (latched): out of service until released
    errors: tuple[ActiveError, ...] = ()  # oldest first
    plugged: bool = False  # pilot B or C
    ev_ready: bool = False  # pilot C: the EV asks for energy
    transaction: bool = False
    authorized: bool = False  # an accepted idTag waits for the cable
    suspended_by_station: bool = False  # invalid idTag answer, MaxEnergyOnInvalidId reached
    finishing: bool = False  # a transaction ended (or was cancelled) with the cable still in
    timed_out: bool = False  # ConnectionTimeOut passed with the cable in and no identification
    reserved: bool = False  # a reservation holds the connector (§5.13; set by the Reservation profile)
    limit: float | None = None  # amperes a charging profile allows now (§3.13); None: no profile
    derated: float | None = None  # amperes the station's own cooling allows (WEMOB silent mode)


def _has(facts: ConnectorFacts, kind: ErrorKind) -> bool:
    return any(error.kind is kind for error in facts.errors)


def derive_status(facts: ConnectorFacts) -> ChargePointStatus:
    if _has(facts, ErrorKind.FAULT):
        return S.faulted
    if facts.emergency_stop:
        return S.unavailable  # at once, cable in or not (C8, F8): the button ended the session
    if facts.transaction:
        if not facts.plugged:
            return S.suspended_ev  # EV side disconnected, transaction kept (§4.9)
        if facts.suspended_by_station or _has(facts, ErrorKind.SUSPENDS) or facts.limit == 0:
            return S.suspended_evse  # a limit of 0 (or under minChargingRate) offers nothing
        return S.charging if facts.ev_ready else S.suspended_ev
    if facts.finishing:
        return S.finishing  # until the cable leaves, even when set Inoperative meanwhile
    if not facts.operative or facts.updating:
        return S.unavailable
    if facts.authorized or (facts.plugged and not facts.timed_out):
        return S.preparing  # for a reservation, its idTag or cable ends it here (G2)
    return S.reserved if facts.reserved else S.available


def derive_station_status(facts: ConnectorFacts) -> ChargePointStatus:
    """Connector 0 knows only Available, Unavailable and Faulted."""
    if _has(facts, ErrorKind.FAULT):
        return S.faulted
    return S.available if facts.operative and not (facts.updating or facts.emergency_stop) else S.unavailable


def reported_error(errors: tuple[ActiveError, ...]) -> ActiveError | None:
    """The error a StatusNotification names: the gravest kind, the latest of that kind."""
    for kind in ErrorKind:
        latest = [error for error in errors if error.kind is kind]
        if latest:
            return latest[-1]
    return None


def contactor_closed(facts: ConnectorFacts) -> bool:
    return (
        facts.transaction
        and facts.plugged
        and not facts.suspended_by_station
        and not _has(facts, ErrorKind.FAULT)
    )


def current_offered(facts: ConnectorFacts, maximum: float) -> float:
    """The pilot's offer: nothing while the station, or an error, suspends the transaction, nor
    while Faulted (the EV is told so, besides the contactor opening)."""
    stopped = facts.suspended_by_station or _has(facts, ErrorKind.SUSPENDS) or _has(facts, ErrorKind.FAULT)
    if not facts.transaction or stopped:
        return 0.0
    caps = [cap for cap in (facts.limit, facts.derated) if cap is not None]
    return min([maximum, *caps])
