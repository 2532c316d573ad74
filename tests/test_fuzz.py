"""Fuzzing: generated CSMS frames against a running `chargepoint run` (issue 12, item 9).

Every CALL must get a CALLRESULT that meets the official response schema or the OCPP-J
§4.2.3 CALLERROR its one fault deserves; a frame that cannot be answered gets nothing. The
daemon must stay the same process, on the same link, with no Traceback in its log, and a
normal session must still complete afterwards.

`make test` sends FRAMES (1,000, seeded) to each of two stations, a WEMOB DC model (two
connectors, WEMOB's DataTransfer) and a Wallbox; the full run is
`CHARGEPOINT_FUZZ_FRAMES=10000 .venv/bin/python -m pytest tests/test_fuzz.py -q -s`, which
prints the figures. CHARGEPOINT_FUZZ_SEED picks another sequence. Hypothesis draws the frames
(tests/fuzz_frames.py) in a worker thread; each exchange runs on the test's event loop, where
the CSMS lives.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator
from ocpp.v16 import call

from chargepoint.vendors.wemob.silent_mode import MESSAGE_ID as JSON_DATA_MESSAGE
from tests.conftest import Daemon, booted, eventually
from tests.csms import CALLERROR, CALLRESULT, Csms
from tests.fuzz_frames import CSMS_ACTIONS, PROFILE_ACTIONS, Probe, probes
from tests.helpers import cli_ok, configure, reaches, transaction_id
from tests.payloads import RESULT, Broken, broken, request_schema, response_schema, valid


def valid_payloads(action: str) -> st.SearchStrategy[Any]:
    return valid(request_schema(action), request_schema(action))

FRAMES = int(os.environ.get("CHARGEPOINT_FUZZ_FRAMES", "1000"))
SEED = int(os.environ.get("CHARGEPOINT_FUZZ_SEED", "12"))
ANSWER_TIMEOUT = 30.0  # a hang, not a slow answer: the station answers in milliseconds
# Keys the fuzz leaves alone besides the link's (fuzz_frames.LINK_KEYS): a long ConnectionTimeOut
# would keep a fuzzed RemoteStartTransaction waiting for a cable past the final session.
STEADY_KEYS = {"ConnectionTimeOut": "5"}


@dataclass
class Tally:
    sent: int = 0
    by_answer: Counter[str] = field(default_factory=Counter)  # CALLRESULT, each errorCode, "no answer"
    by_kind: Counter[str] = field(default_factory=Counter)
    answerable: set[str] = field(default_factory=set)  # UniqueIds that deserve an answer
    problems: list[str] = field(default_factory=list)


def verdict(probe: Probe, answer: list[Any]) -> tuple[str, str | None]:
    """What came back, and what is wrong with it (None: it is the answer the probe deserves)."""
    if answer[0] == CALLRESULT:
        got = RESULT
        if len(answer) != 3 or not isinstance(answer[2], dict):
            return got, f"malformed CALLRESULT {answer!r:.300}"
        if probe.action and got == probe.expect:
            payload = json.loads(json.dumps(answer[2]), parse_float=Decimal)
            errors = [e.message for e in Draft4Validator(response_schema(probe.action)).iter_errors(payload)]
            if errors:
                return got, f"{probe.action} answer breaks its schema: {errors[0]}"
    else:
        got = str(answer[2])
        if len(answer) != 5 or not isinstance(answer[3], str) or answer[4] != {}:
            return got, f"malformed CALLERROR {answer!r:.300}"
    return got, None if got == probe.expect else f"expected {probe.expect}, got {answer!r:.300}"


async def exchange(csms: Csms, probe: Probe, tally: Tally) -> None:
    tally.sent += 1
    tally.by_kind[probe.kind] += 1
    fresh = f"fz{tally.sent}"
    mark = len(csms.frames)
    await csms.send_raw(probe.frame(fresh))
    if probe.expect is None:
        tally.by_answer["no answer"] += 1
        return
    unique_id = probe.unique_id(fresh)
    tally.answerable.add(unique_id)
    try:
        answer = await csms.next_incoming_response(unique_id, timeout=ANSWER_TIMEOUT, after=mark)
    except TimeoutError:
        raise AssertionError(f"frame {tally.sent}: no answer within {ANSWER_TIMEOUT} s to {probe!r}; "
                             f"wrong answers before it: {tally.problems[:5]}") from None
    got, problem = verdict(probe, answer)
    tally.by_answer[got] += 1
    if problem:
        tally.problems.append(f"frame {tally.sent} {probe!r}: {problem}")


def fuzz(loop: asyncio.AbstractEventLoop, csms: Csms, frames: st.SearchStrategy[Probe], tally: Tally) -> None:
    """Hypothesis's side, in a worker thread: draw FRAMES probes, exchange each on `loop`."""

    @settings(
        max_examples=FRAMES, database=None, phases=(Phase.generate,), deadline=None, suppress_health_check=list(HealthCheck)
    )
    @seed(SEED)
    @given(frames)
    def one(probe: Probe) -> None:
        asyncio.run_coroutine_threadsafe(exchange(csms, probe, tally), loop).result(ANSWER_TIMEOUT + 10)

    one()


async def configuration(csms: Csms) -> dict[str, dict[str, Any]]:
    answer = await csms.call(call.GetConfiguration())
    return {entry["key"]: entry for entry in answer.configuration_key}


