"""The OCPP 1.6 data types the JSON schemas leave loose (chargepoint/link/datatypes.py): values
the fuzz test found reaching SQLite, float() or datetime and coming back as InternalError, or
stopping the link, now get the CALLERROR of the data type they break."""

from __future__ import annotations

import json

import pytest
from ocpp.messages import Call

from chargepoint.link.datatypes import is_date_time
from chargepoint.link.framing import FrameRejected, check_payload, parse_frame
from tests.conftest import booted
from tests.helpers import answered_on_the_same_link


def profile(limit: object) -> dict[str, object]:
    return {"connectorId": 0, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": limit}]}}}


def reservation(expiry: str, reservation_id: int = 1) -> dict[str, object]:
    return {"connectorId": 1, "expiryDate": expiry, "idTag": "T", "reservationId": reservation_id}


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        ("ChangeAvailability", {"connectorId": 2**31, "type": "Operative"}, "TypeConstraintViolation"),
        ("ChangeAvailability", {"connectorId": -(2**31) - 1, "type": "Operative"}, "TypeConstraintViolation"),
        ("ChangeAvailability", {"connectorId": 2**31 - 1, "type": "Operative"}, None),
        ("UpdateFirmware", {"location": "ftp://h/", "retrieveDate": "2024-01-01T00:00:00Z", "retries": 10**30}, "TypeConstraintViolation"),
        ("SetChargingProfile", profile(1e30), "PropertyConstraintViolation"),
        ("SetChargingProfile", profile(10**400), "PropertyConstraintViolation"),
        ("SetChargingProfile", profile(-1e16), "PropertyConstraintViolation"),
        ("SetChargingProfile", profile(900719925474099.1), None),
        ("ReserveNow", reservation("yesterday"), "TypeConstraintViolation"),
        ("ReserveNow", reservation("2024-02-30T10:00:00Z"), "TypeConstraintViolation"),
        ("ReserveNow", reservation("2024-01-01T00:00:00.5+05:30"), None),
        ("ReserveNow", reservation("2024-01-01T00:00:00"), None),  # no offset: UTC (§3.14)
    ],
)
def test_values_beyond_the_ocpp_data_types_get_their_code(action: str, payload: dict, code: str | None) -> None:
    if code is None:
        check_payload(Call("u1", action, payload))
        return
    with pytest.raises(FrameRejected) as rejected:
        check_payload(Call("u1", action, payload))
    assert rejected.value.code == code


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2024-01-01T00:00:00Z", True), ("2024-01-01t00:00:00z", False), ("2024-01-01T00:00:00.123456789-03:00", True),
        ("2024-01-01", False), ("0000-01-01T00:00:00Z", False), ("2024-01-01T24:00:00Z", False),
        ("0001-01-01T00:00:00+01:00", False), ("9999-12-31T23:00:00-05:00", False),  # no instant in UTC
        ("2024-01-01T00:00:00Z" + "0" * 1000, False), ("\ud800", False),
    ],
)
def test_a_date_time_is_an_rfc_3339_instant(text: str, valid: bool) -> None:
    assert is_date_time(text) is valid


def test_a_lone_surrogate_is_no_unicode_text_and_gets_formation_violation() -> None:
    with pytest.raises(FrameRejected) as rejected:
        parse_frame('[2, "s1", "SendLocalList", {"listVersion": 1, "updateType": "Full", "localAuthorizationList": [{"idTag": "a\\udfffb"}]}]')
    assert (rejected.value.unique_id, rejected.value.code) == ("s1", "FormationViolation")
    parse_frame('[2, "s2", "DataTransfer", {"vendorId": "\\ud83d\\ude97", "data": "\\\\ud800"}]')  # a pair, an escaped backslash


async def test_the_station_answers_each_with_its_code_on_the_same_link(csms, make_daemon) -> None:
    """Each of these was an InternalError with a Traceback in the log, or (1e30) a lost link."""
    daemon = make_daemon(csms, extra_profiles=["Reservation"])
    await booted(csms, daemon)
    lower_case_valid_from = profile(16)
    lower_case_valid_from["csChargingProfiles"]["validFrom"] = "2024-01-01t00:00:00z"  # type: ignore[index]
    for action, payload, code in (
        ("UpdateFirmware", {"location": "ftp://127.0.0.1:9/", "retrieveDate": "2024-01-01T00:00:00Z", "retries": 10**30},
         "TypeConstraintViolation"),
        ("ReserveNow", reservation("2030-01-01T00:00:00Z", 2**40), "TypeConstraintViolation"),
        ("SendLocalList", {"listVersion": 1, "updateType": "Full", "localAuthorizationList": [{"idTag": "a\ud800"}]},
         "FormationViolation"),
        ("SetChargingProfile", profile(1e30), "PropertyConstraintViolation"),
        ("ReserveNow", reservation("0001-01-01T00:00:00+01:00"), "TypeConstraintViolation"),
        ("SetChargingProfile", lower_case_valid_from, "TypeConstraintViolation"),
        ("GetConfiguration", {"key": [f"K{n}" for n in range(101)]}, "OccurenceConstraintViolation"),
    ):
        answer = await csms.call_raw(action, payload)
        assert answer[0] == 4 and answer[2] == code, (action, answer)
    await answered_on_the_same_link(csms, daemon)
