"""A profile is advertised exactly when a feature serves it (§3.1 SupportedFeatureProfiles,
OCPP-J §4.2.3 NotSupported): what is not built is neither advertised nor half-answered."""

from __future__ import annotations

import pytest
from ocpp.exceptions import NotSupportedError
from ocpp.v16 import call

from tests.conftest import booted

UNSERVED = [
    ("ReserveNow", {"connectorId": 1, "expiryDate": "2026-12-02T10:00:00Z", "idTag": "TAG1", "reservationId": 1}),
    ("CancelReservation", {"reservationId": 1}),
]
ADVERTISED = {
    "wemob": "Core,FirmwareManagement,LocalAuthListManagement,SmartCharging",
    "wallbox": "Core,FirmwareManagement,LocalAuthListManagement,SmartCharging,RemoteTrigger",
}


@pytest.mark.parametrize("profile", ["wemob", "wallbox"])
async def test_unserved_profiles_are_not_advertised_and_their_requests_are_not_supported(
    csms, make_daemon, profile: str
) -> None:
    daemon = make_daemon(csms, profile=profile)
    await booted(csms, daemon)
    answer = await csms.call(call.GetConfiguration(key=["SupportedFeatureProfiles"]))
    assert answer.configuration_key[0]["value"] == ADVERTISED[profile]
    for action, payload in UNSERVED:
        response = await csms.call_raw(action, payload, timeout=5)
        assert response[0] == 4 and response[2] == "NotSupported", (action, response)
    logs = daemon.logs()
    for action, _ in UNSERVED:
        assert f"CSMS request not supported by this station: {action}" in logs
    assert "bad frame" not in logs  # a valid request the station lacks is no fault of the CSMS


async def test_wemob_does_not_serve_remote_trigger(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wemob")
    await booted(csms, daemon)
    with pytest.raises(NotSupportedError):
        await csms.call(call.TriggerMessage(requested_message="Heartbeat"))


async def test_extra_profiles_serves_reservation_and_advertises_it(csms, make_daemon) -> None:
    """Neither vendor lists Reservation; the bench setting `extra_profiles` adds it (§9.1.29)."""
    daemon = make_daemon(csms, profile="wallbox", extra_profiles=["Reservation"])
    await booted(csms, daemon)
    answer = await csms.call(call.GetConfiguration(key=["SupportedFeatureProfiles", "ReserveConnectorZeroSupported"]))
    values = {key["key"]: key["value"] for key in answer.configuration_key}
    assert values == {"SupportedFeatureProfiles": f"{ADVERTISED['wallbox']},Reservation", "ReserveConnectorZeroSupported": "false"}
    for action, payload in UNSERVED:
        response = await csms.call_raw(action, payload, timeout=5)
        assert response[0] == 3 and response[2]["status"] in ("Accepted", "Rejected"), (action, response)
