"""Charging profiles the CSMS hands to the station.

Today this keeps the TxProfile that arrives with a RemoteStartTransaction (§5.11), so the
profile is not lost; limiting the offered current by it is the smart-charging issue's work.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class ChargingProfiles:
    def __init__(self) -> None:
        self.tx_profiles: dict[int, dict[str, Any]] = {}

    def set_tx_profile(self, connector_id: int, profile: dict[str, Any]) -> None:
        self.tx_profiles[connector_id] = profile
        log.info(
            "connector %d: TxProfile %s (stack level %s) received; not enforced yet",
            connector_id,
            profile.get("charging_profile_id"),
            profile.get("stack_level"),
        )
