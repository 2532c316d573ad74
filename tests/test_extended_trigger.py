"""ExtendedTriggerMessage (whitepaper §5.5, §6.14) on a WEMOB station, which serves no Remote
Trigger: each requested message, and the Rejected and NotImplemented answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from ocpp.exceptions import NotSupportedError
from ocpp.v16 import call

from chargepoint.security.extended_trigger import MESSAGES, trigger_answer
from tests.csms import Csms
from tests.helpers import running_station

# requestedMessage -> the CALL that follows the Accepted answer, and what it must say
EXPECTED: dict[str, tuple[str, dict[str, object]]] = {
    "BootNotification": ("BootNotification", {"chargePointVendor": "WEG"}),
    "Heartbeat": ("Heartbeat", {}),
    "StatusNotification": ("StatusNotification", {"connectorId": 1, "status": "Available"}),
    "MeterValues": ("MeterValues", {"connectorId": 1}),
    "FirmwareStatusNotification": ("SignedFirmwareStatusNotification", {"status": "Idle"}),  # §6.14
    "LogStatusNotification": ("LogStatusNotification", {"status": "Idle"}),  # §6.19: Idle, as triggered
    "SignChargePointCertificate": ("SignCertificate", {}),
}

MALFORMED = [
    ("ExtendedTriggerMessage", {"requestedMessage": "WakeUp"}, "PropertyConstraintViolation"),
    ("ExtendedTriggerMessage", {"requestedMessage": "Heartbeat", "connectorId": "one"}, "TypeConstraintViolation"),
    ("ExtendedTriggerMessage", {}, "ProtocolError"),
    ("CertificateSigned", {"certificateChain": 42}, "TypeConstraintViolation"),
    ("CertificateSigned", {"certificateChain": "x" * 10_001}, "TypeConstraintViolation"),  # §5.1: string[0..10000]
]


async def test_each_requested_message_follows_the_accepted_answer_on_wemob(tmp_path: Path) -> None:
    assert set(EXPECTED) == MESSAGES
    async with Csms() as csms, running_station(csms, tmp_path / "cp", keys={"CpoName": "Test CPO"}, profile="wemob"):
        with pytest.raises(NotSupportedError):  # WEMOB's feature profiles hold no Remote Trigger
            await csms.call(call.TriggerMessage(requested_message="Heartbeat"))
        for requested, (action, fields) in EXPECTED.items():
            mark = len(csms.frames)
            connector = 1 if requested in ("StatusNotification", "MeterValues") else None
            answer = await csms.call(call.ExtendedTriggerMessage(requested_message=requested, connector_id=connector))
            assert answer.status == "Accepted", requested
            frame = await csms.wait_for(action, timeout=10, after=mark)
            assert fields.items() <= frame.payload.items(), (requested, frame.payload)
            if requested == "MeterValues":
                assert {v["context"] for v in frame.payload["meterValue"][0]["sampledValue"]} == {"Trigger"}
        # No connector 9 on this station; and without the A02 prerequisite no CSR is made.
        mark = len(csms.frames)
        no_connector = call.ExtendedTriggerMessage(requested_message="StatusNotification", connector_id=9)
        assert (await csms.call(no_connector)).status == "Rejected"
        assert (await csms.call(call.ChangeConfiguration(key="CpoName", value=""))).status == "Accepted"
        sign = call.ExtendedTriggerMessage(requested_message="SignChargePointCertificate")
        assert (await csms.call(sign)).status == "Rejected"
        await csms.call(call.ExtendedTriggerMessage(requested_message="Heartbeat"))
        await csms.wait_for("Heartbeat", after=mark)  # what was Rejected would have come before it
        sent = [f.action for f in csms.frames[mark:] if f.direction == "in" and f.message_type == 2]
        assert sent == ["Heartbeat"], sent
        # Malformed requests get their CALLERROR (OCPP-J §4.2.3), and the station answers on.
        for action, payload, code in MALFORMED:
            response = await csms.call_raw(action, payload)
            assert (response[0], response[2]) == (4, code), (action, payload, response)
        assert (await csms.call(call.ExtendedTriggerMessage(requested_message="Heartbeat"))).status == "Accepted"


@pytest.mark.parametrize(
    ("message", "known_connector", "cannot_sign", "answer"),
    [
        ("Heartbeat", True, None, "Accepted"),
        ("MeterValues", False, None, "Rejected"),
        ("SignChargePointCertificate", True, "CpoName is not set", "Rejected"),
        ("Heartbeat", True, "CpoName is not set", "Accepted"),  # only the CSR needs CpoName
        ("DiagnosticsStatusNotification", True, None, "NotImplemented"),  # TriggerMessage's, not this one's
        ("WakeUp", False, None, "NotImplemented"),  # unknown goes before the connector
    ],
)
def test_the_answer(message: str, known_connector: bool, cannot_sign: str | None, answer: str) -> None:
    assert trigger_answer(message, known_connector, cannot_sign) == answer
