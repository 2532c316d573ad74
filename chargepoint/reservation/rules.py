"""The Reservation profile's rules as pure functions (§5.13, §5.1): the answer a ReserveNow gets,
who may start where while reservations hold connectors, and what ends a reservation.

The feature feeds them what is true now (the statuses, the reservations in force, the time) and
acts on what they say, so each rule is a row of a table test rather than a path through I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from ocpp.v16.enums import ChargePointStatus, ReservationStatus

from chargepoint.authorization.authorizer import same_id_token

S = ChargePointStatus
R = ReservationStatus
ANY_CONNECTOR = 0  # §6.37: "the reservation is not for a specific connector"
# Where a reservation can be made: Reserved is free of users, and the reservations say by whom
# it is held (the one a ReserveNow replaces holds nothing).
TAKES_RESERVATION = frozenset({S.available, S.reserved})
# §5.13 (3): a reservation ends when the Charge Point or its connector becomes one of these.
ENDS_RESERVATION = frozenset({S.faulted, S.unavailable})


@dataclass(frozen=True)
class Reservation:
    id: int
    connector: int  # ANY_CONNECTOR: whichever connector stays free for it
    id_tag: str
    expiry: datetime
    parent_id_tag: str | None = None

    def admits(self, id_tag: str, parent_id_tag: str | None) -> bool:
        """§5.13: the reserved idTag (IdToken is case-insensitive), or one whose parentIdTag is
        the reservation's."""
        if same_id_token(id_tag, self.id_tag):
            return True
        return self.parent_id_tag is not None and parent_id_tag is not None and same_id_token(parent_id_tag, self.parent_id_tag)

    def might_admit(self, id_tag: str, parent_id_tag: str | None, group_known: bool) -> bool:
        """As `admits`; with the idTag's group not known yet, a group reservation might."""
        return self.admits(id_tag, parent_id_tag) or (not group_known and self.parent_id_tag is not None)


def answer(
    request: Reservation,
    station: ChargePointStatus,
    connectors: Mapping[int, ChargePointStatus],
    held: Collection[Reservation],
    now: datetime,
    zero_supported: bool,
) -> ReservationStatus:
    """ReserveNow.conf (§5.13). `held`: the reservations in force other than the one `request`
    replaces (same reservationId), which is judged as if it were new."""
    if request.connector == ANY_CONNECTOR and not zero_supported:
        return R.rejected  # ReserveConnectorZeroSupported false or absent
    if request.connector != ANY_CONNECTOR and request.connector not in connectors:
        return R.rejected  # no such connector (spec silent)
    if request.expiry <= now:
        return R.rejected  # over before it began (spec silent): nothing to hold
    if station == S.faulted:
        return R.faulted
    if station == S.unavailable:
        return R.unavailable
    free = free_connectors(connectors, held)
    kept = sum(1 for reservation in held if reservation.connector == ANY_CONNECTOR)
    if request.connector == ANY_CONNECTOR:
        return R.accepted if len(free) > kept else _none_free(connectors)
    status = connectors[request.connector]
    if status == S.faulted:
        return R.faulted
    if status == S.unavailable:
        return R.unavailable
    # In use, reserved by another reservation, or the last connector a connector-0 one keeps free.
    if request.connector not in free or len(free) - 1 < kept:
        return R.occupied
    return R.accepted


def free_connectors(connectors: Mapping[int, ChargePointStatus], held: Collection[Reservation]) -> set[int]:
    """The connectors a new reservation could take: no user, no fault, and no reservation."""
    taken = {reservation.connector for reservation in held}
    return {number for number, status in connectors.items() if status in TAKES_RESERVATION and number not in taken}


def _none_free(connectors: Mapping[int, ChargePointStatus]) -> ReservationStatus:
    """§7.40 for connector 0: Faulted or Unavailable only when every connector is so."""
    statuses = set(connectors.values())
    if statuses == {S.faulted}:
        return R.faulted
    if statuses <= ENDS_RESERVATION:
        return R.unavailable
    return R.occupied


@dataclass(frozen=True)
class Claim:
    """What a reservation says about a session starting: the reservation it ends (its id goes in
    StartTransaction.req), or why it may not start."""

    reservation: Reservation | None = None
    refusal: str | None = None


def claim(
    held: Collection[Reservation],
    connector: int,
    id_tag: str,
    parent_id_tag: str | None,
    free_elsewhere: int,
    group_known: bool = True,
) -> Claim:
    """§5.13: on a reserved connector only the reservation's idTag or group starts, and ends it;
    elsewhere a connector-0 reservation's idTag ends that one, and any other idTag is refused
    where starting would leave fewer free connectors (`free_elsewhere`: the others Available)
    than connector-0 reservations. `group_known` false: the idTag's parentIdTag is still to be
    asked, so no group reservation refuses it yet."""
    own = next((r for r in held if r.connector == connector), None)
    if own is not None:
        if own.might_admit(id_tag, parent_id_tag, group_known):
            return Claim(own)
        return Claim(refusal=f"connector {connector} is reserved for another idTag (reservation {own.id})")
    anywhere = [r for r in held if r.connector == ANY_CONNECTOR]
    mine = next((r for r in anywhere if r.might_admit(id_tag, parent_id_tag, group_known)), None)
    if mine is not None:
        return Claim(mine)
    if len(anywhere) > free_elsewhere:
        return Claim(refusal=f"connector {connector} is kept free for reservation {anywhere[0].id} (any connector)")
    return Claim()


def ended_by_status(held: Collection[Reservation], connector: int, status: ChargePointStatus) -> list[Reservation]:
    """§5.13 (3): the reservations a Faulted or Unavailable status ends; connector 0's (the
    Charge Point's) ends every one."""
    if status not in ENDS_RESERVATION:
        return []
    return [r for r in held if connector == ANY_CONNECTOR or r.connector == connector]


def expired(held: Collection[Reservation], now: datetime) -> list[Reservation]:
    """§5.13 (2): those whose expiryDate is reached."""
    return [r for r in held if r.expiry <= now]
