"""The authorization rules of spec §3.5 and the WEMOB/Wallbox keys, on a real SQLite store.

The session is a stand-in that answers Authorize.req from a table (or fails, or is offline),
so each rule can be pinned without a network; tests/test_local_list.py covers the wire.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call, call_result

from chargepoint.authorization import id_tags
from chargepoint.authorization.authorizer import AuthorizationMode, Authorizer, why_refused
from chargepoint.authorization.cache import AuthorizationCache
from chargepoint.authorization.id_tags import IdTagEntry, IdTagStore
from chargepoint.authorization.local_list import LocalListManagement
from chargepoint.link.outbox import CallFailed, NotAccepted
from chargepoint.infra.database import Database
from chargepoint.infra.state import KeyTable
from configkeys import Configuration, FeatureProfile, catalogue_for, get_profile

PAST = "2020-01-01T00:00:00Z"
FUTURE = "2099-01-01T00:00:00Z"


@dataclass
class FakeSession:
    """Online means Accepted (as Session.accepted); answers are idTagInfo in snake_case."""

    accepted: bool = True
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    failure: Exception | None = None
    asked: list[str] = field(default_factory=list)

    async def request(self, payload: call.Authorize) -> call_result.Authorize:
        self.asked.append(payload.id_tag)
        if self.failure is not None:
            raise self.failure
        return call_result.Authorize(id_tag_info=self.answers.get(payload.id_tag, {"status": "Accepted"}))


@dataclass
class Station:
    authorizer: Authorizer
    session: FakeSession
    config: Configuration
    store: IdTagStore
    conflicts: list[str]
    cache: AuthorizationCache
    local_list: LocalListManagement

    def set(self, **keys: str) -> None:
        for key, value in keys.items():
            assert self.config.change(key, value) == "Accepted", key

    def listed(self, *entries: tuple[str, str, str | None, str | None]) -> None:
        """Install a local list directly (version 1)."""
        self.store.update_list(
            1, [IdTagEntry.from_info(t, _info(s, e, p)) for t, s, e, p in entries], [], full=True, max_length=100
        )

    def cached(self, id_tag: str, status: str, expiry: str | None = None, parent: str | None = None) -> None:
        self.store.cache(IdTagEntry.from_info(id_tag, _info(status, expiry, parent)), datetime.now(timezone.utc))


def _info(status: str, expiry: str | None = None, parent: str | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {"status": status}
    if expiry is not None:
        info["expiry_date"] = expiry
    if parent is not None:
        info["parent_id_tag"] = parent
    return info


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "chargepoint.db")
    yield database
    database.close()


@pytest.fixture
def station(db: Database):
    """Factory: station(profile=, mode=, online=, model=) -> Station on the shared database."""

    def make(profile: str = "wemob", mode: int = 2, online: bool = True, model: Any = None) -> Station:
        vendor = get_profile(profile)
        config = Configuration(catalogue_for(vendor, model or vendor.model(None)), KeyTable(db))
        session = FakeSession(accepted=online)
        conflicts: list[str] = []
        store = IdTagStore(db)
        authorizer = Authorizer(session, config, store, AuthorizationMode(mode), "FREEVEND", conflicts.append)
        cache, local_list = AuthorizationCache(store, config), LocalListManagement(store, config)
        return Station(authorizer, session, config, store, conflicts, cache, local_list)

    return make


# Online (mode 2, OCPP server)


async def test_an_unknown_id_online_is_asked_of_the_csms_and_cached(station) -> None:
    s = station()
    s.session.answers["TAG1"] = _info("Accepted", FUTURE, "GROUP")
    verdict = await s.authorizer.authorize("TAG1")
    assert (verdict.status, verdict.parent_id_tag, verdict.source) == ("Accepted", "GROUP", "csms")
    assert s.session.asked == ["TAG1"]
    entry = s.store.cached("TAG1")
    assert entry is not None and (entry.status, entry.parent_id_tag) == ("Accepted", "GROUP")


async def test_local_pre_authorize_starts_a_cached_id_without_asking(station) -> None:
    s = station()
    s.set(LocalPreAuthorize="true")
    s.cached("TAG1", "Accepted")
    verdict = await s.authorizer.authorize("tag1")  # CiString: letter case does not matter
    assert (verdict.status, verdict.source) == ("Accepted", "cache")
    assert s.session.asked == []


async def test_without_local_pre_authorize_the_csms_is_asked_even_for_a_cached_id(station) -> None:
    s = station()
    s.set(LocalPreAuthorize="false")
    s.cached("TAG1", "Accepted")
    s.session.answers["TAG1"] = _info("Blocked")
    verdict = await s.authorizer.authorize("TAG1")
    assert (verdict.status, verdict.source) == ("Blocked", "csms")
    assert s.store.cached("TAG1").status == "Blocked"  # the cache follows the latest answer


async def test_a_cached_not_valid_id_online_is_asked_again(station) -> None:
    s = station()
    s.set(LocalPreAuthorize="true")
    s.cached("TAG1", "Blocked")
    verdict = await s.authorizer.authorize("TAG1")
    assert (verdict.status, verdict.source) == ("Accepted", "csms")
    assert s.session.asked == ["TAG1"]


async def test_a_csms_that_cannot_answer_leaves_the_station_offline(station) -> None:
    s = station()
    s.set(LocalPreAuthorize="false", LocalAuthorizeOffline="true")
    s.cached("TAG1", "Accepted")
    for failure in (CallFailed("timeout"), NotAccepted("link lost")):
        s.session.failure = failure
        verdict = await s.authorizer.authorize("TAG1")
        assert (verdict.status, verdict.source) == ("Accepted", "cache")
        assert (await s.authorizer.authorize("UNKNOWN")).status == "Invalid"


async def test_with_the_cache_disabled_nothing_is_cached_or_used(station) -> None:
    s = station()
    s.set(AuthorizationCacheEnabled="false", LocalPreAuthorize="true")
    await s.authorizer.authorize("TAG1")
    assert s.store.cached("TAG1") is None
    s.session.accepted = False
    assert (await s.authorizer.authorize("TAG1")).status == "Invalid"


# The local list against the cache (§3.5.3)


async def test_the_local_list_wins_over_the_cache(station) -> None:
    s = station(online=False)
    s.set(LocalAuthListEnabled="true", LocalAuthorizeOffline="true")
    s.listed(("TAG1", "Blocked", None, None))
    s.cached("TAG1", "Accepted")
    verdict = await s.authorizer.authorize("TAG1")
    assert (verdict.status, verdict.source) == ("Blocked", "local-list")


async def test_a_disabled_local_list_is_not_consulted(station) -> None:
    s = station(online=False)
    s.set(LocalAuthListEnabled="false", LocalAuthorizeOffline="true")
    s.listed(("TAG1", "Accepted", None, None))
    assert (await s.authorizer.authorize("TAG1")).status == "Invalid"


async def test_an_id_in_the_local_list_is_never_cached(station) -> None:
    s = station()
    s.set(LocalAuthListEnabled="true", LocalPreAuthorize="false")
    s.listed(("TAG1", "Accepted", None, None))
    await s.authorizer.authorize("TAG1")
    s.authorizer.record("TAG1", _info("Accepted"))
    assert s.store.cached("TAG1") is None


# Offline (§3.5.4)


@pytest.mark.parametrize("local_offline, expected", [("true", "Accepted"), ("false", "Invalid")])
async def test_local_authorize_offline_decides_for_a_locally_valid_id(station, local_offline: str, expected: str) -> None:
    s = station(online=False)
    s.set(LocalAuthorizeOffline=local_offline, AllowOfflineTxForUnknownId="false")
    s.cached("TAG1", "Accepted")
    assert (await s.authorizer.authorize("TAG1")).status == expected
    assert s.session.asked == []


async def test_unknown_ids_offline_follow_allow_offline_tx_for_unknown_id(station) -> None:
    s = station(online=False)
    assert (await s.authorizer.authorize("NEW")).status == "Invalid"  # WEMOB default false
    s.set(AllowOfflineTxForUnknownId="true")
    verdict = await s.authorizer.authorize("NEW")
    assert (verdict.status, verdict.source) == ("Accepted", "offline")


async def test_a_locally_known_refused_id_stays_refused_offline(station) -> None:
    s = station(online=False)
    s.set(AllowOfflineTxForUnknownId="true", LocalAuthListEnabled="true")
    s.listed(("LISTED", "Blocked", None, None))
    s.cached("CACHED", "Invalid")
    s.cached("OLD", "Accepted", PAST)
    for id_tag, status in [("LISTED", "Blocked"), ("CACHED", "Invalid"), ("OLD", "Expired")]:
        assert (await s.authorizer.authorize(id_tag)).status == status, id_tag


@pytest.mark.parametrize(("online", "listed", "id_tag", "answer", "told"), [
    (True, None, "TAG", "Blocked", "Blocked (blocked), says the CSMS"),
    (True, None, "TAG", "ConcurrentTx", "ConcurrentTx (already in another transaction), says the CSMS"),
    (True, None, "TAG", "Expired", "Expired (expired), says the CSMS"),
    (False, "Blocked", "LISTED", None, "Blocked (blocked), says the local list"),
    (False, None, "STRANGER", None, "Invalid (offline, and not authorized locally: LocalAuthorizeOffline, AllowOfflineTxForUnknownId)"),
])
async def test_a_refusal_says_what_it_means_and_who_decided(station, online, listed, id_tag, answer, told) -> None:
    s = station(online=online)
    if listed:
        s.set(LocalAuthListEnabled="true")
        s.listed((id_tag, listed, None, None))
    if answer:
        s.session.answers[id_tag] = _info(answer)
    assert why_refused(await s.authorizer.authorize(id_tag)) == told


async def test_a_cache_entry_past_its_expiry_is_changed_to_expired(station) -> None:
    s = station(online=False)
    s.cached("TAG1", "Accepted", PAST)
    assert (await s.authorizer.authorize("TAG1")).status == "Expired"
    assert s.store.cached("TAG1").status == "Expired"  # §3.5.1
    s.cached("TAG2", "Accepted", FUTURE)
    assert (await s.authorizer.authorize("TAG2")).status == "Accepted"


async def test_an_expired_local_list_entry_is_refused_without_changing_the_list(station) -> None:
    s = station(online=False)
    s.set(LocalAuthListEnabled="true")
    s.listed(("TAG1", "Accepted", PAST, None))
    assert (await s.authorizer.authorize("TAG1")).status == "Expired"
    assert s.store.listed("TAG1").status == "Accepted"  # only SendLocalList changes the list (§3.5.2)


async def test_the_csms_answering_accepted_with_a_past_expiry_is_expired(station) -> None:
    s = station()
    s.session.answers["TAG1"] = _info("Accepted", PAST)
    assert (await s.authorizer.authorize("TAG1")).status == "Expired"


# Commissioning modes and vendor keys


async def test_mode_0_always_authorizes_without_asking(station) -> None:
    s = station(mode=0)
    s.session.answers["TAG1"] = _info("Blocked")
    verdict = await s.authorizer.authorize("TAG1")
    assert (verdict.status, verdict.source) == ("Accepted", "free")
    assert s.session.asked == []
    assert s.authorizer.free_vend_id_tag() == "FREEVEND"


async def test_mode_2_online_has_no_free_vend(station) -> None:
    assert station().authorizer.free_vend_id_tag() is None


async def test_mode_1_authorizes_by_the_local_list_only(station) -> None:
    s = station(mode=1)  # LocalAuthListEnabled keeps the WEMOB default, false
    s.listed(("TAG1", "Accepted", None, None), ("TAG2", "Blocked", None, None))
    s.cached("TAG3", "Accepted")
    outcomes = {tag: (await s.authorizer.authorize(tag)).status for tag in ("TAG1", "TAG2", "TAG3")}
    assert outcomes == {"TAG1": "Accepted", "TAG2": "Blocked", "TAG3": "Invalid"}
    assert s.session.asked == []
    assert s.authorizer.free_vend_id_tag() is None


async def test_always_allow_offline_transactions_is_mode_0_while_offline(station) -> None:
    s = station(online=False)
    s.set(LocalAuthListEnabled="true")
    s.listed(("BLOCKED", "Blocked", None, None))
    assert s.authorizer.free_vend_id_tag() is None
    assert (await s.authorizer.authorize("NEW")).status == "Invalid"  # WEMOB §4.4.1 scenario 1
    s.set(AlwaysAllowOfflineTransactions="true")
    assert s.authorizer.free_vend_id_tag() == "FREEVEND"  # scenario 2: charge without identification
    for id_tag in ("NEW", "BLOCKED"):
        verdict = await s.authorizer.authorize(id_tag)
        assert (verdict.status, verdict.source) == ("Accepted", "free")
    s.session.accepted = True
    assert s.authorizer.free_vend_id_tag() is None
    assert (await s.authorizer.authorize("NEW")).source == "csms"


async def test_always_allow_offline_transactions_covers_a_csms_that_cannot_answer(station) -> None:
    s = station()
    s.set(AlwaysAllowOfflineTransactions="true", LocalPreAuthorize="false")
    s.session.failure = CallFailed("no answer")
    assert (await s.authorizer.authorize("NEW")).source == "free"


async def test_wallbox_with_auth_disabled_charges_freely(station) -> None:
    s = station(profile="wallbox")
    assert s.authorizer.free_vend_id_tag() is None
    s.set(AuthEnabled="false")
    assert s.authorizer.free_vend_id_tag() == "FREEVEND"
    assert (await s.authorizer.authorize("ANY")).source == "free"
    assert s.session.asked == []


# What the CSMS says later (§3.5.1, §3.5.2)


async def test_start_and_stop_answers_update_the_cache(station) -> None:
    s = station()
    s.authorizer.record("TAG1", _info("Accepted", FUTURE, "GROUP"))
    assert s.store.cached("TAG1").parent_id_tag == "GROUP"
    s.authorizer.record("TAG1", _info("Blocked"))
    assert s.store.cached("TAG1").status == "Blocked"
    s.authorizer.record("TAG2", {"status": "Accepted", "expiry_date": "not a date"})
    assert s.store.cached("TAG2") is None  # an unusable answer teaches nothing


async def test_a_csms_answer_contradicting_the_list_is_a_conflict(station) -> None:
    s = station()
    s.set(LocalAuthListEnabled="true", LocalPreAuthorize="false")
    s.listed(("TAG1", "Accepted", None, None), ("TAG2", "Accepted", None, None))
    s.authorizer.record("TAG1", _info("ConcurrentTx"))  # §3.5.2: valid like Accepted
    assert s.conflicts == []
    s.authorizer.record("TAG1", _info("Blocked"))
    s.session.answers["TAG2"] = _info("Invalid")
    verdict = await s.authorizer.authorize("TAG2")
    assert verdict.status == "Invalid"  # online, the CSMS has the last word
    assert s.conflicts == ["TAG1: list Accepted, CSMS Blocked", "TAG2: list Accepted, CSMS Invalid"]
    assert all(len(info) <= 50 for info in s.conflicts)
    assert s.store.listed("TAG1").status == "Accepted"


# Stopping by another idTag of the group (§3.10)


async def test_the_same_id_stops_whatever_the_letter_case(station) -> None:
    s = station()
    assert await s.authorizer.may_stop("AbC1", None, "abc1")
    assert s.session.asked == []


async def test_a_group_member_known_locally_may_stop(station) -> None:
    s = station()
    s.set(LocalAuthListEnabled="true")
    s.listed(("OWNER", "Accepted", None, "FAMILY"), ("KID", "Accepted", None, "family"), ("STRANGER", "Accepted", None, "OTHER"))
    assert await s.authorizer.may_stop("OWNER", None, "KID")  # parent taken from the list
    assert await s.authorizer.may_stop("OWNER", "FAMILY", "KID")
    assert not await s.authorizer.may_stop("OWNER", "FAMILY", "STRANGER")
    assert s.session.asked == []


async def test_an_unknown_presenter_gets_its_parent_from_the_csms(station) -> None:
    s = station()
    s.session.answers = {"KID": _info("Accepted", parent="FAMILY"), "BLOCKED": _info("Blocked", parent="FAMILY")}
    assert await s.authorizer.may_stop("OWNER", "FAMILY", "KID")
    assert not await s.authorizer.may_stop("OWNER", "FAMILY", "BLOCKED")
    assert s.session.asked == ["KID", "BLOCKED"]


async def test_without_a_known_group_only_the_owner_stops(station) -> None:
    s = station()
    assert not await s.authorizer.may_stop("OWNER", None, "OTHER")


# ClearCache (§5.4, errata 3.23) and the cache bound


def test_clear_cache_empties_the_cache(station) -> None:
    s = station()
    s.cached("TAG1", "Accepted")
    assert s.cache.clear_cache().status == "Accepted"
    assert s.store.cache_size() == 0


def test_clear_cache_is_rejected_while_the_cache_is_disabled_which_empties_it(station) -> None:
    s = station()
    s.cached("TAG1", "Accepted")
    s.set(AuthorizationCacheEnabled="false")
    assert s.store.cache_size() == 0
    assert s.cache.clear_cache().status == "Rejected"


def test_a_full_cache_drops_not_valid_entries_then_the_oldest(station, monkeypatch) -> None:
    monkeypatch.setattr(id_tags, "CACHE_CAPACITY", 3)
    s = station()
    s.cached("OLDEST", "Accepted")
    s.cached("BLOCKED", "Blocked")
    s.cached("GONE", "Accepted", PAST)
    s.cached("NEWER", "Accepted")
    assert s.store.cache_size() == 3 and s.store.cached("BLOCKED") is None
    s.cached("NEWEST", "Accepted")
    assert s.store.cached("GONE") is None
    s.cached("LAST", "Accepted")
    assert s.store.cached("OLDEST") is None
    assert [s.store.cached(t) is not None for t in ("NEWER", "NEWEST", "LAST")] == [True] * 3


def test_the_cache_survives_a_restart(station, tmp_path: Path) -> None:
    station().cached("TAG1", "Accepted", FUTURE, "P")
    reopened = Database(tmp_path / "chargepoint.db")
    try:
        entry = IdTagStore(reopened).cached("TAG1")
        assert entry is not None and entry.expiry_date == datetime(2099, 1, 1, tzinfo=timezone.utc)
    finally:
        reopened.close()


# The local list services (§5.10, §5.15)


def _entry(id_tag: str, status: str | None = "Accepted", **info: str) -> dict[str, Any]:
    return {"id_tag": id_tag} if status is None else {"id_tag": id_tag, "id_tag_info": {"status": status, **info}}


def test_full_and_differential_updates(station) -> None:
    s = station()
    a = s.local_list
    assert a.get_local_list_version().list_version == 0
    full = [_entry("A"), _entry("B", "Blocked", parent_id_tag="P"), _entry("C", expiry_date=FUTURE)]
    assert a.send_local_list(3, "Full", full).status == "Accepted"
    assert (a.get_local_list_version().list_version, s.store.list_size()) == (3, 3)
    changes = [_entry("A", None), _entry("B"), _entry("D", "Invalid")]
    assert a.send_local_list(4, "Differential", changes).status == "Accepted"
    assert s.store.listed("A") is None and s.store.listed("B").status == "Accepted"
    assert s.store.listed("D").status == "Invalid" and s.store.listed("C").expiry_date is not None
    assert a.send_local_list(2, "Full", [_entry("Z")]).status == "Accepted"  # a Full list may go back
    assert (a.get_local_list_version().list_version, s.store.list_size()) == (2, 1)


def test_an_empty_list_has_version_0(station) -> None:
    a = station().local_list
    assert a.send_local_list(5, "Full", [_entry("A")]).status == "Accepted"
    assert a.send_local_list(6, "Differential", None).status == "Accepted"  # no effect but the version
    assert a.get_local_list_version().list_version == 6
    assert a.send_local_list(7, "Full", None).status == "Accepted"
    assert a.get_local_list_version().list_version == 0


@pytest.mark.parametrize("version", [4, 3, 0, -1])
def test_a_differential_update_not_newer_is_a_version_mismatch(station, version: int) -> None:
    s = station()
    s.local_list.send_local_list(4, "Full", [_entry("A")])
    assert s.local_list.send_local_list(version, "Differential", [_entry("B")]).status == "VersionMismatch"
    assert s.store.listed("B") is None and s.local_list.get_local_list_version().list_version == 4


@pytest.mark.parametrize(
    "update_type, version, entries",
    [
        ("Full", 1, [_entry(f"T{i}") for i in range(101)]),  # over SendLocalListMaxLength (100)
        ("Full", 0, [_entry("A")]),  # errata 3.52: 0 and -1 are not versions
        ("Full", -1, [_entry("A")]),
        ("Full", 2, [_entry("A"), _entry("a")]),  # idTags must be unique (CiString)
        ("Full", 2, [_entry("A", None)]),  # a Full entry needs its idTagInfo
        ("Full", 2, [_entry("A", expiry_date="yesterday")]),
        ("Differential", 2, [_entry(f"N{i}") for i in range(51)]),  # 50 + 51 > LocalAuthListMaxLength
    ],
)
def test_a_list_the_station_cannot_take_fails_and_changes_nothing(station, update_type, version, entries) -> None:
    s = station()
    s.local_list.send_local_list(1, "Full", [_entry(f"O{i}") for i in range(50)])
    assert s.local_list.send_local_list(version, update_type, entries).status == "Failed"
    assert (s.store.list_size(), s.local_list.get_local_list_version().list_version) == (50, 1)


def test_a_station_without_the_local_list_profile_says_so(station) -> None:
    wemob = get_profile("wemob").model(None)
    model = dataclasses.replace(wemob, feature_profiles=(FeatureProfile.CORE,))
    a = station(model=model).local_list
    assert a.get_local_list_version().list_version == -1
    assert a.send_local_list(1, "Full", [_entry("A")]).status == "NotSupported"


def test_the_list_and_its_version_survive_a_restart(station, tmp_path: Path) -> None:
    station().local_list.send_local_list(9, "Full", [_entry("A", parent_id_tag="P")])
    reopened = Database(tmp_path / "chargepoint.db")
    try:
        store = IdTagStore(reopened)
        assert store.list_version() == 9 and store.listed("a").parent_id_tag == "P"
    finally:
        reopened.close()


def test_expiry_dates_compare_in_utc() -> None:
    entry = IdTagEntry.from_info("T", {"status": "Accepted", "expiry_date": "2030-01-01T02:00:00+02:00"})
    assert entry.status_at(datetime(2030, 1, 1, 0, 0, 1, tzinfo=timezone.utc)) == "Expired"
    assert entry.status_at(datetime(2029, 12, 31, 23, 59, tzinfo=timezone.utc)) == "Accepted"
    lower_case = IdTagEntry.from_info("T", {"status": "Accepted", "expiry_date": "2030-01-01t00:00:00z"})
    assert lower_case.expiry_date == datetime(2030, 1, 1, tzinfo=timezone.utc)
