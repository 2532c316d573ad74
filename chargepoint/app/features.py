"""Which feature classes the station has, and so which OCPP profiles it can serve.

SupportedFeatureProfiles is derived from this list, never declared beside it: a model's
profile that no feature here implements is neither advertised nor given its keys.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from chargepoint.authorization.cache import AuthorizationCache
from chargepoint.authorization.local_list import LocalListManagement
from chargepoint.core.availability import Availability
from chargepoint.core.configuration import ConfigurationService
from chargepoint.core.data_transfer import DataTransferRegistry
from chargepoint.core.remote import RemoteTransactions
from chargepoint.core.reset import ResetService
from chargepoint.core.unlock import Unlocking
from chargepoint.diagnostics.feature import Diagnostics
from chargepoint.firmware.feature import FirmwareUpdates
from chargepoint.remote_trigger.trigger import Triggers
from chargepoint.reservation.feature import Reservations
from chargepoint.security.certificate_feature import CertificateManagement
from chargepoint.security.client_certificate import ClientCertificate
from chargepoint.security.extended_trigger import ExtendedTriggers
from chargepoint.security.get_log import LogUploads
from chargepoint.security.signed_firmware import SignedFirmwareUpdates
from chargepoint.smart_charging.feature import SmartCharging
from configkeys import FeatureProfile


class Feature(Protocol):
    profile: ClassVar[FeatureProfile]


FEATURES: tuple[type[Feature], ...] = (
    ConfigurationService,
    RemoteTransactions,
    Availability,
    Unlocking,
    ResetService,
    AuthorizationCache,
    DataTransferRegistry,
    LocalListManagement,
    Triggers,
    SmartCharging,
    FirmwareUpdates,
    Diagnostics,
    Reservations,
    CertificateManagement,
    SignedFirmwareUpdates,
    ClientCertificate,
    ExtendedTriggers,
    LogUploads,
)

WHITEPAPER = FeatureProfile.SECURITY
"""The profile of the Security Whitepaper's features (certificates, security events, signed
firmware, logs). The whitepaper adds messages, not a §3 feature profile, so there is nothing to
advertise: its features are served whenever they are wired, on every vendor, and the value is
never in SupportedFeatureProfiles nor one `extra_profiles` may name."""

IMPLEMENTED = frozenset(feature.profile for feature in FEATURES) - {WHITEPAPER}
