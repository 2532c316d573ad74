"""Crash safety of the features' writes: SIGKILL while a CSMS request is being stored (issue 12).

tests/test_crash_safety.py kills `chargepoint run` at points of a charging session; this file
kills it while it stores what a CSMS asked for: a configuration key (ChangeConfiguration), the
local list (SendLocalList), a reservation (ReserveNow, CancelReservation), a charging profile
(SetChargingProfile, ClearChargingProfile) and a firmware update (UpdateFirmware). Each point:
send the request, kill the process a few milliseconds later (before, during or after the write)
or right after the answer, start it again on the same data directory and read back what it
kept. What the CSMS heard Accepted must be there; a request killed before its answer may have
been kept or not, but whole: never a list half replaced, a profile without its slot's
predecessor gone, or a key between two values. Then the database must pass integrity_check.

KILL_POINTS (200) is the CI-sized run, spread over LANES stations working side by side;
CHARGEPOINT_CRASH_POINTS asks for more.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Daemon
from tests.csms import CALL, CALLRESULT, Csms
from tests.test_crash_safety import control, wait_control

KILL_POINTS = int(os.environ.get("CHARGEPOINT_CRASH_POINTS", "200"))
LANES = 4
# Seconds between sending the request and the SIGKILL; None: right after the answer arrived.
KILL_DELAYS = (0.0, 0.002, 0.005, 0.01, 0.02, 0.05, None)
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds").replace("+00:00", "Z")

State = Any  # what one feature holds, as read back from the station


@dataclass
class Write:
    """One CSMS request and the feature state it leads to once stored."""

    action: str
    payload: dict[str, Any]
    after: State


@dataclass(frozen=True)
class Feature:
    name: str
    write: Callable[[Lane], Write]  # the next request, from the lane's current state
    read: Callable[[Lane], Awaitable[State]]  # the state the station holds now


@dataclass
class Lane:
    number: int
    csms: Csms
    daemon: Daemon
    rng: random.Random
    held: dict[str, State] = field(default_factory=dict)  # per feature, as last read back
    counter: int = 0
    kills: int = 0
    answered: int = 0  # kills right after an Accepted answer
    kept: int = 0  # kills before the answer whose write survived

    def next(self) -> int:
        self.counter += 1
        return self.counter

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(f"file:{self.daemon.data_dir / 'chargepoint.db'}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()


# The features: a request each, and how to read back what the station kept ---------------------


def config_write(lane: Lane) -> Write:
    value = str(lane.next() % 3000 + 1)
    return Write("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": value}, value)


async def config_read(lane: Lane) -> State:
    answer = await lane.csms.call_raw("GetConfiguration", {"key": ["MeterValueSampleInterval"]})
    return answer[2]["configurationKey"][0]["value"]


def list_write(lane: Lane) -> Write:
    version = lane.next()
    tags = sorted(f"L{lane.number}V{version}T{i}" for i in range(lane.rng.randint(1, 6)))
    entries = [{"idTag": tag, "idTagInfo": {"status": "Accepted"}} for tag in tags]
    payload = {"listVersion": version, "updateType": "Full", "localAuthorizationList": entries}
    return Write("SendLocalList", payload, (version, tags))


async def list_read(lane: Lane) -> State:
    """The version GetLocalListVersion reports, and the tags on flash: a torn write shows."""
    version = (await lane.csms.call_raw("GetLocalListVersion", {}))[2]["listVersion"]
    return version, sorted(tag for (tag,) in lane.rows("SELECT id_tag FROM local_list"))


def reservation_write(lane: Lane) -> Write:
    held = lane.held.get("reservation") or ()
    if held:  # one connector, one reservation: cancel it, then reserve again
        return Write("CancelReservation", {"reservationId": held[0]}, ())
    number = lane.next()
    payload = {"connectorId": 1, "expiryDate": TOMORROW, "idTag": f"R{number}", "reservationId": number}
    return Write("ReserveNow", payload, (number,))


async def reservation_read(lane: Lane) -> State:
    reply = await control(lane.daemon, "status")
    return tuple(r["reservation_id"] for r in reply.get("reservations", []))


def profile_write(lane: Lane) -> Write:
    """A ChargePointMaxProfile in one of three stack levels; one in the same level is replaced."""
    held: dict[int, int] = dict(lane.held.get("profile") or ())
    if held and lane.rng.random() < 0.2:
        return Write("ClearChargingProfile", {"chargingProfilePurpose": "ChargePointMaxProfile"}, ())
    number, level = lane.next(), lane.rng.randint(0, 2)
    held[level] = number
    payload = {"connectorId": 0, "csChargingProfiles": {
        "chargingProfileId": number, "stackLevel": level, "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16 + level}]}}}
    return Write("SetChargingProfile", payload, tuple(sorted(held.items())))


async def profile_read(lane: Lane) -> State:
    return tuple(sorted((level, number) for number, level in lane.rows("SELECT id, stack_level FROM charging_profile")))


def firmware_write(lane: Lane) -> Write:
    """Scheduled for tomorrow, so it stays a stored request and never downloads."""
    location = f"http://127.0.0.1:9/firmware-{lane.next()}.bin"
    return Write("UpdateFirmware", {"location": location, "retrieveDate": TOMORROW}, location)


async def firmware_read(lane: Lane) -> State:
    rows = lane.rows("SELECT location FROM firmware_update")
    assert len(rows) <= 1, f"{len(rows)} firmware updates on flash"
    return rows[0][0] if rows else None


FEATURES = (
    Feature("config", config_write, config_read),
    Feature("local list", list_write, list_read),
    Feature("reservation", reservation_write, reservation_read),
    Feature("profile", profile_write, profile_read),
    Feature("firmware", firmware_write, firmware_read),
)


# One kill point -------------------------------------------------------------------------------


async def ready(lane: Lane, timeout: float = 30.0) -> None:
    """Until the restarted station listens, is Accepted and on the link."""
    await wait_control(lane.daemon)
    deadline = time.monotonic() + timeout
    while True:
        state = await control(lane.daemon, "status")
        if state["registration"] == "Accepted" and state["link"] == "Connected":
            return
        assert time.monotonic() < deadline, f"lane {lane.number}: not back on the link: {state}"
        await asyncio.sleep(0.05)


def accepted(lane: Lane, unique_id: str) -> bool | None:
    """Whether the station's answer reached the CSMS: True (Accepted), None (no answer yet)."""
    for frame in lane.csms.frames:
        if frame.direction == "in" and frame.unique_id == unique_id and frame.message_type != CALL:
            # UpdateFirmware's answer has no status: the CALLRESULT is its Accepted.
            assert frame.message_type == CALLRESULT and frame.payload.get("status", "Accepted") == "Accepted", frame.raw
            return True
    return None


