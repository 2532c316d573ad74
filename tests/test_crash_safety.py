"""Crash safety: `chargepoint run` killed with SIGKILL at many points of a session (issue 3).

Each lane is one station (a real `chargepoint run` process with its own data directory) and one
real CSMS on 127.0.0.1. A lane drives charging sessions through the control socket (the
protocol the `chargepoint` bench CLI speaks, spoken directly so that a hundred bench actions do
not cost a hundred interpreter start-ups), kills the process with SIGKILL at a chosen point of
the session, starts it again on the same data directory, lets it recover, and goes on. The
lanes run side by side to keep the wall time low. At the end the CSMS's record of every frame
is checked against what the lane knows it did and against the station's own database:

- a transaction is identified by its StartTransaction payload (connectorId, idTag, meterStart,
  timestamp); a StartTransaction sent again after a crash with the identical payload is the
  same transaction (at-least-once delivery), and the CSMS here deduplicates on those fields as a
  real one does, answering a repeat with the transactionId it gave the first time;
- every session the station confirmed as started reaches the CSMS exactly once, none that was
  not started does, and the station's database holds exactly the transactions the CSMS knows;
- every transaction gets exactly one StopTransaction (identical repeats deduplicated), with the
  transactionId the CSMS gave, the reason the lane expects (PowerLoss when the kill interrupted
  it, Local when the card had already stopped it), a meterStop never lower than the last
  MeterValues the CSMS received for it (PowerLoss: exactly that last stored reading, at its time);
- every MeterValues carries the transactionId the CSMS gave, none arrives after its
  transaction's StopTransaction, and the energy register never goes down within a transaction;
- nothing is left in the station's queue.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import Daemon
from tests.csms import CALL, CALLRESULT, Csms, Frame

ENERGY = "Energy.Active.Import.Register"
LANES = 3
EV_POWER_W = 22000  # about 6 Wh a second: each MeterValues sample moves the register
MIN_KILL_POINTS = 50

StartKey = tuple[Any, Any, Any, Any]


def start_key(payload: dict[str, Any]) -> StartKey:
    """What makes a transaction the same transaction at the CSMS."""
    return (payload.get("connectorId"), payload.get("idTag"), payload.get("meterStart"), payload.get("timestamp"))


class DedupingCsms(Csms):
    """The test CSMS, answering a repeated StartTransaction with the transactionId it gave before.

    A real CSMS deduplicates a StartTransaction delivered twice (the station sent it, crashed
    before it could record the answer, and sent it again); without this a repeat would open a
    second transaction at the CSMS and the station's later messages would be judged against the
    wrong id.
    """

    def __init__(self) -> None:
        super().__init__(boot_interval=300)
        self.given: dict[StartKey, int] = {}
        self._current_start: StartKey | None = None

    def _record(self, direction: str, raw: str | bytes, identity: str) -> Frame:
        frame = super()._record(direction, raw, identity)
        if frame.direction == "in" and frame.message_type == CALL and frame.action == "StartTransaction":
            self._current_start = start_key(frame.payload) if isinstance(frame.payload, dict) else None
        return frame

    def take_transaction_id(self) -> int:
        # Frames of one connection are routed one at a time: the StartTransaction being answered
        # is the one recorded last.
        key = self._current_start
        if key is not None and key in self.given:
            return self.given[key]
        transaction_id = super().take_transaction_id()
        if key is not None:
            self.given[key] = transaction_id
        return transaction_id


@dataclass
class Session:
    """One card's use as the lane drove it: the stop reason of each transaction it must produce,
    oldest first ([] = none may exist); None when a kill made the outcome unknowable."""

    id_tag: str
    reasons: list[str] | None


@dataclass
class Lane:
    number: int
    csms: DedupingCsms
    daemon: Daemon
    rng: random.Random
    sessions: list[Session] = field(default_factory=list)
    kills: int = 0
    counter: int = 0
    log: list[str] = field(default_factory=list)

    def tag(self) -> str:
        self.counter += 1
        return f"L{self.number}S{self.counter:03d}"  # IdToken: at most 20 characters


# The control socket -------------------------------------------------------------------------


async def control(daemon: Daemon, command: str, timeout: float = 30.0, **fields: Any) -> dict[str, Any]:
    """One request on the daemon's control socket, as `chargepoint` bench commands send it."""
    reader, writer = await asyncio.open_unix_connection(str(daemon.data_dir / "control.sock"))
    try:
        writer.write(json.dumps({"command": command, **fields}).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
    finally:
        writer.close()
    if not line:
        raise ConnectionError(f"{command}: the daemon closed the control connection without answering")
    return json.loads(line)


async def bench(daemon: Daemon, command: str, **fields: Any) -> str:
    reply = await control(daemon, command, **fields)
    assert reply["ok"], (command, fields, reply)
    return str(reply.get("message", ""))


async def plug(lane: Lane) -> None:
    await bench(lane.daemon, "plug", connector=1)


async def unplug(lane: Lane) -> None:
    await bench(lane.daemon, "unplug", connector=1)


async def ev_charge(lane: Lane) -> None:
    await bench(lane.daemon, "ev", connector=1, action="charge")


async def swipe(lane: Lane, id_tag: str) -> str:
    return await bench(lane.daemon, "swipe", id_tag=id_tag, connector=1)


async def status(daemon: Daemon) -> dict[str, Any]:
    reply = await control(daemon, "status")
    assert reply["ok"], reply
    return reply


# Process life -------------------------------------------------------------------------------


def kill(lane: Lane, where: str) -> None:
    assert lane.daemon.process is not None and lane.daemon.process.poll() is None, (
        f"lane {lane.number}: the daemon was already gone before the kill {where}:\n{lane.daemon.logs()[-3000:]}"
    )
    lane.daemon.kill()
    lane.kills += 1
    lane.log.append(where)


async def wait_control(daemon: Daemon, timeout: float = 20.0) -> None:
    """Until the restarted daemon listens (a SIGKILL leaves the old socket file behind)."""
    deadline = time.monotonic() + timeout
    while True:
        assert daemon.process is not None and daemon.process.poll() is None, f"daemon exited:\n{daemon.logs()[-3000:]}"
        try:
            await status(daemon)
            return
        except (ConnectionError, FileNotFoundError, OSError):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no control socket after {timeout} s:\n{daemon.logs()[-3000:]}") from None
            await asyncio.sleep(0.05)


async def restart(lane: Lane, clean: bool = True) -> None:
    """Start again on the same data directory; `clean` takes the cable out, which the station
    (like a real one after a power cut) otherwise finds still plugged in."""
    lane.daemon.start()
    await wait_control(lane.daemon)
    if clean:
        reply = await control(lane.daemon, "unplug", connector=1)
        assert reply["ok"] or "no cable is plugged in" in reply["error"], reply  # out already


async def drained(lane: Lane, timeout: float = 30.0) -> None:
    """Until the station is registered and has delivered every queued message."""
    deadline = time.monotonic() + timeout
    while True:
        state = await status(lane.daemon)
        if state["registration"] == "Accepted" and state["link"] == "Connected" and state["queued"] == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"lane {lane.number}: queue not delivered within {timeout} s: {state}")
        await asyncio.sleep(0.1)


