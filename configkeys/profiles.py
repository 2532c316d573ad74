"""The stations we emulate: vendors, their models, and how each adjusts the standard keys.

A vendor profile is data: its models, its custom keys, and field overrides applied to the
standard declarations. catalogue_for merges them into the key set one model really serves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from configkeys.catalogue import SECURITY_KEYS, STANDARD_KEYS
from configkeys.keydef import FeatureProfile, KeyDef
from configkeys.shorthand import B, CORE, CUSTOM, FIRMWARE, I, LOCAL, R, RW, SMART, TRIGGER

# Per key name, the KeyDef fields to replace.
Overrides = Mapping[str, Mapping[str, Any]]


# Errata 3.84: with a fixed cable there is nothing to unlock, so the key reads false and
# cannot be changed.
TETHERED: Overrides = {"UnlockConnectorOnEVSideDisconnect": {"access": R, "default": "false"}}


@dataclass(frozen=True)
class StationModel:
    """What a model is physically; drives BootNotification and which keys it serves."""

    name: str
    charge_point_vendor: str
    charge_point_model: str
    firmware_version: str
    connectors: int
    current_type: Literal["AC", "DC"]
    has_rfid: bool
    has_lock: bool
    feature_profiles: tuple[FeatureProfile, ...]
    has_pin: bool = False
    serial_prefix: str = ""
    overrides: Overrides = field(default_factory=dict, hash=False)

    @property
    def traits(self) -> frozenset[str]:
        """The vocabulary KeyDef.requires is written in."""
        flags = {"rfid": self.has_rfid, "lock": self.has_lock, "pin": self.has_pin}
        return frozenset({self.current_type, *(trait for trait, present in flags.items() if present)})


@dataclass(frozen=True)
class VendorProfile:
    name: str
    models: tuple[StationModel, ...]
    custom_keys: tuple[KeyDef, ...] = ()
    overrides: Overrides = field(default_factory=dict, hash=False)

    def model(self, name: str | None = None) -> StationModel:
        """The named model; the first declared one when settings leave the model out."""
        if name is None:
            return self.models[0]
        for model in self.models:
            if model.name == name:
                return model
        allowed = ", ".join(model.name for model in self.models)
        raise ValueError(f"unknown model {name!r} for profile {self.name!r}; choose one of: {allowed}")


def _serial(model: StationModel, identity: str, part: str) -> str:
    """Stable across restarts and distinct per station, without storing anything."""
    digest = hashlib.sha256(f"{model.name}/{part}/{identity}".encode()).digest()
    return f"{model.serial_prefix}{int.from_bytes(digest[:8], 'big') % 10**10:010d}"


def boot_notification_fields(
    model: StationModel,
    identity: str,
    meter_type: str | None = None,
    meter_serial_number: str | None = None,
    firmware_version: str | None = None,
) -> dict[str, str]:
    """Keyword arguments for ocpp.v16.call.BootNotification (snake_case, unset ones left out);
    `firmware_version` is the running one once an update replaced the model's factory image."""
    fields = {
        "charge_point_vendor": model.charge_point_vendor,
        "charge_point_model": model.charge_point_model,
        "charge_point_serial_number": _serial(model, identity, "charge-point"),
        "charge_box_serial_number": _serial(model, identity, "charge-box"),
        "firmware_version": firmware_version or model.firmware_version,
        "meter_type": meter_type,
        "meter_serial_number": meter_serial_number,
    }
    return {name: value for name, value in fields.items() if value is not None}


def served_profiles(
    model: StationModel, implemented: frozenset[FeatureProfile] | None = None
) -> tuple[FeatureProfile, ...]:
    """The model's profiles that the station's code serves, in the model's order."""
    return tuple(p for p in model.feature_profiles if implemented is None or p in implemented)