async def kill_during(lane: Lane, feature: Feature) -> None:
    before = lane.held[feature.name]
    write = feature.write(lane)
    unique_id = f"k{lane.number}-{lane.kills}"
    delay = lane.rng.choice(KILL_DELAYS)
    await lane.csms.send_raw(json.dumps([CALL, unique_id, write.action, write.payload]))
    if delay is None:
        await lane.csms.next_incoming_response(unique_id)
    else:
        await asyncio.sleep(delay)
    answered = accepted(lane, unique_id)
    lane.daemon.kill()
    lane.kills += 1
    lane.daemon.start()
    await ready(lane)
    held = await feature.read(lane)
    where = f"lane {lane.number}, kill {lane.kills} ({feature.name}, {write.action}, {delay} s)"
    if answered:
        lane.answered += 1
        assert held == write.after, f"{where}: answered Accepted, then lost: holds {held}, expected {write.after}"
    else:
        assert held in (before, write.after), f"{where}: holds {held}, neither {before} nor {write.after}"
        lane.kept += held == write.after != before
    lane.held[feature.name] = held


async def run_lane(lane: Lane, points: int) -> None:
    await ready(lane)
    for feature in FEATURES:
        lane.held[feature.name] = await feature.read(lane)
    for _ in range(points):
        await kill_during(lane, lane.rng.choice(FEATURES))
    rows = lane.rows("PRAGMA integrity_check")
    assert rows == [("ok",)], f"lane {lane.number}: database damaged: {rows}"


@pytest.mark.timeout(120 + KILL_POINTS)
async def test_sigkill_while_features_store_keeps_what_the_csms_was_told(make_daemon) -> None:
    servers = [Csms(boot_interval=300) for _ in range(LANES)]
    lanes = []
    try:
        for number, csms in enumerate(servers, start=1):
            await csms.__aenter__()
            daemon = make_daemon(
                csms, identity=f"CP-WRITES-{number}", profile="wemob", model="wemob-station-dc60",
                extra_profiles=["Reservation"], reconnect_max_delay=1, log_level="WARNING",
            )
            lanes.append(Lane(number, csms, daemon, random.Random(2000 + number)))
        started = time.monotonic()
        share = -(-KILL_POINTS // LANES)
        await asyncio.gather(*(run_lane(lane, share) for lane in lanes))
        kills = sum(lane.kills for lane in lanes)
        answered, kept = sum(lane.answered for lane in lanes), sum(lane.kept for lane in lanes)
        print(f"\ncrash-safety feature-write kill points: {kills} in {time.monotonic() - started:.0f} s "
              f"({answered} right after Accepted, {kept} before the answer yet kept)")
        assert kills >= KILL_POINTS
        assert answered >= kills // 10 and kept >= 1, (answered, kept)
    finally:
        for csms in servers:
            await csms.stop()
