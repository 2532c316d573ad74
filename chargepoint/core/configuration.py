"""GetConfiguration and ChangeConfiguration (spec §5.4, §5.8) over the key catalogue.

The same service answers the CSMS and the local `chargepoint config` command, so a field
technician on the board gets exactly the answers the CSMS would.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from ocpp.exceptions import OccurenceConstraintViolationError
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.datatypes import KeyValue
from ocpp.v16.enums import Action

from configkeys import Configuration, FeatureProfile, TooManyKeys

log = logging.getLogger(__name__)


class ConfigurationService:
    profile: ClassVar[FeatureProfile] = FeatureProfile.CORE

    def __init__(self, config: Configuration) -> None:
        self.config = config

    @on(Action.get_configuration, skip_schema_validation=True)
    def get_configuration(self, key: list[str] | None = None) -> call_result.GetConfiguration:
        try:
            reports, unknown = self.config.get(key or None)
        except TooManyKeys as exc:
            raise OccurenceConstraintViolationError(description=str(exc)) from None
        return call_result.GetConfiguration(
            configuration_key=[KeyValue(key=r.key, readonly=r.readonly, value=r.value) for r in reports],
            unknown_key=unknown or None,
        )

    @on(Action.change_configuration, skip_schema_validation=True)
    def change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        outcome = self.config.change_with_reason(key, value)
        why = f" ({outcome.reason})" if outcome.reason else ""
        log.info("ChangeConfiguration %s=%s: %s%s", key, self.config.shown(key, value), outcome.status, why)
        return call_result.ChangeConfiguration(status=outcome.status)