async def unreachable(lane: Lane) -> None:
    """The CSMS drops the link and refuses new ones, keeping its record of frames."""
    lane.csms.reject_auth = True
    await lane.csms.disconnect()
    deadline = time.monotonic() + 10
    while (await status(lane.daemon))["link"] == "Connected":
        assert time.monotonic() < deadline, "the station still believes it is connected"
        await asyncio.sleep(0.05)


def reachable(lane: Lane) -> None:
    lane.csms.reject_auth = False


async def meter_values_of(lane: Lane, count: int, after: int, timeout: float = 15.0) -> None:
    """Until `count` MeterValues have arrived since frame `after`."""
    for _ in range(count):
        frame = await lane.csms.wait_for("MeterValues", timeout=timeout, after=after)
        after = lane.csms.frames.index(frame) + 1


async def begin(lane: Lane, *, identification_first: bool = False) -> Session:
    """Plug in, EV asks for energy, card: a transaction the station confirms as started."""
    id_tag = lane.tag()
    if identification_first:
        assert "plug in the cable" in await swipe(lane, id_tag)
        await plug(lane)
        await ev_charge(lane)
        # The transaction starts on the cable: wait until the station says so.
        deadline = time.monotonic() + 10
        while not _db_rows(lane, "SELECT 1 FROM charging_transaction WHERE id_tag = ?", (id_tag,)):
            assert time.monotonic() < deadline, "no transaction after identification first and plug-in"
            await asyncio.sleep(0.05)
    else:
        await plug(lane)
        await ev_charge(lane)
        assert "transaction started" in await swipe(lane, id_tag)
    session = Session(id_tag, ["PowerLoss"])
    lane.sessions.append(session)
    return session