async def restore(csms: Csms, daemon: Daemon, before: dict[str, dict[str, Any]]) -> None:
    """Undo what the fuzz's CSMS legitimately changed, as an operator would before a session."""
    for key, entry in (await configuration(csms)).items():
        if not entry["readonly"] and entry.get("value") != before[key].get("value"):
            answer = await csms.call(call.ChangeConfiguration(key=key, value=before[key]["value"]))
            assert answer.status in ("Accepted", "RebootRequired"), (key, answer)
    answer = await csms.call(call.ChangeAvailability(connector_id=0, type="Operative"))
    assert answer.status in ("Accepted", "Scheduled"), answer  # Scheduled: connector 2 may still charge
    await csms.call(call.ClearChargingProfile())
    for reservation in (await daemon.status()).get("reservations", []):
        await csms.call(call.CancelReservation(reservation_id=reservation["reservation_id"]))


def connector_available(daemon: Daemon) -> Any:
    async def check() -> bool:
        return bool((await daemon.status())["connectors"][0]["status"] == "Available")

    return check


async def session_starts(csms: Csms, daemon: Daemon, connector: int) -> None:
    """Remote start, cable, Charging: the first half of the session a CSMS runs every day."""
    mark = len(csms.frames)
    answer = await csms.call(call.RemoteStartTransaction(id_tag=f"FUZZ-{connector}", connector_id=connector))
    assert answer.status == "Accepted", answer
    await cli_ok(daemon, "plug", str(connector))
    await cli_ok(daemon, "ev", str(connector), "charge")
    await reaches(csms, connector, "Charging", after=mark, timeout=30)
    started = await csms.wait_for("StartTransaction", after=mark)
    assert started.payload["idTag"] == f"FUZZ-{connector}"


async def session_completes(csms: Csms, daemon: Daemon) -> None:
    """The whole session on connector 1, remote stop included."""
    mark = len(csms.frames)
    await session_starts(csms, daemon, 1)
    stopping = await transaction_id(daemon)
    answer = await csms.call(call.RemoteStopTransaction(transaction_id=stopping))
    assert answer.status == "Accepted", answer
    stop = await csms.wait_for("StopTransaction", lambda p: p["transactionId"] == stopping, after=mark, timeout=30)
    assert stop.payload.get("reason") == "Remote", stop.payload


@settings(max_examples=300, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(CSMS_ACTIONS).flatmap(lambda a: st.tuples(st.just(a), valid_payloads(a), broken(a))))
def test_the_generator_breaks_only_what_it_says(case: tuple[str, Any, Broken]) -> None:
    """The oracle itself: a valid payload meets the plain official schema, a broken one does not
    (but for a bad dateTime: plain Draft 4 checks no format; test_datatypes covers those)."""
    action, payload, item = case
    schema = Draft4Validator(request_schema(action))
    assert not list(schema.iter_errors(json.loads(json.dumps(payload), parse_float=Decimal))), payload
    if not item.what.endswith("is no dateTime"):
        assert list(schema.iter_errors(json.loads(json.dumps(item.payload), parse_float=Decimal))), item


@pytest.mark.timeout(120 + FRAMES // 10)
@pytest.mark.parametrize(
    ("profile", "model", "connectors"), [("wemob", "wemob-station-dc60", 2), ("wallbox", "copper-sb", 1)]
)
async def test_generated_csms_frames_get_their_answers_and_the_station_carries_on(
    csms, make_daemon, profile: str, model: str, connectors: int
) -> None:
    daemon = make_daemon(csms, profile=profile, model=model, extra_profiles=["Reservation"], log_level="WARNING")
    await booted(csms, daemon, connectors)
    assert daemon.process is not None
    pid = daemon.process.pid
    await configure(csms, **STEADY_KEYS)
    if connectors > 1:  # a session under way on connector 2, for the requests that meet one
        await session_starts(csms, daemon, 2)
    before = await configuration(csms)
    profiles = before["SupportedFeatureProfiles"]["value"].split(",")
    served = {action for profile in (*profiles, "Security") for action in PROFILE_ACTIONS.get(profile, ())}
    json_data = {JSON_DATA_MESSAGE} if "SilentMode" in before else set()  # WEMOB DC models
    max_keys = int(before["GetConfigurationMaxKeys"]["value"])
    frames = probes(served, set(before) - set(STEADY_KEYS), {"WEG", "Wall Box Chargers"}, json_data, max_keys)
    tally = Tally()
    mark, started = len(csms.frames), time.monotonic()
    await asyncio.to_thread(fuzz, asyncio.get_running_loop(), csms, frames, tally)
    elapsed = time.monotonic() - started

    print(f"\nfuzz {model}: {tally.sent} frames in {elapsed:.1f} s ({tally.sent / elapsed:.0f} frames/s), seed {SEED}")
    print("fuzz: frames by kind: " + ", ".join(f"{k} {n}" for k, n in tally.by_kind.most_common()))
    print("fuzz: answers: " + ", ".join(f"{k} {n}" for k, n in tally.by_answer.most_common()))
    unasked = [f.raw for f in csms.frames[mark:] if f.direction == "in" and f.message_type in (CALLRESULT, CALLERROR)
               and f.unique_id not in tally.answerable]
    assert not tally.problems, f"{len(tally.problems)} wrong answers:\n" + "\n".join(tally.problems[:20])
    assert not unasked, f"answers to frames that deserve none: {unasked[:5]!r:.2000}"
    assert tally.sent >= FRAMES
    assert daemon.process.poll() is None and daemon.process.pid == pid, daemon.logs()[-3000:]
    assert csms.connections == 1, "the station lost its link during the fuzz"
    for trace in ("Traceback", "link task failed", "Logging error"):
        assert trace not in daemon.logs(), daemon.logs()[-5000:]

    await restore(csms, daemon, before)
    await eventually(connector_available(daemon), 30, "connector 1 Available after the fuzz")
    await session_completes(csms, daemon)
    assert (await daemon.status())["registration"] == "Accepted"
    assert daemon.process.poll() is None and daemon.process.pid == pid
