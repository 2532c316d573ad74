"""Configuration keys as a CSMS and a technician see them: Get/ChangeConfiguration outcomes."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from ocpp.v16 import call

from configkeys import (
    MEASURANDS,
    PROFILES,
    Access,
    Configuration,
    FeatureProfile,
    KeyDef,
    KeyType,
    TooManyKeys,
    VendorProfile,
    boot_notification_fields,
    catalogue_for,
    get_profile,
    normalise,
    served_profiles,
)

HEX_32 = "0123456789abcdef0123456789ABCDEF"
HEX_40 = HEX_32 + "00112233"


class MemoryStorage:
    def __init__(self, keys: dict[str, str] | None = None) -> None:
        self.keys = dict(keys or {})
        self.saves: list[tuple[str, str]] = []

    def load_keys(self) -> dict[str, str]:
        return dict(self.keys)

    def save_key(self, name: str, value: str) -> None:
        self.keys[name] = value
        self.saves.append((name, value))


def station(
    profile: str = "wemob",
    model: str | None = None,
    storage: MemoryStorage | None = None,
    **kwargs: Mapping[str, str],
) -> Configuration:
    vendor = get_profile(profile)
    return Configuration(catalogue_for(vendor, vendor.model(model)), storage or MemoryStorage(), **kwargs)


def reported(config: Configuration, key: str) -> tuple[str | None, bool]:
    reports, unknown = config.get([key])
    assert unknown == [] and len(reports) == 1
    return reports[0].value, reports[0].readonly


# WEMOB manual tables 4.1-4.5: (key, factory default, access).
WEMOB_TABLE = [
    ("AllowOfflineTxForUnknownId", "false", "RW"),
    ("AuthorizationCacheEnabled", "true", "RW"),
    ("AuthorizeRemoteTxRequests", "false", "R"),
    ("ClockAlignedDataInterval", "0", "RW"),
    ("HeartbeatInterval", "3000", "RW"),
    ("LocalAuthorizeOffline", "true", "RW"),
    ("LocalPreAuthorize", "true", "RW"),
    ("MeterValueSampleInterval", "15", "RW"),
    ("MeterValuesSampledData", "", "R"),
    ("ResetRetries", "3", "RW"),
    ("StopTransactionOnInvalidId", "true", "RW"),
    ("TransactionMessageAttempts", "5", "RW"),
    ("TransactionMessageRetryInterval", "2", "RW"),
    ("WebSocketPingInterval", "20", "RW"),
    ("LocalAuthListEnabled", "false", "RW"),
    ("LocalAuthListMaxLength", "100", "R"),
    ("SendLocalListMaxLength", "100", "R"),
    ("ChargeProfileMaxStackLevel", "10", "R"),
    ("ChargingScheduleAllowedChargingRateUnit", "Current,Power", "R"),
    ("ChargingScheduleMaxPeriods", "10", "R"),
    ("MaxChargingProfilesInstalled", "30", "R"),
    ("AlwaysAllowOfflineTransactions", "false", "RW"),
    ("AutoChargeEnabled", "false", "RW"),
    ("AllowChargeAfterBrownOut", "false", "RW"),
    ("EnableSystemHealth", "false", "RW"),
    ("ScreenSaverTime", "5", "RW"),
]


@pytest.mark.parametrize("model", ["wemob-wall-ac22", "wemob-parking-ac22", "wemob-station-dc60"])
@pytest.mark.parametrize(("key", "default", "access"), WEMOB_TABLE)
def test_wemob_manual_defaults_and_access(model: str, key: str, default: str, access: str) -> None:
    assert reported(station(model=model), key) == (default, access == "R")


@pytest.mark.parametrize(("key", "default"), [("SilentMode", "false"), ("EnableHmiConfiguration", "true")])
def test_wemob_dc_only_keys(key: str, default: str) -> None:
    for model in ("wemob-wall-ac22", "wemob-parking-ac22"):
        ac = station(model=model)
        assert not ac.has(key)
        assert ac.get([key]) == ([], [key])
        assert key not in [report.key for report in ac.get()[0]]
        assert ac.change(key, "true") == "NotSupported"
    dc = station(model="wemob-station-dc60")
    assert reported(dc, key) == (default, False)
    assert dc.change(key, "true") == "Accepted"


def test_wemob_reports_the_profiles_it_serves_not_the_manual_default() -> None:
    value, readonly = reported(station(), "SupportedFeatureProfiles")
    assert (value, readonly) == ("Core,FirmwareManagement,LocalAuthListManagement,SmartCharging", True)


def test_wemob_keys_outside_its_tables_are_present() -> None:
    config = station()
    described = ("ConnectionTimeOut", "MeterValuesAlignedData", "MaxEnergyOnInvalidId", "StopTxnSampledData")
    for key in (*described, "GetConfigurationMaxKeys"):
        assert config.has(key)
    assert not config.has("ReserveConnectorZeroSupported")  # Reservation is not served


def test_wemob_models_connectors_and_default() -> None:
    wemob = get_profile("wemob")
    assert wemob.model(None).name == "wemob-wall-ac22"
    assert {m.name: (m.connectors, m.current_type) for m in wemob.models} == {
        "wemob-wall-ac22": (1, "AC"),
        "wemob-parking-ac22": (2, "AC"),
        "wemob-station-dc60": (2, "DC"),
    }
    assert reported(station(model="wemob-parking-ac22"), "NumberOfConnectors") == ("2", True)
    assert {m.charge_point_vendor for m in wemob.models} == {"WEG"}


def test_wemob_authorization_key_starts_unset() -> None:
    config = station()
    assert config.value("AuthorizationKey") is None
    wemob = get_profile("wemob")
    assert catalogue_for(wemob, wemob.model())["AuthorizationKey"].access is Access.W


# OCPP 1.6 §5.3 ChangeConfiguration outcomes.


def test_5_3_unknown_key_not_supported() -> None:
    assert station().change("NoSuchKey", "1") == "NotSupported"


def test_5_3_read_only_key_rejected() -> None:
    storage = MemoryStorage()
    config = station(storage=storage)
    assert config.change("AuthorizeRemoteTxRequests", "true") == "Rejected"
    assert config.change("NumberOfConnectors", "3") == "Rejected"
    assert storage.saves == []
    assert config.value("AuthorizeRemoteTxRequests") == "false"


@pytest.mark.parametrize(("key", "value"), [
    ("HeartbeatInterval", "abc"),
    ("HeartbeatInterval", "1.5"),
    ("HeartbeatInterval", ""),
    ("HeartbeatInterval", "1e3"),
    ("HeartbeatInterval", "-1"),
    ("LocalPreAuthorize", "yes"),
    ("LocalPreAuthorize", "1"),
    ("SecurityProfile", "4"),
    ("ScreenSaverTime", "1441"),
])
def test_5_3_malformed_or_out_of_range_rejected(key: str, value: str) -> None:
    storage = MemoryStorage()
    assert station(storage=storage).change(key, value) == "Rejected"
    assert storage.saves == []


@pytest.mark.parametrize(("key", "value", "stored"), [
    ("LocalPreAuthorize", "TRUE", "true"),
    ("LocalPreAuthorize", " False ", "false"),
    ("HeartbeatInterval", "+30", "30"),
    ("HeartbeatInterval", "0060", "60"),
    ("MeterValuesAlignedData", " Voltage , SoC ", "Voltage,SoC"),
    ("StopTxnSampledData", "", ""),
    ("ConnectorPhaseRotation", "0.RST,1.RTS", "0.RST,1.RTS"),
])
def test_5_3_accepted_values_are_stored_in_canonical_form(key: str, value: str, stored: str) -> None:
    storage = MemoryStorage()
    config = station(storage=storage)
    assert config.change(key, value) == "Accepted"
    assert storage.keys[key] == stored
    assert config.value(key) == stored


def test_5_3_key_names_are_case_insensitive() -> None:
    config = station()
    assert config.change("heartbeatinterval", "90") == "Accepted"
    assert config.integer("HeartbeatInterval") == 90
    assert config.get(["HEARTBEATINTERVAL"])[0][0].key == "HeartbeatInterval"


def test_9_1_34_negative_websocket_ping_interval_rejected() -> None:
    config = station()
    assert config.change("WebSocketPingInterval", "-5") == "Rejected"
    assert config.change("WebSocketPingInterval", "0") == "Accepted"


@pytest.mark.parametrize(("value", "status"), [
    ("600", "Rejected"),
    ("899", "Rejected"),
    ("900", "Accepted"),
    ("86400", "Accepted"),
    ("86401", "Rejected"),
    ("0", "Accepted"),
])
def test_wemob_clock_aligned_interval_is_zero_or_900_to_86400(value: str, status: str) -> None:
    assert station().change("ClockAlignedDataInterval", value) == status


def test_9_1_5_clock_aligned_interval_generic_station_accepts_short_intervals() -> None:
    assert station("wallbox").change("ClockAlignedDataInterval", "600") == "Accepted"


@pytest.mark.parametrize("value", [
    "Energy.Active.Import.Register,Bogus",
    "Voltage,Voltage",
    "Voltage,,SoC",
    "voltage",
    ",".join(MEASURANDS[:11]),  # MeterValuesAlignedDataMaxLength is 10
])
def test_errata_3_14_4_bad_measurand_lists_rejected_and_nothing_changes(value: str) -> None:
    storage = MemoryStorage()
    config = station(storage=storage)
    assert config.change("MeterValuesAlignedData", value) == "Rejected"
    assert config.value("MeterValuesAlignedData") == "Energy.Active.Import.Register"
    assert storage.saves == []


def test_7_31_measurands_are_the_22_of_ocpp_1_6() -> None:
    assert len(set(MEASURANDS)) == 22
    assert station().change("MeterValuesAlignedData", ",".join(MEASURANDS[:10])) == "Accepted"


def test_cpo_name_longer_than_ci_string_500_rejected() -> None:
    config = station()
    assert config.change("CpoName", "x" * 501) == "Rejected"
    assert config.change("CpoName", "Acme Charging") == "Accepted"


# Security Whitepaper §7.2 / A00.FR.205: AuthorizationKey.


@pytest.mark.parametrize("value", [HEX_32, HEX_40])
def test_authorization_key_accepts_16_to_20_bytes_of_hex(value: str) -> None:
    storage = MemoryStorage()
    config = station(storage=storage)
    assert config.change("AuthorizationKey", value) == "Accepted"
    assert storage.keys["AuthorizationKey"] == value
    assert config.value("AuthorizationKey") == value


@pytest.mark.parametrize("value", [HEX_32[:30], HEX_40 + "aa", HEX_32 + "a", "g" * 32, "10", "plain password!"])
def test_authorization_key_rejects_anything_else(value: str) -> None:
    assert station().change("AuthorizationKey", value) == "Rejected"


def test_authorization_key_is_never_reported() -> None:
    config = station(initial={"AuthorizationKey": HEX_32})
    reports, unknown = config.get()
    assert "AuthorizationKey" not in [report.key for report in reports]
    assert HEX_32 not in [report.value for report in reports]
    reports, unknown = config.get(["AuthorizationKey", "HeartbeatInterval"])
    assert [report.key for report in reports] == ["HeartbeatInterval"]
    assert unknown == ["AuthorizationKey"]


def test_initial_seeds_only_when_storage_has_nothing() -> None:
    assert station(initial={"AuthorizationKey": HEX_32}).value("AuthorizationKey") == HEX_32
    stored = MemoryStorage({"AuthorizationKey": HEX_40})
    assert station(storage=stored, initial={"AuthorizationKey": HEX_32}).value("AuthorizationKey") == HEX_40


# Persistence and observers.


def test_value_is_persisted_before_change_returns() -> None:
    storage = MemoryStorage()
    config = station(storage=storage)
    seen: list[dict[str, str]] = []
    config.subscribe("HeartbeatInterval", lambda value: seen.append(dict(storage.keys)))
    assert config.change("HeartbeatInterval", "120") == "Accepted"
    assert storage.saves == [("HeartbeatInterval", "120")]
    assert seen == [{"HeartbeatInterval": "120"}]  # subscribers run after the save


def test_failed_save_leaves_value_unchanged_and_unannounced() -> None:
    class BrokenStorage(MemoryStorage):
        def save_key(self, name: str, value: str) -> None:
            raise OSError("flash gone")

    config = station(storage=BrokenStorage())
    heard: list[str] = []
    config.subscribe("HeartbeatInterval", heard.append)
    with pytest.raises(OSError):
        config.change("HeartbeatInterval", "120")
    assert config.value("HeartbeatInterval") == "3000"
    assert heard == []


def test_changes_survive_a_restart() -> None:
    storage = MemoryStorage()
    station(storage=storage).change("MeterValueSampleInterval", "30")
    assert station(storage=storage).integer("MeterValueSampleInterval") == 30


def test_stored_values_for_read_only_or_invalid_keys_are_ignored() -> None:
    storage = MemoryStorage({"AuthorizeRemoteTxRequests": "true", "HeartbeatInterval": "-7", "Gone": "1"})
    config = station(storage=storage)
    assert config.value("AuthorizeRemoteTxRequests") == "false"
    assert config.value("HeartbeatInterval") == "3000"


def test_fixed_values_are_reported_read_only_and_never_stored() -> None:
    storage = MemoryStorage({"NumberOfConnectors": "9"})
    config = station(storage=storage, fixed={"NumberOfConnectors": "3"})
    assert reported(config, "NumberOfConnectors") == ("3", True)
    assert config.change("NumberOfConnectors", "4") == "Rejected"
    assert storage.saves == []


def test_fixed_value_for_unserved_key_is_refused() -> None:
    with pytest.raises(ValueError, match="SilentMode"):
        station(fixed={"SilentMode": "true"})


def test_same_value_again_is_accepted() -> None:
    config = station()
    assert config.change("HeartbeatInterval", "3000") == "Accepted"


def test_subscribers_hear_canonical_value_and_a_failing_one_does_not_silence_others() -> None:
    config = station()
    heard: list[str] = []

    def broken(value: str) -> None:
        raise RuntimeError("listener bug")

    config.subscribe("LocalPreAuthorize", broken)
    config.subscribe("LocalPreAuthorize", heard.append)
    assert config.change("LocalPreAuthorize", "FALSE") == "Accepted"
    assert config.change("LocalPreAuthorize", "maybe") == "Rejected"
    assert heard == ["false"]


@pytest.mark.parametrize(("key", "value", "status", "reason"), [
    ("HeartbeatInterval", "abc", "Rejected", "not a whole number; allowed: 0..86400"),
    ("HeartbeatInterval", "86401", "Rejected", "outside 0..86400"),
    ("ClockAlignedDataInterval", "600", "Rejected", "outside 0 or 900..86400"),
    ("NumberOfConnectors", "2", "Rejected", "read-only"),
    ("LocalPreAuthorize", "maybe", "Rejected", "not 'true' or 'false'"),
    ("MeterValuesAlignedData", "Voltage,Bogus", "Rejected", f"item 'Bogus' is not one of {', '.join(MEASURANDS)}"),
    ("HeartBeatIntervall", "60", "NotSupported", "not a key of this station; did you mean HeartbeatInterval?"),
    ("NoSuchKey", "1", "NotSupported", "not a key of this station"),
    ("HeartbeatInterval", "60", "Accepted", None),
])
def test_5_3_a_change_says_why_it_was_refused(key: str, value: str, status: str, reason: str | None) -> None:
    outcome = station().change_with_reason(key, value)
    assert (outcome.status, outcome.reason) == (status, reason)


def test_a_refused_authorization_key_reason_never_quotes_it() -> None:
    outcome = station().change_with_reason("AuthorizationKey", "my secret password")
    assert outcome.status == "Rejected" and outcome.reason and "secret" not in outcome.reason


def test_extra_validator_can_refuse_a_change() -> None:
    storage = MemoryStorage()
    config = station(storage=storage)
    config.add_validator(
        "SecurityProfile",
        lambda value: None if int(value) > config.integer("SecurityProfile") else "can only go up",
    )
    assert config.change("SecurityProfile", "1") == "Accepted"
    assert config.change("SecurityProfile", "0") == "Rejected"
    assert config.change_with_reason("SecurityProfile", "1").reason == "can only go up"
    assert storage.saves == [("SecurityProfile", "1")]


def test_reboot_required_key_is_persisted_and_says_so() -> None:
    key = KeyDef("Firmware", KeyType.STRING, Access.RW, FeatureProfile.CUSTOM, "a", reboot_required=True)
    storage = MemoryStorage()
    config = Configuration({"Firmware": key}, storage)
    assert config.change("Firmware", "b") == "RebootRequired"
    assert storage.keys == {"Firmware": "b"}


def test_readable_tells_whether_a_value_may_be_shown() -> None:
    config = station()
    assert config.readable("HeartbeatInterval")
    assert not config.readable("AuthorizationKey")
    assert not config.readable("NoSuchKey")


def test_typed_getters() -> None:
    config = station()
    assert config.integer("HeartbeatInterval") == 3000
    assert config.boolean("AuthorizationCacheEnabled") is True
    assert config.csl("ChargingScheduleAllowedChargingRateUnit") == ["Current", "Power"]
    assert config.csl("MeterValuesSampledData") == []
    with pytest.raises(KeyError):
        config.value("SilentMode")
    with pytest.raises(ValueError):
        config.integer("CpoName")


# OCPP 1.6 §5.8 GetConfiguration.


def test_5_8_get_everything_in_catalogue_order() -> None:
    config = station()
    reports, unknown = config.get()
    assert unknown == []
    assert [report.key for report in reports] == [
        name for name, key in catalogue_for(get_profile("wemob"), get_profile("wemob").model()).items()
        if key.access is not Access.W
    ]
    assert config.get([]) == (reports, [])


def test_5_8_unknown_keys_listed_separately() -> None:
    reports, unknown = station().get(["HeartbeatInterval", "Nope", "SilentMode"])
    assert [(r.key, r.value, r.readonly) for r in reports] == [("HeartbeatInterval", "3000", False)]
    assert unknown == ["Nope", "SilentMode"]


def test_9_1_9_get_configuration_max_keys() -> None:
    config = station()
    limit = config.integer("GetConfigurationMaxKeys")
    config.get(["HeartbeatInterval"] * limit)
    with pytest.raises(TooManyKeys) as raised:
        config.get(["HeartbeatInterval"] * (limit + 1))
    assert (raised.value.requested, raised.value.limit) == (limit + 1, limit)


# Wallbox activation guide: models and feature profiles.

WALLBOX_FEATURES = "Core,FirmwareManagement,LocalAuthListManagement,SmartCharging,RemoteTrigger"


@pytest.mark.parametrize(("model", "rfid", "lock"), [
    ("copper-sb", True, True),
    ("pulsar-plus", False, False),
    ("pulsar-plus-na", False, False),
    ("commander-2", True, False),
])
def test_wallbox_models(model: str, rfid: bool, lock: bool) -> None:
    station_model = get_profile("wallbox").model(model)
    assert (station_model.has_rfid, station_model.has_lock) == (rfid, lock)
    assert (station_model.connectors, station_model.current_type) == (1, "AC")
    config = station("wallbox", model)
    assert reported(config, "SupportedFeatureProfiles") == (WALLBOX_FEATURES, True)
    assert not config.has("ReserveConnectorZeroSupported")
    # Errata 3.84: a tethered cable reads false and cannot be changed.
    before = config.value("UnlockConnectorOnEVSideDisconnect")
    status = config.change("UnlockConnectorOnEVSideDisconnect", "true")
    assert (before, status) == (("true", "Accepted") if lock else ("false", "Rejected"))


def test_wallbox_defaults_to_copper_sb_and_commander_has_pin() -> None:
    wallbox = get_profile("wallbox")
    assert wallbox.model(None).name == "copper-sb"
    assert wallbox.model("commander-2").has_pin
    assert station("wallbox").value("AuthEnabled") == "true"


def test_unknown_profile_and_model_name_the_choices() -> None:
    with pytest.raises(ValueError, match="wemob, wallbox"):
        get_profile("abb")
    with pytest.raises(ValueError, match="copper-sb, pulsar-plus, pulsar-plus-na, commander-2"):
        get_profile("wallbox").model("pulsar")


def test_boot_notification_identity_is_deterministic_and_fits_ocpp() -> None:
    model = get_profile("wemob").model("wemob-station-dc60")
    fields = boot_notification_fields(model, "CP001", meter_type="SDM630")
    assert fields == boot_notification_fields(model, "CP001", meter_type="SDM630")
    other = boot_notification_fields(model, "CP002")
    assert fields["charge_point_serial_number"] != other["charge_point_serial_number"]
    assert fields["charge_point_vendor"] == "WEG" and "meter_serial_number" not in fields
    call.BootNotification(**fields)
    for profile in PROFILES.values():
        for station_model in profile.models:
            values = boot_notification_fields(station_model, "x" * 48)
            assert len(values["charge_point_vendor"]) <= 20 and len(values["charge_point_model"]) <= 20
            assert len(values["charge_point_serial_number"]) <= 25 and len(values["firmware_version"]) <= 50


# The data itself.


@pytest.mark.parametrize("profile", list(PROFILES.values()), ids=list(PROFILES))
def test_every_default_is_valid_and_every_override_names_a_key(profile: VendorProfile) -> None:
    for station_model in profile.models:
        keys = catalogue_for(profile, station_model)
        for key in keys.values():
            if key.default is not None:
                cap = keys[key.max_items_key].default if key.max_items_key else None
                assert normalise(key, key.default, None if cap is None else int(cap)) == key.default, key.name
        declared = set(keys) | {key.name for key in profile.custom_keys}
        assert set(profile.overrides) | set(station_model.overrides) <= declared


def test_a_profile_the_code_lacks_is_neither_advertised_nor_given_its_keys() -> None:
    wemob = get_profile("wemob")
    implemented = frozenset({FeatureProfile.CORE, FeatureProfile.LOCAL_AUTH_LIST_MANAGEMENT})
    keys = catalogue_for(wemob, wemob.model(None), implemented=implemented)
    assert keys["SupportedFeatureProfiles"].default == "Core,LocalAuthListManagement"
    assert "ChargeProfileMaxStackLevel" not in keys and "LocalAuthListMaxLength" in keys
    assert served_profiles(wemob.model(None), implemented) == (FeatureProfile.CORE, FeatureProfile.LOCAL_AUTH_LIST_MANAGEMENT)
