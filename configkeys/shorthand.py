"""Short names for key declarations, so the tables in `catalogue` and `profiles` read as tables."""

from configkeys.keydef import Access, FeatureProfile, KeyType

B, I, L, S = KeyType.BOOLEAN, KeyType.INTEGER, KeyType.CSL, KeyType.STRING
R, RW, W = Access.R, Access.RW, Access.W
CORE = FeatureProfile.CORE
LOCAL = FeatureProfile.LOCAL_AUTH_LIST_MANAGEMENT
RESERVATION = FeatureProfile.RESERVATION
SMART = FeatureProfile.SMART_CHARGING
FIRMWARE = FeatureProfile.FIRMWARE_MANAGEMENT
TRIGGER = FeatureProfile.REMOTE_TRIGGER
SECURITY = FeatureProfile.SECURITY
CUSTOM = FeatureProfile.CUSTOM
DAY = 86_400  # seconds
