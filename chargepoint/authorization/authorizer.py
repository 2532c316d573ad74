"""Deciding whether an idTag may charge: spec §3.5, WEMOB manual §4.3 and §4.4, Wallbox guide.

The order of authority, first match wins:
1. Free charging: WEMOB commissioning mode 0 (Always Authorized) or Wallbox AuthEnabled false.
2. Online in mode 2: a locally valid idTag under LocalPreAuthorize (§9.1.13), else the CSMS.
3. Without the CSMS (offline, or it could not answer): AlwaysAllowOfflineTransactions (WEMOB
   §4.4.1: behave as mode 0); in mode 1 the local list alone; otherwise the local list and cache
   under LocalAuthorizeOffline, then AllowOfflineTxForUnknownId for unknown idTags (§3.5.4).

The local list wins over the cache (§3.5.3). Every IdTagInfo the CSMS sends feeds the cache
(§3.5.1) and is checked against the list (LocalListConflict, §3.5.2).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from dataclasses import dataclass
from enum import IntEnum

from ocpp.v16 import call
from ocpp.v16.enums import AuthorizationStatus

from chargepoint.infra.clock import Clock
from chargepoint.authorization.id_tags import IdTagEntry, IdTagStore
from chargepoint.link.outbox import CallFailed, NotAccepted, Outbox
from configkeys import Configuration

log = logging.getLogger(__name__)

CACHE_ENABLED = "AuthorizationCacheEnabled"
LIST_ENABLED = "LocalAuthListEnabled"  # present only when LocalAuthListManagement is served (§9)
STATUS_INFO_LENGTH = 50  # StatusNotification.req info is CiString50


class AuthorizationMode(IntEnum):
    """The WEMOB commissioning modes (settings.authorization_mode)."""

    ALWAYS_AUTHORIZED = 0
    LOCAL_LIST = 1
    OCPP_SERVER = 2


@dataclass(frozen=True)
class Verdict:
    status: AuthorizationStatus  # Accepted, Blocked, Expired, Invalid, ConcurrentTx
    parent_id_tag: str | None = None
    source: str = "csms"  # "csms" | "local-list" | "cache" | "offline" | "free": for logs

    @property
    def accepted(self) -> bool:
        return self.status == AuthorizationStatus.accepted


FREE = Verdict(AuthorizationStatus.accepted, source="free")
NOT_LISTED = Verdict(AuthorizationStatus.invalid, source="local-list")
MEANINGS = {
    AuthorizationStatus.invalid: "unknown or not valid",
    AuthorizationStatus.blocked: "blocked",
    AuthorizationStatus.expired: "expired",
    AuthorizationStatus.concurrent_tx: "already in another transaction",
}
SAID_BY = {"csms": "the CSMS", "local-list": "the local list", "cache": "the authorization cache"}


def why_refused(verdict: Verdict) -> str:
    """What a driver turned away is told: the status, what it means and who decided, so a
    technician knows whether to look at the CSMS, the local list or the offline keys."""
    status = AuthorizationStatus(verdict.status)
    if verdict.source == "offline":
        return f"{status.value} (offline, and not authorized locally: LocalAuthorizeOffline, AllowOfflineTxForUnknownId)"
    return f"{status.value} ({MEANINGS.get(status, status.value)}), says {SAID_BY.get(verdict.source, verdict.source)}"


def same_id_token(a: str, b: str) -> bool:
    """IdToken is CiString20 (errata 3.74): letter case never distinguishes two idTags."""
    return a.casefold() == b.casefold()


def _validity(status: AuthorizationStatus) -> AuthorizationStatus:
    """§3.5.2 counts Accepted and ConcurrentTx alike as "valid"."""
    return AuthorizationStatus.accepted if status == AuthorizationStatus.concurrent_tx else status


class Authorizer:
    def __init__(
        self,
        outbox: Outbox,
        config: Configuration,
        store: IdTagStore,
        mode: AuthorizationMode,
        free_vend_id_tag: str,
        report_conflict: Callable[[str], None],
        clock: Clock | None = None,
    ) -> None:
        self._outbox = outbox
        self._config = config
        self._store = store
        self._mode = mode
        self._free_vend_id_tag = free_vend_id_tag
        self._report_conflict = report_conflict
        # Expiry dates come from the CSMS, so they are compared with the CSMS-corrected clock.
        self._clock = clock or Clock()
        if config.has(CACHE_ENABLED):
            config.subscribe(CACHE_ENABLED, self._cache_switched)

    # Deciding

    async def authorize(self, id_tag: str) -> Verdict:
        verdict = await self._decide(id_tag)
        log.info("idTag %s: %s (%s)", id_tag, verdict.status, verdict.source)
        return verdict

    async def _decide(self, id_tag: str) -> Verdict:
        if self._free_charging:
            return FREE
        local = self._local(id_tag)
        online = self._outbox.accepted
        if online and self._mode is AuthorizationMode.OCPP_SERVER:
            if local is not None and local.accepted and self._enabled("LocalPreAuthorize"):
                return local
            answer = await self._ask_csms(id_tag)
            if answer is not None:
                return answer
            online = False  # a CSMS that cannot answer leaves the station as good as offline
        if not online and self._enabled("AlwaysAllowOfflineTransactions"):
            return FREE
        if self._mode is AuthorizationMode.LOCAL_LIST:
            return local or NOT_LISTED
        return self._offline(local)

    def _offline(self, local: Verdict | None) -> Verdict:
        """§3.5.4: a locally known idTag that is not Accepted (or has expired) is refused.

        A known, Accepted idTag is authorized under LocalAuthorizeOffline; with that key false it
        is treated like any idTag the station cannot authorize itself, so
        AllowOfflineTxForUnknownId decides.
        """
        if local is not None and not local.accepted:
            return local
        if local is not None and self._enabled("LocalAuthorizeOffline"):
            return local
        if self._enabled("AllowOfflineTxForUnknownId"):
            return Verdict(AuthorizationStatus.accepted, source="offline")
        return Verdict(AuthorizationStatus.invalid, source="offline")

    async def _ask_csms(self, id_tag: str) -> Verdict | None:
        """Authorize.req; None when the CSMS cannot be asked or did not answer."""
        try:
            answer = await self._outbox.request(call.Authorize(id_tag=id_tag))
        except (NotAccepted, CallFailed) as exc:
            log.warning("idTag %s: CSMS not asked: %s", id_tag, exc)
            return None
        return self._learn(id_tag, answer.id_tag_info)

    def _local(self, id_tag: str) -> Verdict | None:
        """The local list's entry, else the cache's; None when neither knows the idTag."""
        listed = self._store.listed(id_tag) if self._list_in_use else None
        if listed is not None:
            return self._verdict(listed, "local-list")
        cached = self._store.cached(id_tag) if self._cache_in_use else None
        if cached is None:
            return None
        verdict = self._verdict(cached, "cache")
        if verdict.status != cached.status:
            self._store.mark_expired(cached.id_tag)  # §3.5.1: "SHALL be changed to expired"
        return verdict

    def _verdict(self, entry: IdTagEntry, source: str) -> Verdict:
        return Verdict(entry.status_at(self._clock.now()), entry.parent_id_tag, source)

    # Learning from the CSMS

    def record(self, id_tag: str, id_tag_info: Mapping[str, Any]) -> None:
        """The idTagInfo of a StartTransaction or StopTransaction answer (§3.5.1, §4.10)."""
        self._learn(id_tag, id_tag_info)

    def _learn(self, id_tag: str, id_tag_info: Mapping[str, Any]) -> Verdict:
        try:
            entry = IdTagEntry.from_info(id_tag, id_tag_info)
        except (KeyError, ValueError) as exc:
            log.warning("idTag %s: unusable idTagInfo %r from the CSMS (%s); treated as Invalid", id_tag, id_tag_info, exc)
            return Verdict(AuthorizationStatus.invalid)
        self._check_conflict(entry)
        # §3.5.3: identifiers known in the local list SHALL NOT be added to the cache.
        if self._cache_in_use and not (self._list_in_use and self._store.listed(id_tag)):
            self._store.cache(entry, self._clock.now())
        return self._verdict(entry, "csms")

    def _check_conflict(self, answer: IdTagEntry) -> None:
        """§3.5.2: a CSMS validity unlike the local list's raises LocalListConflict."""
        listed = self._store.listed(answer.id_tag) if self._list_in_use else None
        if listed is None:
            return
        now = self._clock.now()
        ours, theirs = _validity(listed.status_at(now)), _validity(answer.status_at(now))
        if ours != theirs:
            log.warning("idTag %s: local list says %s, the CSMS says %s", answer.id_tag, ours, theirs)
            self._report_conflict(f"{answer.id_tag}: list {ours}, CSMS {theirs}"[:STATUS_INFO_LENGTH])

    # Stopping and free vend

    async def may_stop(self, owner_id_tag: str, owner_parent: str | None, presented: str) -> bool:
        """§3.10: the idTag that started a transaction, or an Accepted one of its group, stops it.

        The presented idTag's parentIdTag comes from the list or cache, else from the CSMS
        (the §5.13 rule for group reservations). A non-Accepted card of the group cannot stop.
        """
        if same_id_token(presented, owner_id_tag):
            return True
        group = owner_parent or self._local_parent(owner_id_tag)
        if group is None:
            return False
        verdict = self._local(presented) or await self.authorize(presented)
        return verdict.accepted and verdict.parent_id_tag is not None and same_id_token(verdict.parent_id_tag, group)

    def _local_parent(self, id_tag: str) -> str | None:
        local = self._local(id_tag)
        return None if local is None else local.parent_id_tag

    def free_vend_id_tag(self) -> str | None:
        """The idTag a plug-in alone starts with, or None when the driver must identify."""
        offline_free = not self._outbox.accepted and self._enabled("AlwaysAllowOfflineTransactions")
        return self._free_vend_id_tag if self._free_charging or offline_free else None

    # Keys

    @property
    def _free_charging(self) -> bool:
        """Mode 0, or a Wallbox whose CPO set AuthEnabled false: charging starts on plug-in."""
        wallbox_open = self._config.has("AuthEnabled") and not self._config.boolean("AuthEnabled")
        return self._mode is AuthorizationMode.ALWAYS_AUTHORIZED or wallbox_open

    @property
    def _list_in_use(self) -> bool:
        """Mode 1 authorizes by the list whatever LocalAuthListEnabled says (WEMOB's default is false)."""
        return self._config.has(LIST_ENABLED) and (
            self._mode is AuthorizationMode.LOCAL_LIST or self._config.boolean(LIST_ENABLED)
        )

    @property
    def _cache_in_use(self) -> bool:
        """Mode 1 is "Local List only": the cache neither answers nor learns."""
        return self._mode is not AuthorizationMode.LOCAL_LIST and self._enabled(CACHE_ENABLED)

    def _enabled(self, key: str) -> bool:
        """A boolean key that this station serves and that is true (§9: absent = not provided)."""
        return self._config.has(key) and self._config.boolean(key)

    def _cache_switched(self, value: str) -> None:
        """Disabling the cache empties it: re-enabling never revives stale answers, and the
        Rejected a disabled cache gives ClearCache hides nothing."""
        if value == "false":
            self._store.clear_cache()

