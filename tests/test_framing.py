"""Malformed frames from the CSMS get the OCPP-J §4.2.3 CALLERROR, and the station carries on."""

from __future__ import annotations

import json

import pytest
from ocpp.messages import Call
from ocpp.v16 import call

from chargepoint.link.framing import FrameRejected, check_action, check_payload, parse_frame
from tests.conftest import booted
from tests.helpers import answered_on_the_same_link

# (frame sent, expected errorCode); 1.6 keeps the errata's spellings (§5.1, §5.2).
BAD_CALLS = [
    ('[2, "f1", "GetConfiguration"]', "FormationViolation"),
    ('[2, "f2", "GetConfiguration", [1, 2]]', "FormationViolation"),
    ('[2, "f3", "FlyToTheMoon", {}]', "NotImplemented"),
    ('[2, "f4", "ChangeConfiguration", {"key": "HeartbeatInterval"}]', "ProtocolError"),
    ('[2, "f5", "ChangeConfiguration", {"key": 5, "value": "1"}]', "TypeConstraintViolation"),
    ('[2, "f6", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "1", "x": 1}]', "FormationViolation"),
    ('[2, "f7", "GetConfiguration", {"key": ["' + "K" * 51 + '"]}]', "TypeConstraintViolation"),
]


async def test_malformed_frames_get_the_right_callerror_and_the_station_keeps_working(csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    for text in ("this is not json", '{"an": "object"}', '[2, 17, "Heartbeat", {}]', "[]", '[9, "f8", {}]'):
        await csms.send_raw(text)
    for frame, code in BAD_CALLS:
        await csms.send_raw(frame)
        answer = await csms.next_incoming_response(json.loads(frame)[1], timeout=5)
        assert answer[0] == 4 and answer[2] == code, (frame, answer)
        assert isinstance(answer[3], str) and answer[4] == {}
    answer = await csms.call(call.GetConfiguration(key=["HeartbeatInterval"]))
    assert answer.configuration_key[0]["key"] == "HeartbeatInterval"
    assert daemon.process is not None and daemon.process.poll() is None
    # Frames nobody can be answered about are only logged.
    assert "bad frame from the CSMS (FormationViolation: not JSON)" in daemon.logs()


@pytest.mark.parametrize(
    ("text", "unique_id"),
    [
        ("not json", None),
        ("{}", None),
        ("[]", None),
        ("[2]", None),
        ('[9, "u9", {}]', None),  # OCPP-J §4.1.3: unknown message types are ignored
    ],
)
def test_frames_without_a_usable_unique_id_cannot_be_answered(text: str, unique_id: None) -> None:
    with pytest.raises(FrameRejected) as rejected:
        parse_frame(text)
    assert rejected.value.unique_id is unique_id


def test_null_payload_is_an_empty_object() -> None:
    """OCPP-J §4.1.3 allows null where the payload is empty."""
    parsed = parse_frame('[2, "a", "Heartbeat", null]')
    assert isinstance(parsed, Call) and parsed.payload == {}


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        ("ChangeAvailability", {"connectorId": 1, "type": "Sometimes"}, "PropertyConstraintViolation"),
        ("RemoteStartTransaction", {"idTag": "A", "connectorId": "1"}, "TypeConstraintViolation"),
        ("SendLocalList", {"listVersion": 1}, "ProtocolError"),
        ("RemoteStartTransaction", {"idTag": "A", "chargingProfile": {
            "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 6.05}]}}}, "PropertyConstraintViolation"),
    ],
)
def test_schema_violations_map_to_ocpp_j_codes(action: str, payload: dict, code: str) -> None:
    with pytest.raises(FrameRejected) as rejected:
        check_payload(Call("u1", action, payload))
    assert rejected.value.code == code


def test_decimal_limits_with_one_fraction_digit_are_valid() -> None:
    """multipleOf 0.1 must not trip over binary floating point (6.1 is valid)."""
    payload = {"idTag": "A", "chargingProfile": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 6.1}]}}}
    check_payload(Call("u1", "RemoteStartTransaction", payload))


def test_a_known_action_without_a_handler_is_not_supported() -> None:
    with pytest.raises(FrameRejected) as rejected:
        check_action(Call("u1", "Reset", {"type": "Hard"}), served=set())
    assert rejected.value.code == "NotSupported"


async def test_a_frame_nested_beyond_the_parser_is_ignored_and_the_link_stays(csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await csms.send_raw('[2, "deep", "DataTransfer", {"vendorId": "x", "data": ' + "[" * 100_000 + "]" * 100_000 + "}]")
    await answered_on_the_same_link(csms, daemon)
    assert "bad frame from the CSMS (FormationViolation: not JSON" in daemon.logs()


def test_frames_nested_beyond_the_parser_or_with_nan_are_not_json() -> None:
    """RFC 8259 has no NaN or Infinity; OCPP-J §4.1.2 wants valid JSON."""
    for text in ("[" * 100_000 + "]" * 100_000, '[2, "n", "Heartbeat", {"x": NaN}]', '[2, "i", "Heartbeat", {"x": -Infinity}]'):
        with pytest.raises(FrameRejected) as rejected:
            parse_frame(text)
        assert (rejected.value.unique_id, rejected.value.code) == (None, "FormationViolation")


async def test_a_callerror_stays_short_whatever_the_csms_sent(csms, make_daemon) -> None:
    """The CALLERROR names the field and the rule, not the 400,000 characters that broke it:
    echoed back, they made an answer bigger than the CSMS takes, and it dropped the link."""
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    for number, (action, payload) in enumerate((
        ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "\u00e9" * 400_000}),  # 800 kB as UTF-8
        ("A" * 400_000, {}),
    )):
        await csms.send_raw(json.dumps([2, f"long{number}", action, payload], ensure_ascii=False))
        answer = await csms.next_incoming_response(f"long{number}")
        assert answer[0] == 4 and len(answer[3]) <= 300, answer[:3]
    await answered_on_the_same_link(csms, daemon)


async def test_a_unique_id_longer_than_36_characters_gets_a_callerror(csms, make_daemon) -> None:
    """OCPP-J §4.2.3 lists "unique identifier too long" among the faults a CALLERROR reports."""
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    unique_id = "u" * 37
    await csms.send_raw(json.dumps([2, unique_id, "Heartbeat", {}]))
    answer = await csms.next_incoming_response(unique_id)
    assert answer[:3] == [4, unique_id, "FormationViolation"], answer
    await answered_on_the_same_link(csms, daemon)


async def test_a_binary_websocket_frame_is_read_as_utf_8_text(csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await csms.send_raw(b'[2, "bin1", "GetConfiguration", {"key": ["HeartbeatInterval"]}]')
    answer = await csms.next_incoming_response("bin1")
    assert answer[0] == 3 and answer[2]["configurationKey"][0]["key"] == "HeartbeatInterval", answer
    await csms.send_raw(b'[2, "bin2", "Heartbeat", {"\xff": 1}]')  # not UTF-8: not JSON
    await answered_on_the_same_link(csms, daemon)