async def end(lane: Lane, session: Session) -> None:
    """The owner's card again: the station confirms the stop (reason Local)."""
    assert "transaction stopped" in await swipe(lane, session.id_tag)
    assert session.reasons
    session.reasons[-1] = "Local"


async def jitter(lane: Lane, choices: tuple[float, ...] = (0.0, 0.02, 0.1, 0.3)) -> None:
    await asyncio.sleep(lane.rng.choice(choices))


# Kill points --------------------------------------------------------------------------------
# Every scenario starts with the station connected and its queue empty, ends with a kill and a
# restart, and leaves the station connected and drained again.


async def after_plug(lane: Lane) -> None:
    await plug(lane)
    await ev_charge(lane)
    await jitter(lane)
    kill(lane, "after plug-in, before any card")
    await restart(lane)


async def after_identification_first(lane: Lane) -> None:
    id_tag = lane.tag()
    assert "plug in the cable" in await swipe(lane, id_tag)
    lane.sessions.append(Session(id_tag, []))
    await jitter(lane)
    kill(lane, "after an accepted card, before the cable")
    await restart(lane)


async def start_unanswered(lane: Lane) -> None:
    lane.csms.ignore = {"StartTransaction"}
    mark = len(lane.csms.frames)
    await begin(lane)
    await lane.csms.wait_for("StartTransaction", timeout=10, after=mark)
    await jitter(lane, (0.0, 0.5, 1.2))  # the sampler queues MeterValues behind the Start
    kill(lane, "StartTransaction sent, not answered")
    lane.csms.ignore = set()
    await restart(lane)


async def right_after_start(lane: Lane) -> None:
    await begin(lane, identification_first=lane.rng.random() < 0.3)
    await jitter(lane, (0.0, 0.01, 0.05, 0.15))
    kill(lane, "right after the transaction started")
    await restart(lane)


async def mid_charge(lane: Lane) -> None:
    mark = len(lane.csms.frames)
    await begin(lane)
    k = lane.rng.randint(1, 3)
    await meter_values_of(lane, k, mark)
    await jitter(lane, (0.0, 0.4, 0.8))
    kill(lane, f"mid-charge after {k} MeterValues")
    await restart(lane)


async def meter_values_unanswered(lane: Lane) -> None:
    mark = len(lane.csms.frames)
    await begin(lane)
    await meter_values_of(lane, 1, mark)
    lane.csms.ignore = {"MeterValues"}
    await meter_values_of(lane, 1, len(lane.csms.frames))
    await jitter(lane, (0.0, 1.1))  # later samples queue up behind the unanswered one
    kill(lane, "MeterValues sent, not answered")
    lane.csms.ignore = set()
    await restart(lane)


