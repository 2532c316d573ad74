"""The station's configuration keys, opened the same way by the daemon and by `chargepoint config`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from types import MappingProxyType

from ocpp.v16.enums import Measurand

from chargepoint.app.features import IMPLEMENTED
from chargepoint.app.hardware import reading_figures
from chargepoint.app.settings import Settings
from chargepoint.infra.database import Database
from chargepoint.infra.state import KeyTable
from chargepoint.link.config import LinkConfig
from chargepoint.link.security import authorization_key, security_profile_rule
from chargepoint.metering.signing import PUBLIC_KEY_KEY, DeviceKey
from chargepoint.metering.values import DEFAULT_MEASURAND, MEASURAND_KEYS, capability_rule
from chargepoint.security.client_files import ClientCertificateFiles
from configkeys import Access, Configuration, FeatureProfile, KeyDef, KeyType, catalogue_for, get_profile


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
    catalogue = _catalogue(settings.profile, settings.model, settings.feature_profiles, settings.connector_count)
    initial = {"MessageTimeout": str(settings.response_timeout)}
    if settings.password:
        initial["AuthorizationKey"] = authorization_key(settings.password.get_secret_value())
    if settings.reserve_connector_zero:  # read-only to the CSMS: the installation decides
        initial["ReserveConnectorZeroSupported"] = "true"
    if settings.additional_root_certificate_check:  # read-only too (whitepaper §7.1)
        initial["AdditionalRootCertificateCheck"] = "true"
    figures = meter_figures(settings)
    fixed = _fixed_samples(catalogue, figures)
    if settings.signed_meter_values:  # only a station that signs has a key to show
        catalogue = {**catalogue, PUBLIC_KEY_KEY: KeyDef(PUBLIC_KEY_KEY, KeyType.STRING, Access.R, FeatureProfile.CUSTOM)}
        fixed[PUBLIC_KEY_KEY] = DeviceKey.of(settings.data_dir).public_hex()
    config = Configuration(catalogue, KeyTable(db), fixed=fixed, initial=initial)
    client_certificate = client_certificate_files(settings)
    profile_rule = security_profile_rule(config, link_config(settings), lambda: client_certificate.in_use(datetime.now(UTC)))
    config.add_validator("SecurityProfile", profile_rule)
    rule = capability_rule(figures)
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
    return frozenset.intersection(*(reading_figures(settings, spec) for spec in settings.meter_specs))


def _fixed_samples(catalogue: Mapping[str, KeyDef], figures: frozenset[str]) -> dict[str, str]:
    """A station that fixes what its MeterValues carry (WEMOB: MeterValuesSampledData is
    read-only, "" being the energy register, §4.3.17) adds the EV's SoC where the EV reports
    it, as DC stations do; GetConfiguration then tells the CSMS so."""
    key = catalogue.get("MeterValuesSampledData")
    if key is None or key.access.writable or "soc_percent" not in figures:
        return {}
    return {key.name: f"{DEFAULT_MEASURAND},{Measurand.soc}"}
