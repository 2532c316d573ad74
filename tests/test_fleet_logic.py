"""The fleet's pure parts: identities and shards, the mergeable histogram, summaries merged,
the seeded session plan, and the open-file budget."""

from __future__ import annotations

import itertools
import random
import resource

import pytest

from chargepoint.fleet.figures import Figures
from chargepoint.fleet.files import FDS_PER_STATION, holds, needed, raise_limit, target
from chargepoint.fleet.identities import BadPattern, identities, numbers
from chargepoint.fleet.latency import Histogram
from chargepoint.fleet.sessions import Timing, ev_power, plan
from chargepoint.fleet.summary import merge, summary


@pytest.mark.parametrize(
    ("count", "index", "first", "last"),
    [(5, 0, 1, 5), (5, 1, 6, 10), (1000, 3, 3001, 4000), (1, 0, 1, 1)],
)
def test_shard_index_runs_its_own_numbers(count: int, index: int, first: int, last: int) -> None:
    assert (numbers(count, index)[0], numbers(count, index)[-1], len(numbers(count, index))) == (first, last, count)


def test_shards_never_overlap() -> None:
    shards = [set(identities("CP-{n:04}", 7, index)) for index in range(4)]
    assert len(set().union(*shards)) == 28


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("CP-FIXED", "same identity"),
        ("CP-{x}", "name the station number as {n}"),
        ("CP-{n:q}", "name the station number as {n}"),
        ("site/{n}", "cannot name a data directory"),
        ("CP-{n}-" + "x" * 50, "1 to 48 printable characters"),
    ],
)
def test_bad_identity_patterns_say_why(pattern: str, says: str) -> None:
    with pytest.raises(BadPattern, match=r".*" + says.replace("{", r"\{").replace("}", r"\}")):
        identities(pattern, 3, 0)


def _exact(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)]


def test_percentiles_are_within_the_bucket_width_of_the_exact_ones() -> None:
    rng = random.Random(7)
    samples = [rng.lognormvariate(-5, 1) for _ in range(5000)]
    histogram = Histogram()
    for s in samples:
        histogram.add(s)
    for p in (50, 90, 99):
        assert _exact(samples, p) <= histogram.percentile(p) <= _exact(samples, p) * 1.05
    assert histogram.percentile(100) == max(samples)


def test_merged_histograms_equal_one_of_all_samples() -> None:
    rng = random.Random(3)
    fast = [rng.uniform(0.001, 0.01) for _ in range(900)]
    slow = [rng.uniform(0.5, 1.0) for _ in range(100)]
    parts = [Histogram(), Histogram()]
    whole = Histogram()
    for part, samples in zip(parts, (fast, slow)):
        for s in samples:
            part.add(s)
            whole.add(s)
    merged = Histogram.from_json(parts[0].to_json())
    merged.merge(Histogram.from_json(parts[1].to_json()))
    assert merged.to_json() == whole.to_json()
    # An average of the two pods' p99s (about 0.5 s) would hide that 1 in 10 calls took 0.5 s.
    assert merged.percentile(90) < 0.011 < 0.5 <= merged.percentile(99)


def _pod(index: int, latencies: list[float], errors: dict[str, int]) -> dict[str, object]:
    figures = Figures()
    for seconds in latencies:
        figures.round_trip("Heartbeat", seconds, None)
    figures.errors.update(errors)
    figures.frames = 2 * len(latencies)
    return summary(figures, {"stations": 10, "index": index})


def test_summaries_merge_counts_errors_and_histograms() -> None:
    merged = merge([_pod(0, [0.001] * 99, {"boot Rejected": 1}), _pod(1, [0.2], {"boot Rejected": 2, "connect failed: x": 1})])
    assert merged["shards"] == [0, 1] and merged["stations"] == 20 and merged["messages"] == 200
    assert merged["errors"] == {"boot Rejected": 3, "connect failed: x": 1}
    heartbeat = merged["actions"]["Heartbeat"]
    assert heartbeat["count"] == 100 and heartbeat["p50_ms"] <= 1.05 and heartbeat["max_ms"] == 200.0


@pytest.mark.parametrize("parts", [[{"stations": 1}], [_pod(0, [], {}), _pod(0, [], {})], ["text"]])
def test_merge_refuses_what_is_no_summary_or_a_shard_twice(parts: list[object]) -> None:
    with pytest.raises(ValueError):
        merge(parts)  # type: ignore[arg-type]


def test_a_callerror_counts_as_an_error_and_its_round_trip_a_timeout_only_as_an_error() -> None:
    figures = Figures()
    figures.round_trip("Authorize", 0.01, "InternalError")
    figures.round_trip("Authorize", 30.0, "Timeout")
    assert figures.errors == {"Authorize: CALLERROR InternalError": 1, "Authorize: timeout": 1}
    assert figures.latency["Authorize"].count == 1


def test_same_seed_same_sessions_and_another_seed_others() -> None:
    timing = Timing(idle_s=10, charge_s=60)
    first = list(itertools.islice(plan(5, "CP-0001", 1, timing), 20))
    assert first == list(itertools.islice(plan(5, "CP-0001", 1, timing), 20))
    assert first != list(itertools.islice(plan(6, "CP-0001", 1, timing), 20))
    assert first != list(itertools.islice(plan(5, "CP-0002", 1, timing), 20))
    assert all(0 <= s.idle_s <= 10 and 15 <= s.charge_s <= 60 for s in first)
    assert ev_power(5, "CP-0001") == ev_power(5, "CP-0001") != ev_power(5, "CP-0002")


INF = resource.RLIM_INFINITY


@pytest.mark.parametrize(
    ("stations", "soft", "hard", "expected"),
    [
        (10, 1024, 4096, 1024),  # enough already: unchanged
        (1000, 1024, 524288, needed(1000)),  # raised as far as needed
        (1000, 1024, 2048, 2048),  # capped by the hard limit
        (1000, 1024, INF, needed(1000)),
        (1000, INF, INF, INF),
    ],
)
def test_open_file_target(stations: int, soft: int, hard: int, expected: int) -> None:
    assert target(stations, soft, hard) == expected


def test_the_limit_is_raised_for_the_stations_and_restored_after() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != INF and hard < needed(200):
        pytest.skip(f"hard open-file limit {hard} is below what 200 stations need")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        assert raise_limit(200) is None
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == needed(200)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_hard_limit_too_low_names_how_many_stations_fit() -> None:
    assert holds(needed(160)) == 160 and holds(needed(160) - 1) == 159 and FDS_PER_STATION > 1
