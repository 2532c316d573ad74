"""Every configuration key a station may serve, declared once as data.

The declarations follow OCPP 1.6 edition 2 §9, its errata (MessageTimeout,
StopTransactionMaxMeterValues, SupportedFileTransferProtocols, the relaxed accessibility of
StopTransactionOnEVSideDisconnect / UnlockConnectorOnEVSideDisconnect) and the Security
Whitepaper §7. Vendor profiles adjust these with dataclasses.replace instead of redeclaring.
"""

from __future__ import annotations

from configkeys.keydef import FeatureProfile, KeyDef
from configkeys.shorthand import B, CORE, DAY, FIRMWARE, I, L, LOCAL, R, RESERVATION, RW, S, SECURITY, SMART, W

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



def _measurands(name: str, default: str) -> KeyDef:
    """The four measurand lists share everything but their name, default and cap."""
    return KeyDef(name, L, RW, CORE, default, members=MEASURANDS, max_items_key=f"{name}MaxLength")


# Defaults here are the generic station's; vendor profiles override what their documents fix.
# NumberOfConnectors, SupportedFeatureProfiles and the phase-rotation pair depend on the model
# and are filled in by profiles.catalogue_for.
STANDARD_KEYS: tuple[KeyDef, ...] = (
    KeyDef("AllowOfflineTxForUnknownId", B, RW, CORE, "false"),
    KeyDef("AuthorizationCacheEnabled", B, RW, CORE, "true"),
    KeyDef("AuthorizeRemoteTxRequests", B, RW, CORE, "false"),
    KeyDef("BlinkRepeat", I, RW, CORE, "3", bounds=((0, 100),)),
    KeyDef("ClockAlignedDataInterval", I, RW, CORE, "0", bounds=((0, DAY),)),
    # Zero would cancel every authorization before a cable could be inserted.
    KeyDef("ConnectionTimeOut", I, RW, CORE, "60", bounds=((1, DAY),)),
    KeyDef(
        "ConnectorPhaseRotation",
        L,
        RW,
        CORE,
        max_items_key="ConnectorPhaseRotationMaxLength",
        pattern=rf"\d+\.(?:{'|'.join(PHASE_ROTATIONS)})",
    ),
    KeyDef("ConnectorPhaseRotationMaxLength", I, R, CORE),
    KeyDef("GetConfigurationMaxKeys", I, R, CORE, "100"),
    KeyDef("HeartbeatInterval", I, RW, CORE, "300", bounds=((0, DAY),)),
    KeyDef("LightIntensity", I, RW, CORE, "100", bounds=((0, 100),)),
    KeyDef("LocalAuthorizeOffline", B, RW, CORE, "true"),
    KeyDef("LocalPreAuthorize", B, RW, CORE, "false"),
    KeyDef("MaxEnergyOnInvalidId", I, RW, CORE, "0"),
    KeyDef("MessageTimeout", I, RW, CORE, "30", bounds=((1, 3_600),)),
    _measurands("MeterValuesAlignedData", "Energy.Active.Import.Register"),
    KeyDef("MeterValuesAlignedDataMaxLength", I, R, CORE, "10"),
    _measurands("MeterValuesSampledData", "Energy.Active.Import.Register"),
    KeyDef("MeterValuesSampledDataMaxLength", I, R, CORE, "10"),
    KeyDef("MeterValueSampleInterval", I, RW, CORE, "60", bounds=((0, DAY),)),
    KeyDef("MinimumStatusDuration", I, RW, CORE, "0", bounds=((0, 3_600),)),
    KeyDef("NumberOfConnectors", I, R, CORE),
    KeyDef("ResetRetries", I, RW, CORE, "3", bounds=((0, 100),)),
    KeyDef("StopTransactionMaxMeterValues", I, R, CORE, "100"),
    KeyDef("StopTransactionOnEVSideDisconnect", B, RW, CORE, "true"),
    KeyDef("StopTransactionOnInvalidId", B, RW, CORE, "true"),
    _measurands("StopTxnAlignedData", ""),
    KeyDef("StopTxnAlignedDataMaxLength", I, R, CORE, "10"),
    _measurands("StopTxnSampledData", ""),
    KeyDef("StopTxnSampledDataMaxLength", I, R, CORE, "10"),
    KeyDef(
        "SupportedFeatureProfiles",
        L,
        R,
        CORE,
        members=OCPP_FEATURE_PROFILES,
        max_items_key="SupportedFeatureProfilesMaxLength",
    ),
    KeyDef("SupportedFeatureProfilesMaxLength", I, R, CORE, str(len(OCPP_FEATURE_PROFILES))),
    # A first attempt is always made; zero attempts would drop transaction messages.
    KeyDef("TransactionMessageAttempts", I, RW, CORE, "3", bounds=((1, 100),)),
    KeyDef("TransactionMessageRetryInterval", I, RW, CORE, "60", bounds=((0, DAY),)),
    KeyDef("UnlockConnectorOnEVSideDisconnect", B, RW, CORE, "true"),
    KeyDef("WebSocketPingInterval", I, RW, CORE, "60", bounds=((0, DAY),)),
    KeyDef("LocalAuthListEnabled", B, RW, LOCAL, "true"),
    KeyDef("LocalAuthListMaxLength", I, R, LOCAL, "100"),
    KeyDef("SendLocalListMaxLength", I, R, LOCAL, "100"),
    KeyDef("ReserveConnectorZeroSupported", B, R, RESERVATION, "false"),
    KeyDef("ChargeProfileMaxStackLevel", I, R, SMART, "10"),
    KeyDef(
        "ChargingScheduleAllowedChargingRateUnit", L, R, SMART, "Current,Power", members=CHARGING_RATE_UNITS
    ),
    KeyDef("ChargingScheduleMaxPeriods", I, R, SMART, "24"),
    KeyDef("ConnectorSwitch3to1PhaseSupported", B, R, SMART, "false"),
    KeyDef("MaxChargingProfilesInstalled", I, R, SMART, "10"),
    # What urllib can fetch without extra dependencies.
    KeyDef(
        "SupportedFileTransferProtocols", L, R, FIRMWARE, "FTP,HTTP,HTTPS", members=FILE_TRANSFER_PROTOCOLS
    ),
)

SECURITY_KEYS: tuple[KeyDef, ...] = (
    KeyDef("AdditionalRootCertificateCheck", B, R, SECURITY, "false"),
    # Whitepaper A00.FR.205: 16 to 20 random bytes written as hexadecimal, i.e. 32 to 40
    # hex digits in pairs. Write-only so a CSMS reading all keys never stores it in clear.
    KeyDef("AuthorizationKey", S, W, SECURITY, pattern=r"(?:[0-9A-Fa-f]{2}){16,20}"),
    KeyDef("CertificateSignedMaxChainSize", I, R, SECURITY, "10000", bounds=((0, 10_000),)),
    KeyDef("CertificateStoreMaxLength", I, R, SECURITY, "10"),
    KeyDef("CpoName", S, RW, SECURITY),
    # Only-goes-up (A05.FR.01) and the prerequisites need the certificate store, so they
    # arrive as validators from the security feature rather than as bounds here.
    KeyDef("SecurityProfile", I, RW, SECURITY, "0", bounds=((0, 3),)),
)
