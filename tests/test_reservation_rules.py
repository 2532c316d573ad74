"""The Reservation profile's rules as tables (§5.13, §5.1, §7.40): the ReserveNow answer, who may
start where, and what ends a reservation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16.enums import ChargePointStatus, ReservationStatus

from chargepoint.reservation.rules import Reservation, answer, claim, ended_by_status, expired

S = ChargePointStatus
R = ReservationStatus
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
A, P, F, U, C, RES = S.available, S.preparing, S.faulted, S.unavailable, S.charging, S.reserved


def reservation(rid: int = 1, connector: int = 1, id_tag: str = "TAG1", parent: str | None = None, expiry: datetime = LATER) -> Reservation:
    return Reservation(rid, connector, id_tag, expiry, parent)


@pytest.mark.parametrize(
    ("request_", "station", "connectors", "held", "zero", "status"),
    [
        (reservation(), A, {1: A}, [], False, R.accepted),
        (reservation(connector=3), A, {1: A, 2: A}, [], False, R.rejected),  # no such connector
        (reservation(connector=-1), A, {1: A}, [], False, R.rejected),  # §6.37: connectorId >= 0
        (reservation(expiry=NOW), A, {1: A}, [], False, R.rejected),  # over before it began
        (reservation(connector=0), A, {1: A}, [], False, R.rejected),  # ReserveConnectorZeroSupported false
        (reservation(), F, {1: A}, [], False, R.faulted),  # the Charge Point is Faulted
        (reservation(), U, {1: A}, [], False, R.unavailable),  # the Charge Point is Unavailable
        (reservation(), A, {1: F}, [], False, R.faulted),
        (reservation(), A, {1: U}, [], False, R.unavailable),
        (reservation(), A, {1: P}, [], False, R.occupied),  # a cable in, or a card accepted
        (reservation(), A, {1: C}, [], False, R.occupied),
        (reservation(), A, {1: S.finishing}, [], False, R.occupied),
        (reservation(2), A, {1: RES}, [reservation(1)], False, R.occupied),  # "reserved for the same ..."
        (reservation(2), A, {1: RES}, [reservation(1, id_tag="TAG2")], False, R.occupied),  # "... or another idTag"
        (reservation(1, id_tag="TAG9"), A, {1: RES}, [], False, R.accepted),  # same id: replaces (its own hold set aside)
        (reservation(connector=0), A, {1: A}, [], True, R.accepted),
        (reservation(2, connector=0), A, {1: A, 2: A}, [reservation(1, connector=0)], True, R.accepted),
        (reservation(2, connector=0), A, {1: A}, [reservation(1, connector=0)], True, R.occupied),  # one free, kept already
        (reservation(2, connector=0), A, {1: RES}, [reservation(1)], True, R.occupied),
        (reservation(connector=0), A, {1: F, 2: F}, [], True, R.faulted),  # §7.40: "connectors ... faulted"
        (reservation(connector=0), A, {1: F, 2: U}, [], True, R.unavailable),
        (reservation(connector=0), A, {1: F, 2: C}, [], True, R.occupied),
        # The last free connector stays free for a connector-0 reservation (§5.13).
        (reservation(2, connector=2), A, {1: C, 2: A}, [reservation(1, connector=0)], True, R.occupied),
        (reservation(2, connector=2), A, {1: A, 2: A}, [reservation(1, connector=0)], True, R.accepted),
    ],
)
def test_reserve_now_answer_follows_5_13(
    request_: Reservation, station: S, connectors: dict[int, S], held: list[Reservation], zero: bool, status: R
) -> None:
    assert answer(request_, station, connectors, held, NOW, zero) == status


GROUP = reservation(7, id_tag="TAG1", parent="FLEET")


@pytest.mark.parametrize(
    ("held", "connector", "id_tag", "parent", "free_elsewhere", "ends", "refused"),
    [
        ([], 1, "TAG2", None, 0, None, False),  # nothing reserved
        ([reservation(7)], 1, "TAG1", None, 0, 7, False),  # the reserved idTag ends it
        ([reservation(7)], 1, "tag1", None, 0, 7, False),  # IdToken is case-insensitive
        ([reservation(7)], 1, "TAG2", None, 0, None, True),  # another idTag is refused
        ([reservation(7)], 1, "TAG2", "FLEET", 0, None, True),  # a group the reservation does not name
        ([GROUP], 1, "TAG2", "FLEET", 0, 7, False),  # §5.13: the parentIdTag matches
        ([GROUP], 1, "TAG2", "fleet", 0, 7, False),
        ([GROUP], 1, "TAG2", "OTHER", 0, None, True),
        ([GROUP], 1, "TAG2", None, 0, None, True),  # no group at all
        ([reservation(7)], 2, "TAG2", None, 0, None, False),  # another connector is not reserved
        ([reservation(7, connector=2)], 1, "TAG1", None, 1, None, False),  # its idTag elsewhere: still reserved there
        ([reservation(7, connector=0)], 1, "TAG1", None, 0, 7, False),  # connector 0: any connector ends it
        ([reservation(7, connector=0)], 1, "TAG2", None, 1, None, False),  # one stays free for it
        ([reservation(7, connector=0)], 1, "TAG2", None, 0, None, True),  # the last free one is kept
        ([reservation(7, connector=0), reservation(8, connector=0)], 1, "TAG2", None, 1, None, True),
    ],
)
def test_who_may_start_where_follows_5_13(
    held: list[Reservation], connector: int, id_tag: str, parent: str | None, free_elsewhere: int, ends: int | None, refused: bool
) -> None:
    outcome = claim(held, connector, id_tag, parent, free_elsewhere)
    assert (outcome.reservation.id if outcome.reservation else None, outcome.refusal is not None) == (ends, refused)


def test_a_group_reservation_waits_for_the_group_when_it_is_not_known_yet() -> None:
    """RemoteStartTransaction is answered before an Authorize could tell the idTag's parent."""
    assert claim([GROUP], 1, "TAG2", None, 0, group_known=False).refusal is None
    assert claim([reservation(7)], 1, "TAG2", None, 0, group_known=False).refusal is not None


@pytest.mark.parametrize(
    ("connector", "status", "ended"),
    [
        (1, S.faulted, [1]),
        (1, S.unavailable, [1]),
        (1, S.charging, []),
        (2, S.faulted, [2]),
        (0, S.unavailable, [0, 1, 2]),  # the Charge Point Unavailable ends every reservation
        (0, S.faulted, [0, 1, 2]),
        (0, S.available, []),
    ],
)
def test_faulted_or_unavailable_ends_reservations(connector: int, status: S, ended: list[int]) -> None:
    held = [reservation(10, connector=0), reservation(11, connector=1), reservation(12, connector=2)]
    assert [r.connector for r in ended_by_status(held, connector, status)] == ended


def test_a_reservation_ends_when_its_expiry_date_is_reached() -> None:
    held = [reservation(1, expiry=NOW - timedelta(seconds=1)), reservation(2, expiry=NOW), reservation(3)]
    assert [r.id for r in expired(held, NOW)] == [1, 2]
