"""GetConfiguration and ChangeConfiguration (spec §5.4, §5.8) over the key catalogue.

The same service answers the CSMS and the local `chargepoint config` command, so a field
technician on the board gets exactly the answers the CSMS would.
"""

from __future__ import annotations

import logging

from ocpp.exceptions import OccurenceConstraintViolationError
from ocpp.v16 import call_result
from ocpp.v16.datatypes import KeyValue

from configkeys import Configuration, TooManyKeys

log = logging.getLogger(__name__)


class ConfigurationService:
    def __init__(self, config: Configuration) -> None:
        self.config = config

    def get_configuration(self, keys: list[str] | None) -> call_result.GetConfiguration:
        try:
            reports, unknown = self.config.get(keys or None)
        except TooManyKeys as exc:
            raise OccurenceConstraintViolationError(description=str(exc)) from None
        return call_result.GetConfiguration(
            configuration_key=[KeyValue(key=r.key, readonly=r.readonly, value=r.value) for r in reports],
            unknown_key=unknown or None,
        )

    def change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        status = self.config.change(key, value)
        shown = value if self.config.readable(key) else "(write-only value)"
        log.info("ChangeConfiguration %s=%s: %s", key, shown, status)
        return call_result.ChangeConfiguration(status=status)
