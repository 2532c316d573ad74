"""The station's configuration keys, opened the same way by the daemon and by `chargepoint config`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from types import MappingProxyType

from chargepoint.app.features import IMPLEMENTED
from chargepoint.app.settings import Settings
from chargepoint.infra.database import Database
from chargepoint.infra.state import KeyTable
from chargepoint.link.config import LinkConfig
from chargepoint.link.security import authorization_key, security_profile_rule
from chargepoint.metering.values import MEASURAND_KEYS, capability_rule
from configkeys import Configuration, FeatureProfile, KeyDef, catalogue_for, get_profile
from drivers.meter_url import figures_of


def link_config(settings: Settings) -> LinkConfig:
    return LinkConfig(
        settings.csms_url,
        settings.identity,
        settings.reconnect_max_delay,
        settings.tls_ca,
        settings.tls_cert,
        settings.tls_key,
        settings.password.get_secret_value() if settings.password else None,
    )


def open_configuration(settings: Settings, db: Database) -> Configuration:
    catalogue = _catalogue(settings.profile, settings.model, settings.feature_profiles, settings.connector_count)
    initial = {"MessageTimeout": str(settings.response_timeout)}
    if settings.password:
        initial["AuthorizationKey"] = authorization_key(settings.password.get_secret_value())
    if settings.reserve_connector_zero:  # read-only to the CSMS: the installation decides
        initial["ReserveConnectorZeroSupported"] = "true"
    config = Configuration(catalogue, KeyTable(db), initial=initial)
    config.add_validator("SecurityProfile", security_profile_rule(config, link_config(settings)))
    rule = capability_rule(meter_figures(settings))
    for key in MEASURAND_KEYS:
        if config.has(key):
            config.add_validator(key, rule)
    return config


@cache
def _catalogue(
    profile_name: str, model_name: str | None, feature_profiles: tuple[FeatureProfile, ...], connectors: int
) -> Mapping[str, KeyDef]:
    """One catalogue for all stations of a kind: a fleet's thousand stations share it (the
    store copies the mapping, and key declarations are frozen)."""
    profile = get_profile(profile_name)
    model = replace(profile.model(model_name), feature_profiles=feature_profiles)  # with extra_profiles
    return MappingProxyType(catalogue_for(profile, model, connectors, IMPLEMENTED))


def meter_figures(settings: Settings) -> frozenset[str]:
    """What every configured meter can measure: a measurand key may name only those."""
    return frozenset.intersection(*(figures_of(spec) for spec in settings.meter_specs))