def catalogue_for(
    profile: VendorProfile,
    model: StationModel,
    connectors: int | None = None,
    implemented: frozenset[FeatureProfile] | None = None,
) -> dict[str, KeyDef]:
    """The keys `model` serves, in report order, with vendor then model adjustments applied.

    `connectors` overrides the model's connector count when the installation differs.
    `implemented` is what the station's code serves: a profile the model has but the code
    lacks is neither advertised nor given its keys (all of the model's when None).
    """
    served = served_profiles(model, implemented)
    count = connectors or model.connectors
    rotation = "NotApplicable" if model.current_type == "DC" else "Unknown"
    # Facts of the hardware win over any vendor table (see the WEMOB profile list).
    derived: Overrides = {
        "NumberOfConnectors": {"default": str(count)},
        "SupportedFeatureProfiles": {"default": ",".join(served)},
        "ConnectorPhaseRotation": {"default": ",".join(f"{n}.{rotation}" for n in range(1, count + 1))},
        # One item per connector plus index 0, the grid connection to the main meter.
        "ConnectorPhaseRotationMaxLength": {"default": str(count + 1)},
    }
    with_own = {*served, FeatureProfile.SECURITY, FeatureProfile.CUSTOM}
    keys: dict[str, KeyDef] = {}
    for key in (*STANDARD_KEYS, *SECURITY_KEYS, *profile.custom_keys):
        if key.profile not in with_own or not key.requires <= model.traits:
            continue
        for layer in (profile.overrides, model.overrides, derived):
            key = replace(key, **layer.get(key.name, {}))
        keys[key.name] = key
    return keys


# WEG WEMOB application manual 10012744786/00, tables 4.1 to 4.5: defaults and access
# exactly as printed. Keys the manual describes but leaves out of its tables keep the
# generic declarations from the catalogue.
_WEMOB_OVERRIDES: Overrides = {
    "AllowOfflineTxForUnknownId": {"default": "false"},
    "AuthorizationCacheEnabled": {"default": "true"},
    "AuthorizeRemoteTxRequests": {"default": "false", "access": R},
    # Clock alignment finer than 15 minutes is refused; MeterValueSampleInterval covers that.
    "ClockAlignedDataInterval": {"default": "0", "bounds": ((0, 0), (900, 86_400))},
    "HeartbeatInterval": {"default": "3000"},
    "LocalAuthorizeOffline": {"default": "true"},
    "LocalPreAuthorize": {"default": "true"},
    "MeterValueSampleInterval": {"default": "15"},
    # Fixed by the station; empty means it samples Energy.Active.Import.Register only.
    "MeterValuesSampledData": {"default": "", "access": R},
    "ResetRetries": {"default": "3"},
    "StopTransactionOnInvalidId": {"default": "true"},
    "TransactionMessageAttempts": {"default": "5"},
    "TransactionMessageRetryInterval": {"default": "2"},
    "WebSocketPingInterval": {"default": "20"},
    "LocalAuthListEnabled": {"default": "false"},
    "LocalAuthListMaxLength": {"default": "100", "access": R},
    "SendLocalListMaxLength": {"default": "100", "access": R},
    "ChargeProfileMaxStackLevel": {"default": "10", "access": R},
    "ChargingScheduleAllowedChargingRateUnit": {"default": "Current,Power", "access": R},
    "ChargingScheduleMaxPeriods": {"default": "10", "access": R},
    "MaxChargingProfilesInstalled": {"default": "30", "access": R},
    # The manual's own example of the preparation timeout.
    "ConnectionTimeOut": {"default": "120"},
    # Table 4.4 prints "10" as the AuthorizationKey default. That is not 16 to 20 bytes of
    # hex, so no station could authenticate with it; the key stays unset until the
    # settings password or the CSMS provides one.
}

