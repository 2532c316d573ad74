"""Every configuration key a station may serve, declared once as data.

The declarations follow OCPP 1.6 edition 2 §9, its errata (MessageTimeout,
StopTransactionMaxMeterValues, SupportedFileTransferProtocols, the relaxed accessibility of
StopTransactionOnEVSideDisconnect / UnlockConnectorOnEVSideDisconnect) and the Security
Whitepaper §7. Vendor profiles adjust these with dataclasses.replace instead of redeclaring.
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

OCPP_FEATURE_PROFILES = tuple(
    profile.value for profile in FeatureProfile if profile not in (FeatureProfile.SECURITY, FeatureProfile.CUSTOM)
)

MEASURANDS = (
    "Current.Export",
    "Current.Import",
    "Current.Offered",
    "Energy.Active.Export.Register",
    "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval",
    "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Import.Interval",
    "Frequency",
    "Power.Active.Export",
    "Power.Active.Import",
    "Power.Factor",
    "Power.Offered",
    "Power.Reactive.Export",
    "Power.Reactive.Import",
    "RPM",
    "SoC",
    "Temperature",
    "Voltage",
)

CHARGING_RATE_UNITS = ("Current", "Power")
FILE_TRANSFER_PROTOCOLS = ("FTP", "FTPS", "HTTP", "HTTPS")
PHASE_ROTATIONS = ("NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR")

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


_B, _I, _L, _S = KeyType.BOOLEAN, KeyType.INTEGER, KeyType.CSL, KeyType.STRING
_R, _RW, _W = Access.R, Access.RW, Access.W
_CORE = FeatureProfile.CORE
_LOCAL = FeatureProfile.LOCAL_AUTH_LIST_MANAGEMENT
_RESERVATION = FeatureProfile.RESERVATION
_SMART = FeatureProfile.SMART_CHARGING
_FIRMWARE = FeatureProfile.FIRMWARE_MANAGEMENT
_SECURITY = FeatureProfile.SECURITY
_DAY = 86_400


def _measurands(name: str, default: str) -> KeyDef:
    """The four measurand lists share everything but their name, default and cap."""
    return KeyDef(name, _L, _RW, _CORE, default, members=MEASURANDS, max_items_key=f"{name}MaxLength")


# Defaults here are the generic station's; vendor profiles override what their documents fix.
# NumberOfConnectors, SupportedFeatureProfiles and the phase-rotation pair depend on the model
# and are filled in by profiles.catalogue_for.
STANDARD_KEYS: tuple[KeyDef, ...] = (
    KeyDef("AllowOfflineTxForUnknownId", _B, _RW, _CORE, "false"),
    KeyDef("AuthorizationCacheEnabled", _B, _RW, _CORE, "true"),
    KeyDef("AuthorizeRemoteTxRequests", _B, _RW, _CORE, "false"),
    KeyDef("BlinkRepeat", _I, _RW, _CORE, "3", bounds=((0, 100),)),
    KeyDef("ClockAlignedDataInterval", _I, _RW, _CORE, "0", bounds=((0, _DAY),)),
    # Zero would cancel every authorization before a cable could be inserted.
    KeyDef("ConnectionTimeOut", _I, _RW, _CORE, "60", bounds=((1, _DAY),)),
    KeyDef(
        "ConnectorPhaseRotation",
        _L,
        _RW,
        _CORE,
        max_items_key="ConnectorPhaseRotationMaxLength",
        pattern=rf"\d+\.(?:{'|'.join(PHASE_ROTATIONS)})",
    ),
    KeyDef("ConnectorPhaseRotationMaxLength", _I, _R, _CORE),
    KeyDef("GetConfigurationMaxKeys", _I, _R, _CORE, "100"),
    KeyDef("HeartbeatInterval", _I, _RW, _CORE, "300", bounds=((0, _DAY),)),
    KeyDef("LightIntensity", _I, _RW, _CORE, "100", bounds=((0, 100),)),
    KeyDef("LocalAuthorizeOffline", _B, _RW, _CORE, "true"),
    KeyDef("LocalPreAuthorize", _B, _RW, _CORE, "false"),
    KeyDef("MaxEnergyOnInvalidId", _I, _RW, _CORE, "0"),
    KeyDef("MessageTimeout", _I, _RW, _CORE, "30", bounds=((1, 3_600),)),
    _measurands("MeterValuesAlignedData", "Energy.Active.Import.Register"),
    KeyDef("MeterValuesAlignedDataMaxLength", _I, _R, _CORE, "10"),
    _measurands("MeterValuesSampledData", "Energy.Active.Import.Register"),
    KeyDef("MeterValuesSampledDataMaxLength", _I, _R, _CORE, "10"),
    KeyDef("MeterValueSampleInterval", _I, _RW, _CORE, "60", bounds=((0, _DAY),)),
    KeyDef("MinimumStatusDuration", _I, _RW, _CORE, "0", bounds=((0, 3_600),)),
    KeyDef("NumberOfConnectors", _I, _R, _CORE),
    KeyDef("ResetRetries", _I, _RW, _CORE, "3", bounds=((0, 100),)),
    KeyDef("StopTransactionMaxMeterValues", _I, _R, _CORE, "100"),
    KeyDef("StopTransactionOnEVSideDisconnect", _B, _RW, _CORE, "true"),
    KeyDef("StopTransactionOnInvalidId", _B, _RW, _CORE, "true"),
    _measurands("StopTxnAlignedData", ""),
    KeyDef("StopTxnAlignedDataMaxLength", _I, _R, _CORE, "10"),
    _measurands("StopTxnSampledData", ""),
    KeyDef("StopTxnSampledDataMaxLength", _I, _R, _CORE, "10"),
    KeyDef(
        "SupportedFeatureProfiles",
        _L,
        _R,
        _CORE,
        members=OCPP_FEATURE_PROFILES,
        max_items_key="SupportedFeatureProfilesMaxLength",
    ),
    KeyDef("SupportedFeatureProfilesMaxLength", _I, _R, _CORE, str(len(OCPP_FEATURE_PROFILES))),
    # A first attempt is always made; zero attempts would drop transaction messages.
    KeyDef("TransactionMessageAttempts", _I, _RW, _CORE, "3", bounds=((1, 100),)),
    KeyDef("TransactionMessageRetryInterval", _I, _RW, _CORE, "60", bounds=((0, _DAY),)),
    KeyDef("UnlockConnectorOnEVSideDisconnect", _B, _RW, _CORE, "true"),
    KeyDef("WebSocketPingInterval", _I, _RW, _CORE, "60", bounds=((0, _DAY),)),
    KeyDef("LocalAuthListEnabled", _B, _RW, _LOCAL, "true"),
    KeyDef("LocalAuthListMaxLength", _I, _R, _LOCAL, "100"),
    KeyDef("SendLocalListMaxLength", _I, _R, _LOCAL, "100"),
    KeyDef("ReserveConnectorZeroSupported", _B, _R, _RESERVATION, "false"),
    KeyDef("ChargeProfileMaxStackLevel", _I, _R, _SMART, "10"),
    KeyDef(
        "ChargingScheduleAllowedChargingRateUnit", _L, _R, _SMART, "Current,Power", members=CHARGING_RATE_UNITS
    ),
    KeyDef("ChargingScheduleMaxPeriods", _I, _R, _SMART, "24"),
    KeyDef("ConnectorSwitch3to1PhaseSupported", _B, _R, _SMART, "false"),
    KeyDef("MaxChargingProfilesInstalled", _I, _R, _SMART, "10"),
    # What urllib can fetch without extra dependencies.
    KeyDef(
        "SupportedFileTransferProtocols", _L, _R, _FIRMWARE, "FTP,HTTP,HTTPS", members=FILE_TRANSFER_PROTOCOLS
    ),
)

SECURITY_KEYS: tuple[KeyDef, ...] = (
    KeyDef("AdditionalRootCertificateCheck", _B, _R, _SECURITY, "false"),
    # Whitepaper A00.FR.205: 16 to 20 random bytes written as hexadecimal, i.e. 32 to 40
    # hex digits in pairs. Write-only so a CSMS reading all keys never stores it in clear.
    KeyDef("AuthorizationKey", _S, _W, _SECURITY, pattern=r"(?:[0-9A-Fa-f]{2}){16,20}"),
    KeyDef("CertificateSignedMaxChainSize", _I, _R, _SECURITY, "10000", bounds=((0, 10_000),)),
    KeyDef("CertificateStoreMaxLength", _I, _R, _SECURITY, "10"),
    KeyDef("CpoName", _S, _RW, _SECURITY),
    # Only-goes-up (A05.FR.01) and the prerequisites need the certificate store, so they
    # arrive as validators from the security feature rather than as bounds here.
    KeyDef("SecurityProfile", _I, _RW, _SECURITY, "0", bounds=((0, 3),)),
)
