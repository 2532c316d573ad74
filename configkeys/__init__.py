"""Configuration keys: the OCPP 1.6 catalogue, vendor profiles, validation and the live store."""

from configkeys.catalogue import MEASURANDS, OCPP_FEATURE_PROFILES, SECURITY_KEYS, STANDARD_KEYS
from configkeys.keydef import Access, FeatureProfile, KeyDef, KeyType
from configkeys.profiles import (
    PROFILES,
    StationModel,
    VendorProfile,
    boot_notification_fields,
    catalogue_for,
    get_profile,
    served_profiles,
)
from configkeys.store import ChangeOutcome, ChangeStatus, Configuration, KeyReport, KeyValueStorage, TooManyKeys
from configkeys.validation import Invalid, normalise, split_csl

__all__ = [
    "MEASURANDS",
    "OCPP_FEATURE_PROFILES",
    "PROFILES",
    "SECURITY_KEYS",
    "STANDARD_KEYS",
    "Access",
    "ChangeOutcome",
    "ChangeStatus",
    "Configuration",
    "FeatureProfile",
    "Invalid",
    "KeyDef",
    "KeyReport",
    "KeyType",
    "KeyValueStorage",
    "StationModel",
    "TooManyKeys",
    "VendorProfile",
    "boot_notification_fields",
    "catalogue_for",
    "served_profiles",
    "get_profile",
    "normalise",
    "split_csl",
]