_WEMOB_CUSTOM_KEYS: tuple[KeyDef, ...] = (
    KeyDef("AlwaysAllowOfflineTransactions", B, RW, CUSTOM, "false"),
    KeyDef("AutoChargeEnabled", B, RW, CUSTOM, "false"),
    KeyDef("SilentMode", B, RW, CUSTOM, "false", requires=frozenset({"DC"})),
    KeyDef("EnableHmiConfiguration", B, RW, CUSTOM, "true", requires=frozenset({"DC"})),
    KeyDef("AllowChargeAfterBrownOut", B, RW, CUSTOM, "false"),
    KeyDef("EnableSystemHealth", B, RW, CUSTOM, "false"),
    # Minutes before the display dims; 0 disables dimming. A day is far beyond any use.
    KeyDef("ScreenSaverTime", I, RW, CUSTOM, "5", bounds=((0, 1_440),)),
)

# The manual's SupportedFeatureProfiles default "Core,FirmwareManagement" contradicts its
# own Local Auth List and Smart Charging tables; the station reports what it serves.
_WEMOB_FEATURES = (CORE, FIRMWARE, LOCAL, SMART)


def _wemob(name: str, model: str, connectors: int, current: Literal["AC", "DC"]) -> StationModel:
    tethered = current == "DC"
    return StationModel(
        name=name,
        charge_point_vendor="WEG",
        charge_point_model=model,
        firmware_version="2.3.1",
        connectors=connectors,
        current_type=current,
        has_rfid=True,
        has_lock=not tethered,
        feature_profiles=_WEMOB_FEATURES,
        serial_prefix="WEG",
        overrides=TETHERED if tethered else {},
    )


WEMOB = VendorProfile(
    name="wemob",
    models=(
        _wemob("wemob-wall-ac22", "WEMOB-WALL-22", 1, "AC"),
        _wemob("wemob-parking-ac22", "WEMOB-PARKING-22", 2, "AC"),
        _wemob("wemob-station-dc60", "WEMOB-STATION-60", 2, "DC"),
    ),
    custom_keys=_WEMOB_CUSTOM_KEYS,
    overrides=_WEMOB_OVERRIDES,
)

# The Wallbox guide publishes no key table, so these models serve the catalogue's generic
# defaults (HeartbeatInterval 300 s, MeterValueSampleInterval 60 s, WebSocketPingInterval
# 60 s, LocalAuthListEnabled true). Model strings follow Wallbox part numbers
# (model-cable-connector-power-version), as these chargers report them at boot.
_WALLBOX_FEATURES = (CORE, FIRMWARE, LOCAL, SMART, TRIGGER)

_WALLBOX_CUSTOM_KEYS: tuple[KeyDef, ...] = (
    # Set to false by the CPO, the charger no longer asks for RFID or PIN: free charging.
    KeyDef("AuthEnabled", B, RW, CUSTOM, "true"),
)


def _wallbox(name: str, model: str, *, rfid: bool, lock: bool, pin: bool = False) -> StationModel:
    return StationModel(
        name=name,
        charge_point_vendor="Wall Box Chargers",
        charge_point_model=model,
        firmware_version="6.6.20",
        connectors=1,
        current_type="AC",
        has_rfid=rfid,
        has_lock=lock,
        feature_profiles=_WALLBOX_FEATURES,
        has_pin=pin,
        overrides={} if lock else TETHERED,
    )


WALLBOX = VendorProfile(
    name="wallbox",
    models=(
        _wallbox("copper-sb", "CPB1-S-2-4-8", rfid=True, lock=True),
        _wallbox("pulsar-plus", "PLP1-0-2-4-9", rfid=False, lock=False),
        _wallbox("pulsar-plus-na", "PUP1-U-1-6-C-002", rfid=False, lock=False),
        _wallbox("commander-2", "CMX2-0-2-4-8", rfid=True, lock=False, pin=True),
    ),
    custom_keys=_WALLBOX_CUSTOM_KEYS,
)

PROFILES: dict[str, VendorProfile] = {profile.name: profile for profile in (WEMOB, WALLBOX)}


def get_profile(name: str) -> VendorProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}") from None