async def stop_unanswered(lane: Lane) -> None:
    mark = len(lane.csms.frames)
    session = await begin(lane)
    await meter_values_of(lane, 1, mark)
    lane.csms.ignore = {"StopTransaction"}
    mark = len(lane.csms.frames)
    await end(lane, session)
    await lane.csms.wait_for("StopTransaction", timeout=10, after=mark)
    await jitter(lane)
    kill(lane, "StopTransaction sent, not answered")
    lane.csms.ignore = set()
    await restart(lane)


async def right_after_stop(lane: Lane) -> None:
    mark = len(lane.csms.frames)
    session = await begin(lane)
    await meter_values_of(lane, lane.rng.randint(1, 2), mark)
    await end(lane, session)
    await jitter(lane, (0.0, 0.01, 0.05))
    kill(lane, "right after the card stopped the transaction")
    await restart(lane)


async def after_unplug(lane: Lane) -> None:
    mark = len(lane.csms.frames)
    session = await begin(lane)
    await meter_values_of(lane, 1, mark)
    await end(lane, session)
    await unplug(lane)
    await jitter(lane, (0.0, 0.05))
    kill(lane, "after the whole session, cable out")
    await restart(lane)


async def offline_mid_charge(lane: Lane) -> None:
    await unreachable(lane)
    await begin(lane)
    await asyncio.sleep(lane.rng.choice((0.2, 1.3, 2.3)))  # 0 to 2 MeterValues on flash
    kill(lane, "offline, mid-charge")
    await restart(lane)  # still offline: the PowerLoss stop waits in the queue
    await asyncio.sleep(0.3)
    reachable(lane)


async def offline_stop_queued(lane: Lane) -> None:
    await unreachable(lane)
    session = await begin(lane)
    await asyncio.sleep(1.3)
    await end(lane, session)
    if lane.rng.random() < 0.5:
        await unplug(lane)
    kill(lane, "offline, whole transaction queued")
    reachable(lane)
    await restart(lane)


async def during_replay(lane: Lane) -> None:
    await unreachable(lane)
    session = await begin(lane)
    await asyncio.sleep(3.3)
    await end(lane, session)
    mark = len(lane.csms.frames)
    reachable(lane)
    await lane.csms.wait_for("StartTransaction", timeout=15, after=mark)
    await meter_values_of(lane, lane.rng.randint(0, 2), mark)
    kill(lane, "while the queue of an offline transaction is being replayed")
    await restart(lane)


async def during_recovery(lane: Lane) -> None:
    mark = len(lane.csms.frames)
    await begin(lane)
    await meter_values_of(lane, 1, mark)
    kill(lane, "mid-charge, before a second kill during recovery")
    lane.csms.ignore = {"StopTransaction"}
    mark = len(lane.csms.frames)
    await restart(lane)
    await lane.csms.wait_for("StopTransaction", lambda p: p.get("reason") == "PowerLoss", timeout=15, after=mark)
    kill(lane, "PowerLoss StopTransaction sent, not answered")
    lane.csms.ignore = set()
    await restart(lane)


async def during_startup(lane: Lane) -> None:
    mark = len(lane.csms.frames)
    await begin(lane)
    await meter_values_of(lane, 1, mark)
    kill(lane, "mid-charge, before a kill during start-up")
    lane.daemon.start()
    await asyncio.sleep(lane.rng.uniform(0.05, 0.6))
    if lane.daemon.process is not None and lane.daemon.process.poll() is None:
        kill(lane, "during start-up and recovery")
    await restart(lane)


async def new_card_after_power_loss(lane: Lane) -> None:
    """The cable stays in through the power cut; a new card starts a new transaction at once."""
    mark = len(lane.csms.frames)
    await begin(lane)
    await meter_values_of(lane, 1, mark)
    kill(lane, "mid-charge, cable left in")
    await restart(lane, clean=False)
    id_tag = lane.tag()
    assert "transaction started" in await swipe(lane, id_tag)
    session = Session(id_tag, ["PowerLoss"])
    lane.sessions.append(session)
    await jitter(lane, (0.0, 1.2))
    kill(lane, "a second transaction on a cable left in through a power cut")
    await restart(lane)


