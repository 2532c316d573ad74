"""ClearCache, GetLocalListVersion, SendLocalList and local authorization, against a real CSMS.

Named after the OCPP 1.6 compliance cases they mirror (Clear Authorization Data in
Authorization Cache; Get Local List Version; Send Local Authorization List; start of a
charging session with a cached id / an id in the Local Authorization List).
"""

from __future__ import annotations

from typing import Any

from ocpp.v16 import call

from tests.conftest import booted
from tests.csms import Csms
from tests.helpers import charging, cli_ok, configure


def entry(id_tag: str, status: str | None = "Accepted", **info: str) -> dict[str, Any]:
    """An AuthorizationData as the CSMS sends it; status None = no idTagInfo (remove)."""
    return {"idTag": id_tag} if status is None else {"idTag": id_tag, "idTagInfo": {"status": status, **info}}


async def send_list(csms: Csms, version: int, update_type: str, entries: list[dict[str, Any]] | None) -> str:
    answer = await csms.call(
        call.SendLocalList(list_version=version, update_type=update_type, local_authorization_list=entries or [])
    )
    return answer.status


async def list_version(csms: Csms) -> int:
    return (await csms.call(call.GetLocalListVersion())).list_version


async def test_get_local_list_version_is_0_while_the_list_is_empty(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert await list_version(csms) == 0


async def test_send_local_list_full_then_differential_survives_a_restart(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    full = [entry("TAG1"), entry("TAG2", "Blocked", parentIdTag="FAMILY"), entry("TAG3", expiryDate="2099-01-01T00:00:00Z")]
    assert await send_list(csms, 3, "Full", full) == "Accepted"
    assert await list_version(csms) == 3
    assert await send_list(csms, 4, "Differential", [entry("TAG1", None), entry("TAG4", "Invalid")]) == "Accepted"
    assert await list_version(csms) == 4
    # The answer left only after the list was on flash: a SIGKILL right after keeps it.
    daemon.kill()
    mark = len(csms.frames)
    daemon.start()
    await csms.wait_for("StatusNotification", timeout=20, after=mark)
    assert await list_version(csms) == 4
    assert await send_list(csms, 5, "Full", None) == "Accepted"  # a Full update without entries empties it
    assert await list_version(csms) == 0


async def test_send_local_list_differential_not_newer_is_a_version_mismatch(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert await send_list(csms, 7, "Full", [entry("TAG1")]) == "Accepted"
    for version in (7, 6):
        assert await send_list(csms, version, "Differential", [entry("TAG2")]) == "VersionMismatch"
    assert await list_version(csms) == 7


async def test_send_local_list_beyond_the_max_lengths_fails(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    # WEMOB: SendLocalListMaxLength and LocalAuthListMaxLength are both 100 (tables 4.2).
    assert await send_list(csms, 1, "Full", [entry(f"T{i}") for i in range(101)]) == "Failed"
    assert await send_list(csms, 2, "Full", [entry(f"A{i}") for i in range(60)]) == "Accepted"
    assert await send_list(csms, 3, "Differential", [entry(f"B{i}") for i in range(60)]) == "Failed"
    assert await list_version(csms) == 2


async def test_send_local_list_is_taken_while_the_list_is_disabled(csms: Csms, make_daemon) -> None:
    """NotSupported is for a station without LocalAuthListManagement (§3.5.2, §7.47); a CSMS
    may load the list before it sets LocalAuthListEnabled (WEMOB ships it false)."""
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert await send_list(csms, 1, "Full", [entry("TAG1")]) == "Accepted"
    assert await list_version(csms) == 1


async def test_clear_cache_accepted_then_rejected_once_the_cache_is_disabled(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert (await csms.call(call.ClearCache())).status == "Accepted"
    await configure(csms, AuthorizationCacheEnabled="false")
    assert (await csms.call(call.ClearCache())).status == "Rejected"  # errata 3.23


async def test_start_with_an_id_in_the_local_list_needs_no_authorize(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)  # WEMOB: LocalPreAuthorize true
    await booted(csms, daemon)
    await configure(csms, LocalAuthListEnabled="true")
    assert await send_list(csms, 1, "Full", [entry("LISTED", parentIdTag="FAMILY")]) == "Accepted"
    start = (await charging(csms, daemon, "LISTED", until="StartTransaction")).payload
    assert start["idTag"] == "LISTED"
    assert csms.calls("Authorize") == []


async def test_start_with_a_cached_id_needs_no_authorize_until_clear_cache(csms: Csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await cli_ok(daemon, "swipe", "TAG1")  # authorized by the CSMS, which fills the cache
    await cli_ok(daemon, "swipe", "TAG1")  # presented again before the cable: session cancelled
    assert csms.calls("Authorize") == [{"idTag": "TAG1"}]
    start = (await charging(csms, daemon, "TAG1", until="StartTransaction")).payload
    assert start["idTag"] == "TAG1"
    assert len(csms.calls("Authorize")) == 1
    await cli_ok(daemon, "swipe", "TAG1")  # stops the transaction
    await csms.wait_for("StopTransaction")
    await cli_ok(daemon, "unplug", "1")
    assert (await csms.call(call.ClearCache())).status == "Accepted"
    mark = len(csms.frames)
    await cli_ok(daemon, "swipe", "TAG1")
    await csms.wait_for("Authorize", after=mark)


async def test_a_start_answer_contradicting_the_list_reports_local_list_conflict(csms: Csms, make_daemon) -> None:
    csms.start_id_tags = {"LISTED": {"status": "Blocked"}}
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    await configure(csms, LocalAuthListEnabled="true")
    assert await send_list(csms, 1, "Full", [entry("LISTED")]) == "Accepted"
    mark = len(csms.frames)
    await charging(csms, daemon, "LISTED", until="StartTransaction")
    report = await csms.wait_for(
        "StatusNotification", lambda p: p["connectorId"] == 0 and p["errorCode"] == "LocalListConflict", after=mark
    )
    assert "LISTED" in report.payload.get("info", "")
