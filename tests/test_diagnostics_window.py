"""Which log entries a GetDiagnostics startTime and stopTime keep (pure functions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chargepoint.diagnostics.window import Window, frame_log_lines, moment, station_log_lines

T = datetime(2026, 12, 2, 10, 0, 0, tzinfo=UTC)


def _at(minute: int) -> datetime:
    return T.replace(minute=minute)


LOG = [
    "2026-12-02T10:00:00.000Z INFO a: boot\n",
    "2026-12-02T10:05:00.000Z ERROR b: failed\n",
    "Traceback (most recent call last):\n",  # belongs to the 10:05 entry
    "2026-12-02T10:10:00.000Z INFO c: later\n",
]


@pytest.mark.parametrize(
    ("window", "kept"),
    [
        (Window(), LOG),
        (Window(start=_at(5)), LOG[1:]),
        (Window(stop=_at(5)), LOG[:3]),
        (Window(_at(1), _at(9)), LOG[1:3]),
        (Window(_at(11), None), []),
    ],
)
def test_station_log_lines(window: Window, kept: list[str]) -> None:
    assert list(station_log_lines(LOG, window)) == kept


def test_frame_log_lines_keep_their_window_and_skip_what_is_not_a_frame() -> None:
    lines = [json.dumps({"time": f"2026-12-02T10:0{m}:00.000Z", "frame": [2, str(m)]}) for m in range(4)]
    assert list(frame_log_lines([*lines, "not json", "{}"], Window(_at(1), _at(2)))) == lines[1:3]


@pytest.mark.parametrize(
    ("window", "begin", "end", "overlaps"),
    [
        (Window(_at(5), _at(10)), _at(0), _at(4), False),
        (Window(_at(5), _at(10)), _at(0), _at(6), True),
        (Window(_at(5), _at(10)), _at(6), None, True),  # still running
        (Window(_at(5), _at(10)), _at(11), None, False),
        (Window(), _at(0), _at(1), True),
    ],
)
def test_a_transaction_is_kept_when_it_reaches_into_the_window(window, begin, end, overlaps) -> None:
    assert window.overlaps(begin, end) is overlaps


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("2026-12-02T10:00:00Z", T),
        ("2026-12-02T10:00:00", T),  # no offset: UTC (§3.14)
        ("2026-12-02T11:00:00+01:00", T),
        ("yesterday", None),
        (None, None),
    ],
)
def test_moment(text, parsed) -> None:
    assert moment(text) == parsed