async def allow_charge_after_brown_out(lane: Lane) -> None:
    """AllowChargeAfterBrownOut (WEMOB §4.4.5): the same idTag charges on without a new card."""
    reply = await control(lane.daemon, "config-set", key="AllowChargeAfterBrownOut", value="true")
    assert reply["ok"] and reply["accepted"], reply
    mark = len(lane.csms.frames)
    session = await begin(lane)
    await meter_values_of(lane, 1, mark)
    kill(lane, "mid-charge with AllowChargeAfterBrownOut")
    session.reasons = ["PowerLoss", "PowerLoss"]
    mark = len(lane.csms.frames)
    await restart(lane, clean=False)
    # The resumed transaction: a second StartTransaction for the same card.
    await lane.csms.wait_for("StartTransaction", lambda p: p["idTag"] == session.id_tag, timeout=15, after=mark)
    reply = await control(lane.daemon, "config-set", key="AllowChargeAfterBrownOut", value="false")
    assert reply["ok"] and reply["accepted"], reply
    await jitter(lane, (0.0, 1.2))
    if lane.rng.random() < 0.5:
        await end(lane, session)
    kill(lane, "a transaction resumed after a brown-out")
    await restart(lane)


Scenario = Callable[[Lane], Awaitable[None]]
# One pass: about 20 kill points a lane; EXTRA adds the kill points that are most likely to break.
PASS: tuple[Scenario, ...] = (
    after_plug,
    start_unanswered,
    mid_charge,
    right_after_start,
    stop_unanswered,
    after_identification_first,
    meter_values_unanswered,
    right_after_stop,
    offline_mid_charge,
    during_recovery,
    after_unplug,
    offline_stop_queued,
    during_replay,
    during_startup,
    new_card_after_power_loss,
    allow_charge_after_brown_out,
)
EXTRA: tuple[Scenario, ...] = (mid_charge, right_after_start, start_unanswered, right_after_stop)


async def run_lane(lane: Lane) -> None:
    await wait_control(lane.daemon)
    await drained(lane)
    for key, value in (("MeterValueSampleInterval", "1"), ("AllowOfflineTxForUnknownId", "true"), ("LocalAuthorizeOffline", "true")):
        reply = await control(lane.daemon, "config-set", key=key, value=value)
        assert reply["ok"] and reply["accepted"], (key, reply)
    scenarios = list(PASS) + list(EXTRA)
    lane.rng.shuffle(scenarios)
    for scenario in scenarios:
        await scenario(lane)
        await drained(lane)


# Checks -------------------------------------------------------------------------------------


