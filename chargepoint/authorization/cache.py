"""ClearCache (§5.4, Core): the CSMS empties the Authorization Cache."""

from __future__ import annotations

import logging
from typing import ClassVar

from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, ClearCacheStatus

from chargepoint.authorization.authorizer import CACHE_ENABLED
from chargepoint.authorization.id_tags import IdTagStore
from configkeys import Configuration, FeatureProfile

log = logging.getLogger(__name__)


class AuthorizationCache:
    profile: ClassVar[FeatureProfile] = FeatureProfile.CORE

    def __init__(self, store: IdTagStore, config: Configuration) -> None:
        self._store = store
        self._config = config

    @on(Action.clear_cache, skip_schema_validation=True)
    def clear_cache(self) -> call_result.ClearCache:
        """A disabled cache answers Rejected, as errata 3.23 wants of a missing one."""
        if not (self._config.has(CACHE_ENABLED) and self._config.boolean(CACHE_ENABLED)):
            log.info("ClearCache: Rejected, the Authorization Cache is disabled")
            return call_result.ClearCache(status=ClearCacheStatus.rejected)
        self._store.clear_cache()
        log.info("ClearCache: Accepted")
        return call_result.ClearCache(status=ClearCacheStatus.accepted)
