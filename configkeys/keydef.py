"""The shape of a configuration key: its type, access, profile and the values it accepts.

Kept apart from the catalogue so that the catalogue and the vendor profiles, which both
declare keys, share one set of declaration shorthands (`configkeys.shorthand`).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from enum import StrEnum


class KeyType(StrEnum):
    BOOLEAN = "boolean"
    INTEGER = "integer"
    CSL = "CSL"
    STRING = "string"


class Access(StrEnum):
    R = "R"
    RW = "RW"
    W = "W"

    @property
    def readable(self) -> bool:
        return self is not Access.W

    @property
    def writable(self) -> bool:
        return self is not Access.R


class FeatureProfile(StrEnum):
    """OCPP feature profiles, plus two groupings of our own for keys outside §9."""

    CORE = "Core"
    FIRMWARE_MANAGEMENT = "FirmwareManagement"
    LOCAL_AUTH_LIST_MANAGEMENT = "LocalAuthListManagement"
    RESERVATION = "Reservation"
    SMART_CHARGING = "SmartCharging"
    REMOTE_TRIGGER = "RemoteTrigger"
    SECURITY = "Security"
    CUSTOM = "Custom"


# OCPP leaves integer width open; every implementation we talk to uses 32-bit signed.
INT32_MAX = 2**31 - 1
# ChangeConfiguration.req carries the value as CiString500Type.
MAX_VALUE_LENGTH = 500

NON_NEGATIVE: tuple[tuple[int, int], ...] = ((0, INT32_MAX),)


@dataclass(frozen=True)
class KeyDef:
    """One key's contract: what the CSMS may read, write, and which values it may write.

    `default` is in OCPP string form; None means the key exists but holds no value yet.
    `bounds` lists the accepted integer ranges, so a key like ClockAlignedDataInterval can
    accept "0, or 900 to 86400". `members` restricts CSL items; `max_items_key` names the
    key whose current value caps a CSL's item count. `pattern` is a regular expression the
    whole string (or each CSL item) must match. `requires` lists model traits (see
    StationModel.traits) the key needs; it is absent from models lacking any of them.
    """

    name: str
    type: KeyType
    access: Access
    profile: FeatureProfile
    default: str | None = None
    _: KW_ONLY
    reboot_required: bool = False
    bounds: tuple[tuple[int, int], ...] = NON_NEGATIVE
    members: tuple[str, ...] | None = None
    max_items_key: str | None = None
    max_length: int = MAX_VALUE_LENGTH
    pattern: str | None = None
    requires: frozenset[str] = frozenset()
