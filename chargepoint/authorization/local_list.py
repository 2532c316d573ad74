"""The Local Authorization List as the CSMS manages it: SendLocalList (§5.15) and
GetLocalListVersion (§5.10), the LocalAuthListManagement profile.

NotSupported and -1 are for a station whose model lacks LocalAuthListEnabled: §3.5.2 reports
support through SupportedFeatureProfiles, while LocalAuthListEnabled only says whether the
list is used to authorize, so a CSMS may load the list before enabling it.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, UpdateStatus, UpdateType

from chargepoint.authorization.authorizer import LIST_ENABLED
from chargepoint.authorization.id_tags import IdTagEntry, IdTagStore, LocalListTooLong
from configkeys import Configuration, FeatureProfile

log = logging.getLogger(__name__)


class LocalListManagement:
    profile: ClassVar[FeatureProfile] = FeatureProfile.LOCAL_AUTH_LIST_MANAGEMENT

    def __init__(self, store: IdTagStore, config: Configuration) -> None:
        self._store = store
        self._config = config

    @on(Action.get_local_list_version, skip_schema_validation=True)
    def get_local_list_version(self) -> call_result.GetLocalListVersion:
        """0 for an empty list (§5.10)."""
        version = self._store.list_version() if self._config.has(LIST_ENABLED) else -1
        return call_result.GetLocalListVersion(list_version=version)

    @on(Action.send_local_list, skip_schema_validation=True)
    def send_local_list(
        self, list_version: int, update_type: str, local_authorization_list: list[dict[str, Any]] | None = None
    ) -> call_result.SendLocalList:
        entries = local_authorization_list or []
        status = self._update_list(list_version, UpdateType(update_type), entries)
        log.info("SendLocalList %s version %d (%d entries): %s", update_type, list_version, len(entries), status)
        return call_result.SendLocalList(status=status)

    def _update_list(self, version: int, update_type: UpdateType, entries: list[dict[str, Any]]) -> UpdateStatus:
        """§5.15, §6.41, §7.1, §7.47 and errata 3.52, persisted before the answer leaves."""
        if not self._config.has(LIST_ENABLED):
            return UpdateStatus.not_supported
        full = update_type is UpdateType.full
        if not full and version <= self._store.list_version():
            return UpdateStatus.version_mismatch
        if version < 1 or len(entries) > self._config.integer("SendLocalListMaxLength"):
            return UpdateStatus.failed  # errata 3.52: 0 and -1 are not list versions
        try:
            upserts, removals = list_changes(entries, full)
            self._store.update_list(
                version, upserts, removals, full=full, max_length=self._config.integer("LocalAuthListMaxLength")
            )
        except (KeyError, ValueError, LocalListTooLong) as exc:
            log.warning("SendLocalList refused: %s", exc)
            return UpdateStatus.failed
        return UpdateStatus.accepted


def list_changes(entries: list[dict[str, Any]], full: bool) -> tuple[list[IdTagEntry], list[str]]:
    """SendLocalList entries as (added or updated, removed); ValueError for a malformed list."""
    id_tags = [entry["id_tag"] for entry in entries]
    if len({id_tag.casefold() for id_tag in id_tags}) != len(id_tags):
        raise ValueError("duplicate idTags in localAuthorizationList (§6.41)")
    removals = [entry["id_tag"] for entry in entries if entry.get("id_tag_info") is None]
    if full and removals:
        raise ValueError(f"a Full update needs idTagInfo for every entry (§7.1), missing for {removals[0]}")
    upserts = [IdTagEntry.from_info(e["id_tag"], e["id_tag_info"]) for e in entries if e.get("id_tag_info") is not None]
    return upserts, removals
