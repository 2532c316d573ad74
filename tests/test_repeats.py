"""A repeating failure is logged once, then with a doubling gap, then once when it clears."""

from __future__ import annotations

import pytest

from chargepoint.infra.repeats import RepeatingFailure, span


def _lines(events: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """Feed (time, "fail" | "ok") to one limiter; the lines it asks for, with their time."""
    limiter = RepeatingFailure(first_reminder=30, longest_gap=120)
    said = []
    for now, event in events:
        line = limiter.failed(now, "cannot connect") if event == "fail" else limiter.recovered(now)
        if line is not None:
            said.append((now, line))
    return said


def _every_second(start: int, stop: int) -> list[tuple[float, str]]:
    return [(float(t), "fail") for t in range(start, stop)]


@pytest.mark.parametrize(
    ("events", "lines"),
    [
        ([], []),
        ([(0, "ok")], []),  # nothing was failing: nothing to say
        ([(0, "fail")], [(0, "cannot connect")]),
        ([(0, "fail"), (1, "ok")], [(0, "cannot connect"), (1, "after 1 failure in 1 s")]),
        (
            _every_second(0, 30),  # the first reminder is 30 s after the first failure
            [(0, "cannot connect")],
        ),
        (
            _every_second(0, 300),  # gaps 30, 60, 120, then capped at 120
            [
                (0, "cannot connect"),
                (30, "cannot connect (still failing, 31 times in 30 s)"),
                (90, "cannot connect (still failing, 91 times in 90 s)"),
                (210, "cannot connect (still failing, 211 times in 4 min)"),
            ],
        ),
        (
            [*_every_second(0, 40), (40, "ok"), *_every_second(41, 43)],  # a new run starts afresh
            [
                (0, "cannot connect"),
                (30, "cannot connect (still failing, 31 times in 30 s)"),
                (40, "after 40 failures in 40 s"),
                (41, "cannot connect"),
            ],
        ),
        ([(0, "fail"), (1000, "fail")], [(0, "cannot connect"), (1000, "cannot connect (still failing, 2 times in 17 min)")]),
    ],
)
def test_a_run_of_failures_is_told_once_then_less_and_less_often(
    events: list[tuple[float, str]], lines: list[tuple[float, str]]
) -> None:
    assert _lines(events) == lines


def test_a_day_of_failures_once_a_second_is_a_few_dozen_lines() -> None:
    limiter = RepeatingFailure()  # the station's own gaps: 30 s doubling to an hour
    said = [now for now in range(86_400) if limiter.failed(float(now), "no answer") is not None]
    assert len(said) < 40
    assert said[:4] == [0, 30, 90, 210]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (45, "45 s"), (119, "119 s"), (600, "10 min"), (7199, "120 min"), (7200, "2 h"), (86_400, "24 h")],
)
def test_durations_read_like_a_log(seconds: float, text: str) -> None:
    assert span(seconds) == text
