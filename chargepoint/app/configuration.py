"""The station's configuration keys, opened the same way by the daemon and by `chargepoint config`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from chargepoint.app.features import IMPLEMENTED
from chargepoint.app.settings import Settings
from chargepoint.infra.database import Database
from chargepoint.infra.state import KeyTable
from chargepoint.link.config import LinkConfig
from chargepoint.link.security import authorization_key, security_profile_rule
from chargepoint.metering.values import MEASURAND_KEYS, capability_rule
from chargepoint.security.client_files import ClientCertificateFiles
from configkeys import Configuration, catalogue_for, get_profile
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


def client_certificate_files(settings: Settings) -> ClientCertificateFiles:
    """The station's client certificate: one the CSMS signed, else tls_cert / tls_key."""
    factory = (settings.tls_cert, settings.tls_key) if settings.tls_cert is not None else None
    return ClientCertificateFiles(settings.client_certificate_dir, factory)


def open_configuration(settings: Settings, db: Database) -> Configuration:
    profile = get_profile(settings.profile)
    model = replace(profile.model(settings.model), feature_profiles=settings.feature_profiles)  # with extra_profiles
    initial = {"MessageTimeout": str(settings.response_timeout)}
    if settings.password:
        initial["AuthorizationKey"] = authorization_key(settings.password.get_secret_value())
    if settings.reserve_connector_zero:  # read-only to the CSMS: the installation decides
        initial["ReserveConnectorZeroSupported"] = "true"
    catalogue = catalogue_for(profile, model, settings.connector_count, IMPLEMENTED)
    config = Configuration(catalogue, KeyTable(db), initial=initial)
    client_certificate = client_certificate_files(settings)
    profile_rule = security_profile_rule(config, link_config(settings), lambda: client_certificate.in_use(datetime.now(UTC)))
    config.add_validator("SecurityProfile", profile_rule)
    rule = capability_rule(meter_figures(settings))
    for key in MEASURAND_KEYS:
        if config.has(key):
            config.add_validator(key, rule)
    return config


def meter_figures(settings: Settings) -> frozenset[str]:
    """What every configured meter can measure: a measurand key may name only those."""
    return frozenset.intersection(*(figures_of(spec) for spec in settings.meter_specs))