def _db_rows(lane: Lane, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{lane.daemon.data_dir / 'chargepoint.db'}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def energy(payload: dict[str, Any]) -> float | None:
    """The energy register in one MeterValues (Wh), None when it carries none."""
    values = [
        float(sample["value"]) * (1000 if sample.get("unit") == "kWh" else 1)
        for meter_value in payload.get("meterValue", [])
        for sample in meter_value.get("sampledValue", [])
        if sample.get("measurand", ENERGY) == ENERGY
    ]
    return max(values) if values else None


def check(lane: Lane, problems: list[str]) -> dict[int, dict[str, Any]]:
    """Everything the CSMS and the station's database say, against what the lane did.

    Returns, per transactionId, the stop payload and the MeterValues the CSMS received.
    """
    csms = lane.csms
    answers = {f.unique_id: f.payload for f in csms.frames if f.direction == "out" and f.message_type == CALLRESULT}
    ids: dict[StartKey, set[int]] = defaultdict(set)
    starts: dict[StartKey, dict[str, Any]] = {}
    for frame in csms.received("StartTransaction"):
        key = start_key(frame.payload)
        starts[key] = frame.payload
        answer = answers.get(frame.unique_id)
        if answer is not None:
            ids[key].add(answer["transactionId"])
    for key, given in ids.items():
        if len(given) != 1:
            problems.append(f"StartTransaction {key} answered with several ids {given}")
    unanswered = [key for key in starts if key not in ids]
    if unanswered:
        problems.append(f"StartTransaction never answered (never delivered again after the kill): {unanswered}")
    id_of = {key: min(given) for key, given in ids.items()}
    key_of = {transaction_id: key for key, transaction_id in id_of.items()}

    # Every session exactly once, nothing the lane did not start.
    by_tag: dict[str, list[StartKey]] = defaultdict(list)
    for key in starts:
        by_tag[key[1]].append(key)
    known_tags = {session.id_tag for session in lane.sessions}
    expected_reason: dict[StartKey, str] = {}
    for session in lane.sessions:
        found = sorted(by_tag.get(session.id_tag, []), key=lambda k: k[3])
        if session.reasons is None:
            if len(found) > 1:
                problems.append(f"{session.id_tag}: {len(found)} transactions at the CSMS")
            continue
        if len(found) != len(session.reasons):
            problems.append(
                f"{session.id_tag}: the station confirmed {len(session.reasons)} transactions, "
                f"the CSMS knows {len(found)}: {found}"
            )
            continue
        expected_reason.update(zip(found, session.reasons))
    for tag in by_tag.keys() - known_tags:
        problems.append(f"StartTransaction for an idTag no session used: {tag}")

    # MeterValues: the given id, in order, never after the stop, register never going down.
    stops: dict[int, list[Frame]] = defaultdict(list)
    for frame in csms.received("StopTransaction"):
        stops[frame.payload.get("transactionId")].append(frame)
    meter_values: dict[int, list[Frame]] = defaultdict(list)
    for frame in csms.received("MeterValues"):
        transaction_id = frame.payload.get("transactionId")
        if transaction_id not in key_of:
            problems.append(f"MeterValues with transactionId {transaction_id} the CSMS never gave: {frame.payload}")
            continue
        meter_values[transaction_id].append(frame)
    for frame in csms.received("StopTransaction"):
        if frame.payload.get("transactionId") not in key_of:
            problems.append(f"StopTransaction with transactionId {frame.payload.get('transactionId')} the CSMS never gave")

    result: dict[int, dict[str, Any]] = {}
    for transaction_id, key in key_of.items():
        start = starts[key]
        distinct_stops = {json.dumps(f.payload, sort_keys=True) for f in stops.get(transaction_id, [])}
        if len(distinct_stops) != 1:
            problems.append(f"transaction {transaction_id} ({key[1]}): {len(distinct_stops)} different StopTransactions: {distinct_stops}")
            continue
        stop = stops[transaction_id][0].payload
        first_stop_at = stops[transaction_id][0].at
        readings = [(f, energy(f.payload)) for f in meter_values.get(transaction_id, [])]
        readings = [(f, value) for f, value in readings if value is not None]
        late = [f.payload for f, _ in readings if f.at > first_stop_at]
        if late:
            problems.append(f"transaction {transaction_id}: MeterValues after its StopTransaction: {late}")
        values = [value for _, value in readings]
        if values != sorted(values):
            problems.append(f"transaction {transaction_id}: the energy register went down: {values}")
        floor: float = start["meterStart"]
        if values:
            last = values[-1]
            floor = max(floor, last)
        if stop["meterStop"] < floor:
            problems.append(
                f"transaction {transaction_id} ({key[1]}, {stop['reason']}): meterStop {stop['meterStop']} "
                f"below the last MeterValues {values[-1] if values else None} / meterStart {start['meterStart']}"
            )
        if stop["timestamp"] < start["timestamp"]:
            problems.append(f"transaction {transaction_id}: stopped {stop['timestamp']} before it started {start['timestamp']}")
        reason = expected_reason.get(key)
        if reason is not None and stop.get("reason") != reason:
            problems.append(f"transaction {transaction_id} ({key[1]}): reason {stop.get('reason')}, expected {reason}")
        if stop.get("reason") == "PowerLoss":
            # The last stored reading and its time: the last sample the CSMS got, or the start.
            last_frame = readings[-1][0].payload["meterValue"][-1] if readings else None
            if last_frame:
                want = (last, last_frame["timestamp"])
                ok = (stop["meterStop"], stop["timestamp"]) == want
            else:
                want = (start["meterStart"], start["timestamp"])
                ok = (stop["meterStop"], stop["timestamp"]) == want
            if not ok:
                problems.append(
                    f"transaction {transaction_id}: PowerLoss stop {stop['meterStop']} Wh at {stop['timestamp']}, "
                    f"the last stored reading was {want}"
                )
        result[transaction_id] = {"stop": stop, "values": values}

    # The station's database: the same transactions, all stopped, with the CSMS's ids; queue empty.
    rows = _db_rows(
        lane,
        "SELECT connector, id_tag, meter_start, started_at, transaction_id, stopped_at, stop_reason FROM charging_transaction",
    )
    local = {(c, tag, meter_start, at): (tid, stopped, reason) for c, tag, meter_start, at, tid, stopped, reason in rows}
    if len(local) != len(rows):
        problems.append("the station's database holds the same transaction twice")
    if set(local) != set(starts):
        problems.append(
            f"station and CSMS disagree on the transactions: only at the station {set(local) - set(starts)}, "
            f"only at the CSMS {set(starts) - set(local)}"
        )
    for key, (tid, stopped, reason) in local.items():
        if stopped is None:
            problems.append(f"transaction {key} still open at the station")
        if key in id_of and tid != id_of[key]:
            problems.append(f"transaction {key}: the station recorded id {tid}, the CSMS gave {id_of[key]}")
    left = _db_rows(lane, "SELECT action, payload FROM transaction_message")
    if left:
        problems.append(f"messages left in the station's queue: {left}")
    if not starts:
        problems.append("no transaction reached the CSMS at all")
    return result


def redelivered(csms: Csms, action: str) -> int:
    """How many CALLs of `action` repeated an earlier payload (at-least-once delivery at work)."""
    payloads = [json.dumps(p, sort_keys=True) for p in csms.calls(action)]
    return len(payloads) - len(set(payloads))


# The tests ----------------------------------------------------------------------------------


@pytest.mark.timeout(240)
async def test_sigkill_at_every_point_of_a_session_loses_and_duplicates_nothing(make_daemon) -> None:
    lanes: list[Lane] = []
    servers: list[DedupingCsms] = []
    try:
        for number in range(1, LANES + 1):
            csms = DedupingCsms()
            await csms.__aenter__()
            servers.append(csms)
            daemon = make_daemon(
                csms, identity=f"CP-CRASH-{number}", ev_power_w=EV_POWER_W, reconnect_max_delay=1, log_level="INFO"
            )
            lanes.append(Lane(number, csms, daemon, random.Random(1000 + number)))
        started = time.monotonic()
        await asyncio.gather(*(run_lane(lane) for lane in lanes))
        kill_points = sum(lane.kills for lane in lanes)
        problems: list[str] = []
        transactions = 0
        for lane in lanes:
            lane_problems: list[str] = []
            transactions += len(check(lane, lane_problems))
            problems += [f"lane {lane.number}: {p}" for p in lane_problems]
        print(f"crash-safety kill points: {kill_points}")
        print("crash-safety redeliveries after a kill (identical payloads): " + ", ".join(
            f"{action} {sum(redelivered(lane.csms, action) for lane in lanes)}"
            for action in ("StartTransaction", "MeterValues", "StopTransaction")
        ))
        print(f"crash-safety transactions checked: {transactions} in {time.monotonic() - started:.0f} s")
        assert not problems, "\n".join(problems)
        assert kill_points >= MIN_KILL_POINTS
        assert transactions >= 40
        reasons = [r for lane in lanes for s in lane.sessions for r in s.reasons or []]
        powerloss, local = reasons.count("PowerLoss"), reasons.count("Local")
        assert powerloss >= 20 and local >= 10, (powerloss, local)
    finally:
        for csms in servers:
            await csms.stop()
