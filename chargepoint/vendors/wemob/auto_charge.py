"""AutoChargeEnabled (WEMOB §4.4.2): the EV's EVCCID, from the DIN 70121 / ISO 15118
SessionSetupReq, identifies the session as the idTag "VID:" + EVCCID.

Mode 0 (Always Authorized) charges anyway and uses it only to name the session; mode 1
(Local List) does not support it; mode 2 (OCPP server) authorizes it like a card, under the
same keys, and a refusal leaves the station asking for a card.
"""

from __future__ import annotations

from chargepoint.authorization.authorizer import AuthorizationMode
from chargepoint.connector.identification import VehicleId
from configkeys import Configuration

KEY = "AutoChargeEnabled"
PREFIX = "VID:"


class AutoCharge:
    def __init__(self, config: Configuration, mode: AuthorizationMode) -> None:
        self._config = config
        self._mode = mode

    def vehicle_id(self, evccid: str) -> VehicleId | None:
        if not self._config.boolean(KEY) or self._mode is AuthorizationMode.LOCAL_LIST:
            return None
        return VehicleId(PREFIX + evccid.upper(), authorize=self._mode is AuthorizationMode.OCPP_SERVER)
